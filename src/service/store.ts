import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/index.js';
import {
  accounts,
  auditLog,
  directoryEffects,
  organisations,
  outbox,
  roles,
  transferRequests,
} from '../../db/schema.js';
import { CLOCKS, deadline } from '../domain/clocks.js';
import type { Effect } from '../domain/effects.js';
import { refused } from '../domain/errors.js';
import type { Lapse } from '../domain/lapses.js';
import { type Notification, PAYLOAD_VERSIONS } from '../domain/notifications.js';
import type { Organisation } from '../domain/organisation.js';
import type { Policy } from '../domain/policy.js';
import { actorLabel, Principal, type RoleGrant } from '../domain/roles.js';
import type { Status } from '../domain/status.js';
import { type Decision, HOLDS_A_PLACE } from '../domain/transitions.js';
import { inIdList, insertMany } from './bulk-insert.js';
import type { RequestContext } from './context.js';

export type AccountRow = typeof accounts.$inferSelect;
export type Executor = Db | Tx;

/** The actor's roles, read inside the request's transaction. */
export async function loadPrincipal(db: Executor, ctx: RequestContext): Promise<Principal> {
  if (ctx.actor.kind !== 'person') return new Principal(ctx.actor, []);
  const rows = await db
    .select({ role: roles.role, org: roles.org })
    .from(roles)
    .where(eq(roles.address, ctx.actor.address));
  const grants: RoleGrant[] = rows.map((r) => ({ role: r.role, org: r.org === '' ? null : r.org }));
  return new Principal(ctx.actor, grants);
}

export async function findOrg(db: Executor, ods: string, lock = false): Promise<Organisation | null> {
  const query = db.select().from(organisations).where(eq(organisations.ods, ods));
  const [row] = lock ? await query.for('update') : await query;
  return row
    ? {
        ods: row.ods,
        name: row.name,
        kind: row.kind,
        dspt: row.dspt,
        directoryGroup: row.directoryGroup,
        cqcLocation: row.cqcLocation,
      }
    : null;
}

export async function getOrg(db: Executor, ods: string, lock = false): Promise<Organisation> {
  const org = await findOrg(db, ods, lock);
  if (!org) {
    throw refused(
      'ORG_NOT_FOUND',
      `No organisation with ODS code ${ods} is registered with the bot. Check the code; an operator adds organisations with "org add", and NAS registers community sites with "site register".`,
      { ods },
    );
  }
  return org;
}

/** Reads an account, locking its row for the rest of the transaction when asked. */
export async function getAccount(db: Executor, address: string, lock = false): Promise<AccountRow> {
  const query = db.select().from(accounts).where(eq(accounts.address, address));
  const [row] = lock ? await query.for('update') : await query;
  if (!row) {
    throw refused(
      'ACCOUNT_NOT_FOUND',
      `${address} is not an account the bot manages. Check the spelling; a new starter is created with "provision".`,
      { address },
    );
  }
  return row;
}

export interface AuditEntry {
  action: string;
  address?: string | null;
  org?: string | null;
  from?: Status | null;
  to?: Status | null;
  reason?: string | null;
  details?: Record<string, unknown>;
}

/** One append-only audit row, in the same transaction as the change it records. */
export async function audit(tx: Executor, ctx: RequestContext, entry: AuditEntry): Promise<void> {
  await tx.insert(auditLog).values(auditValues(ctx, entry));
}

/**
 * One audit row per account, alike but for each account's address and organisation (a sweep's
 * batch), in one statement: the shared values are bound once, and only the addresses and
 * organisations travel per row.
 */
export async function auditEach(
  tx: Executor,
  ctx: RequestContext,
  entry: Omit<AuditEntry, 'address' | 'org'>,
  accounts: ReadonlyArray<{ address: string; org: string }>,
): Promise<void> {
  if (accounts.length === 0) return;
  const row = auditValues(ctx, entry);
  const each = JSON.stringify(accounts.map(({ address, org }, n) => ({ n, address, org })));
  await tx.execute(sql`
    insert into ${auditLog} (at, actor, platform, action, address, org, from_status, to_status, reason, details)
    select ${row.at.toISOString()}::timestamptz, ${row.actor}, ${row.platform}::platform, ${row.action},
      c.address, c.org, ${row.fromStatus}::account_status, ${row.toStatus}::account_status, ${row.reason},
      ${row.details === null || row.details === undefined ? null : JSON.stringify(row.details)}::jsonb
    from jsonb_to_recordset(${each}::jsonb) as c(n int, address text, org text)
    order by c.n`);
}

export function auditValues(ctx: RequestContext, entry: AuditEntry): typeof auditLog.$inferInsert {
  return {
    at: ctx.now,
    actor: actorLabel(ctx.actor),
    platform: ctx.platform,
    action: entry.action,
    address: entry.address ?? null,
    org: entry.org ?? null,
    fromStatus: entry.from ?? null,
    toStatus: entry.to ?? null,
    reason: entry.reason ?? null,
    details: entry.details ?? null,
  };
}

export type { Notification };

/**
 * Queues notifications in the outbox, in the same transaction as the change that caused them: the
 * writer of outbox rows, so every row carries its kind's current payload version. (The sweep's
 * holder warnings are the one exception: recordWarnings in sweep.ts builds the same rows in SQL.)
 */
export async function enqueue(
  tx: Executor,
  ctx: Pick<RequestContext, 'now' | 'correlationId'>,
  notifications: Notification[],
): Promise<void> {
  if (notifications.length === 0) return;
  await insertMany(
    tx,
    outbox,
    notifications.map((n) => ({
      createdAt: ctx.now,
      correlationId: ctx.correlationId ?? null,
      kind: n.kind,
      audience: n.audience,
      // A typed payload is stored as the JSON object it is; the column is read back only through decodeNotification.
      payload: { ...n.payload },
      payloadVersion: PAYLOAD_VERSIONS[n.kind],
      availableAt: ctx.now,
    })),
  );
}

/** Stand-ins for an account's address and organisation in a notice template (never valid values). */
const ADDRESS_SLOT = '\u0000address';
const ORG_SLOT = '\u0000org';

/**
 * Queues each account's notifications (a sweep's batch: one notice per account, alike but for its
 * address and organisation) in one statement. The notices of a template account whose address and
 * organisation are placeholders travel once; PostgreSQL fills in each account's. The first
 * account's notices are checked against the template, and notices that are not alike that way
 * are queued one by one with `enqueue` instead, so the rows are always the ones enqueue writes.
 */
export async function enqueueEach(
  tx: Executor,
  ctx: Pick<RequestContext, 'now' | 'correlationId'>,
  notices: (account: { address: string; org: string }) => Notification[],
  accounts: ReadonlyArray<{ address: string; org: string }>,
): Promise<void> {
  const [first] = accounts;
  if (!first) return;
  const template = notices({ address: ADDRESS_SLOT, org: ORG_SLOT });
  if (template.length === 0) return;
  const fill = (json: string, account: { address: string; org: string }) =>
    json
      .replaceAll(JSON.stringify(ADDRESS_SLOT), JSON.stringify(account.address))
      .replaceAll(JSON.stringify(ORG_SLOT), JSON.stringify(account.org));
  const alike = JSON.stringify(notices(first)) === fill(JSON.stringify(template), first);
  if (!alike) {
    await enqueue(
      tx,
      ctx,
      accounts.flatMap((account) => notices(account)),
    );
    return;
  }
  const each = JSON.stringify(accounts.map(({ address, org }, n) => ({ n, address, org })));
  const kinds = JSON.stringify(
    template.map((t, k) => ({
      k,
      kind: t.kind,
      audience: JSON.stringify(t.audience),
      payload: JSON.stringify({ ...t.payload }),
      version: PAYLOAD_VERSIONS[t.kind],
    })),
  );
  const at = ctx.now.toISOString();
  const filled = (column: SQL) =>
    sql`replace(replace(${column}, ${JSON.stringify(ADDRESS_SLOT)}, to_jsonb(c.address)::text), ${JSON.stringify(ORG_SLOT)}, to_jsonb(c.org)::text)::jsonb`;
  await tx.execute(sql`
    insert into ${outbox} (created_at, correlation_id, kind, audience, payload, payload_version, available_at)
    select ${at}::timestamptz, ${ctx.correlationId ?? null}, t.kind, ${filled(sql`t.audience`)}, ${filled(sql`t.payload`)},
      t.version, ${at}::timestamptz
    from jsonb_to_recordset(${each}::jsonb) as c(n int, address text, org text)
    cross join jsonb_to_recordset(${kinds}::jsonb) as t(k int, kind text, audience text, payload text, version int)
    order by c.n, t.k`);
}

/** An account as every output shows it (the JSON of `status` and of any command returning an account). */
export interface AccountView {
  address: string;
  status: Status;
  org: string;
  orgName: string;
  kind: 'person' | 'shared';
  name: string | null;
  mobile: string | null;
  createdAt: string;
  firstLoginAt: string | null;
  mfaRegistered: boolean;
  lastActivityAt: string | null;
  /** When the 30-day activity rule makes an active account inactive. */
  activityExpiresAt: string | null;
  graceExpiresAt: string | null;
  inactiveSince: string | null;
  /** When a pending account becomes inactive unless its first login is completed. */
  pendingExpiresAt: string | null;
  /** While disabled: since when, why, and the return date given, if any. */
  disabledAt: string | null;
  disabledReason: string | null;
  disabledUntil: string | null;
  /** When an inactive account is deleted unless reactivated, or a disabled one unless enabled. */
  deleteAfter: string | null;
  deletedAt: string | null;
  /** Until when NAS can still restore a deleted account. */
  restoreUntil: string | null;
  purged: boolean;
  /** A leaving date from the HR feed: the account becomes a leaver then (grace starting then). */
  leavesAt: string | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function accountView(row: AccountRow, org: Organisation, policy: Policy): AccountView {
  const due = (clock: keyof typeof CLOCKS) => iso(deadline(CLOCKS[clock], row, policy));
  return {
    address: row.address,
    status: row.status,
    org: row.homeOrg,
    orgName: org.name,
    kind: row.kind,
    name: row.given !== null && row.family !== null ? `${row.given} ${row.family}` : null,
    mobile: row.mobileMasked,
    createdAt: row.createdAt.toISOString(),
    firstLoginAt: iso(row.firstLoginAt),
    mfaRegistered: row.mfaRegistered,
    lastActivityAt: iso(row.lastActivityAt),
    activityExpiresAt: due('inactivity'),
    graceExpiresAt: due('grace'),
    inactiveSince: row.status === CLOCKS.retention.status ? iso(row.inactiveSince) : null,
    pendingExpiresAt: due('pending'),
    disabledAt: iso(row.disabledAt),
    disabledReason: row.disabledReason,
    disabledUntil: iso(row.disabledUntil),
    deleteAfter: due('retention') ?? due('disabled'),
    deletedAt: row.status === CLOCKS.restore.status ? iso(row.deletedAt) : null,
    restoreUntil: due('restore'),
    purged: row.purgedAt !== null,
    leavesAt: iso(row.leavesAt),
  };
}

/** Accounts of an organisation that count against a site's cap: individual, pending, active or leaver. */
export const countsAgainstSiteCap = (ods: string) =>
  and(eq(accounts.homeOrg, ods), eq(accounts.kind, 'person'), inArray(accounts.status, [...HOLDS_A_PLACE]));

export const notYourOrganisation = (what: string, org: Organisation, who: string) =>
  refused(
    'NOT_YOUR_ORGANISATION',
    org.kind === 'gp-locum'
      ? `Only NAS administrators can ${what}: ${org.name} (${org.ods}) is the NAS-managed home of freelance GP locums. Contact the NAS GP-locum team (locumadmin@nhs.net).`
      : `You are not ${who} of ${org.name} (${org.ods}), so you cannot ${what}. Ask one of its local administrators or NAS ("contact" shows who).`,
    { org: org.ods },
  );

/**
 * A refusal to act on an account of an organisation the asker does not administer. It names the
 * organisation only to someone who may see it (or when it is the GP locums' national home): anyone
 * else learns no more than that the address is not theirs to change. `what(whose)` reads "mark RXX's staff as leavers" or "mark its staff…".
 */
export function notYourAccount(
  principal: Principal,
  address: string,
  home: Organisation,
  what: (whose: string) => string,
  who: string,
) {
  // GP locums' home is NAS's national organisation: naming it is what tells them whom to ask.
  if (principal.canView(home) || home.kind === 'gp-locum') {
    return notYourOrganisation(what(`${home.ods}'s`), home, who);
  }
  return refused(
    'NOT_YOUR_ORGANISATION',
    `You are not ${who} of the organisation ${address} belongs to, so you cannot ${what('its')}. Ask one of its local administrators or NAS ("contact" shows who).`,
  );
}

/** Where a decision's directory effects go: queued for the directory worker, or nowhere (ledger). */
export interface EffectQueue {
  /** True when a directory is configured; off, the bot records decisions only. */
  directoryEffects?: boolean | undefined;
}

/**
 * Queues directory effects for accounts in the caller's transaction, in the order given: the
 * worker applies an account's effects oldest first, after the change has committed. Answers the
 * queued effects' ids, in that order (none in ledger mode).
 */
export async function queueEffects(
  tx: Executor,
  ctx: Pick<RequestContext, 'now' | 'correlationId'>,
  queue: EffectQueue,
  items: Array<{ accountId: number; effects: readonly Effect[] }>,
): Promise<number[]> {
  if (!queue.directoryEffects) return [];
  const rows = items.flatMap(({ accountId, effects }) =>
    effects.map((effect) => ({
      accountId,
      kind: effect.kind,
      payload: effect,
      availableAt: ctx.now,
      createdAt: ctx.now,
      correlationId: ctx.correlationId ?? null,
    })),
  );
  if (rows.length === 0) return [];
  return insertMany(tx, directoryEffects, rows, { returning: 'id' });
}

/**
 * Persists a decision of the domain in the caller's transaction: the account's fields, its audit
 * row, the notifications it raises and its directory effects (when a directory is configured).
 * The row must be locked: the decision was made on what it held.
 */
export async function apply(
  tx: Executor,
  ctx: RequestContext,
  queue: EffectQueue,
  row: AccountRow,
  decision: Decision,
): Promise<AccountRow> {
  const [updated] = await tx.update(accounts).set(decision.set).where(eq(accounts.id, row.id)).returning();
  if (!updated) throw new Error(`account ${row.address} vanished while locked`);
  await audit(tx, ctx, {
    action: decision.audit.action,
    address: decision.address,
    org: decision.audit.org,
    from: decision.from,
    to: decision.to,
    reason: decision.audit.reason,
  });
  await enqueue(tx, ctx, decision.notifications);
  await queueEffects(tx, ctx, queue, [{ accountId: row.id, effects: decision.effects }]);
  return updated;
}

/**
 * Persists a lapse (`src/domain/lapses.ts`) for a claimed batch of due accounts: one UPDATE that
 * re-checks `due`, then each account's audit row and holder notice, and its open transfer
 * requests closed when the lapse ends them. Returns the accounts changed.
 */
export async function applyLapse(
  tx: Executor,
  ctx: RequestContext,
  queue: EffectQueue,
  policy: Policy,
  lapse: Lapse,
  ids: number[],
  due: SQL | undefined,
): Promise<Array<{ id: number; address: string; org: string }>> {
  const changed = await tx
    .update(accounts)
    .set(lapse.set(ctx.now))
    .where(and(inIdList(accounts.id, ids), due))
    .returning({ id: accounts.id, address: accounts.address, org: accounts.homeOrg });
  if (changed.length === 0) return changed;
  if (lapse.endsTransfers) {
    // A transfer still open when the account lapses must not complete on some later leaver.
    await tx
      .update(transferRequests)
      .set({ state: 'superseded' })
      .where(
        and(
          inIdList(
            transferRequests.accountId,
            changed.map((row) => row.id),
          ),
          eq(transferRequests.state, 'open'),
        ),
      );
  }
  await auditEach(
    tx,
    ctx,
    { action: lapse.action, from: lapse.from, to: lapse.to, reason: lapse.reason(policy) },
    changed,
  );
  await enqueueEach(tx, ctx, (account) => lapse.notice(account, policy), changed);
  await queueEffects(
    tx,
    ctx,
    queue,
    changed.map((row) => ({ accountId: row.id, effects: lapse.effects(row) })),
  );
  return changed;
}
