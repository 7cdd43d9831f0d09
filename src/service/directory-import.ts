import { and, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import { rowsOf } from '../../db/index.js';
import { accounts, auditLog, directoryUsers, organisations, settings } from '../../db/schema.js';
import { type AdoptedAccount, adoptionReason, decideAdoption, directoryAddress } from '../domain/adoption.js';
import { refused } from '../domain/errors.js';
import { isSystemActor } from '../domain/roles.js';
import type { ServiceDeps } from './accounts.js';
import type { RequestContext } from './context.js';
import { markUnseen, mirrorPage, mirrorRound } from './directory-mirror.js';
import type { DirectoryReader, DirectoryUser } from './directory-reader.js';
import { whileReading } from './directory-reading.js';
import { auditValues, type Executor, getOrg } from './store.js';

/** Where the import leaves the directory's deltaLink, for the change rounds of the drift report. */
export const DELTA_LINK_SETTING = 'directory-delta-link';
/** How many users a report lists by name; the counts are always complete. */
export const LIST_LIMIT = 1000;

export interface DirectoryImportInput {
  /** The directory to read (DIRECTORY=entra: adapters/directory/entra-reader.ts). */
  reader: DirectoryReader;
  /** Only the users in this organisation's group. */
  org?: string | undefined;
  dryRun: boolean;
  /** After each page, with the users read so far and the users the tenant (or the group) holds. */
  onProgress?: ((read: number, total: number) => void) | undefined;
}

export interface DirectoryImportReport {
  dryRun: boolean;
  org: string | null;
  /** Users read (with --org, those in its group). */
  users: number;
  /** Accounts made from directory users the bot did not have, by status. */
  adopted: number;
  active: number;
  inactive: number;
  /** Users whose address the bot already has: not duplicated; their directory id recorded. */
  matched: number;
  /** Users in no organisation's group: not adopted until their group is mapped (`org group`). */
  unplaced: number;
  refused: number;
  /** The users behind the counts, each list cut at LIST_LIMIT (see `truncated`). */
  details: {
    adopted: Array<{ address: string; org: string; status: AdoptedAccount['status'] }>;
    unplaced: Array<{ id: string; address: string | null; name: string | null }>;
    refused: Array<{ id: string; address: string | null; reason: string }>;
  };
  truncated: boolean;
  /** Whether the round's deltaLink was stored for the next change round (never in a dry run). */
  deltaLinkStored: boolean;
}

interface Placed {
  user: DirectoryUser;
  org: string;
  account: AdoptedAccount;
}

/**
 * `directory import [--org ODS] [--dry-run]` (issue 15): adopts the tenant's existing accounts.
 * Reads a full round of users, each placed in the organisation whose group (`org group`) holds it:
 * - a user whose address the bot already has is matched, never duplicated; its directory id is
 *   recorded when the bot had none;
 * - one the bot does not have becomes an account as domain/adoption.ts decides, audited
 *   `directory-import` with platform `directory`;
 * - one in no mapped group is reported unplaced, one that cannot be an account refused, with why.
 * Each page is written in one transaction, as sets (the accounts, then their audit rows), not a
 * transaction per user. Running it again changes nothing: everyone is matched. The round's
 * deltaLink is stored for the change rounds that follow. A dry run reads and decides the same,
 * and writes nothing.
 */
export async function importDirectory(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: DirectoryImportInput,
): Promise<DirectoryImportReport> {
  if (!isSystemActor(ctx.actor)) {
    throw refused('OPERATOR_ONLY', 'The directory is imported by the operator on the bot’s command line.');
  }
  // A dry run writes nothing, so it may read beside a drift round.
  if (input.dryRun) return importRound(deps, ctx, input);
  return whileReading(deps, 'directory import', ctx.now, () => importRound(deps, ctx, input));
}

async function importRound(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: DirectoryImportInput,
): Promise<DirectoryImportReport> {
  const only = input.org === undefined ? null : await getOrg(deps.db, input.org);
  if (only && only.directoryGroup === null) {
    throw refused(
      'NO_DIRECTORY_GROUP',
      `${only.ods} has no directory group, so the bot cannot tell which directory users are its own. Map it first: "org group --ods ${only.ods} --group OBJECT_ID" (the group's Object ID in the Entra admin centre).`,
    );
  }
  const mapped = await deps.db
    .select({ ods: organisations.ods, group: organisations.directoryGroup })
    .from(organisations)
    .where(only ? eq(organisations.ods, only.ods) : isNotNull(organisations.directoryGroup));
  const report: DirectoryImportReport = {
    dryRun: input.dryRun,
    org: only?.ods ?? null,
    users: 0,
    adopted: 0,
    active: 0,
    inactive: 0,
    matched: 0,
    unplaced: 0,
    refused: 0,
    details: { adopted: [], unplaced: [], refused: [] },
    truncated: false,
    deltaLinkStored: false,
  };
  const note = <K extends keyof DirectoryImportReport['details']>(
    list: K,
    entry: DirectoryImportReport['details'][K][number],
  ) => {
    const entries = report.details[list] as Array<typeof entry>;
    if (entries.length < LIST_LIMIT) entries.push(entry);
    else report.truncated = true;
  };
  const refuse = (user: DirectoryUser, address: string | null, reason: string) => {
    report.refused++;
    note('refused', { id: user.id, address, reason });
  };

  // Each user's organisation, by directory id: a user in two organisations' groups is refused.
  const homes = await groupHomes(input.reader, mapped);
  const signIns = await input.reader.signIns();
  const total = only ? homes.size : signIns.size;
  const dctx: RequestContext = { ...ctx, platform: 'directory' };
  // A dry run stores nothing, so it remembers the addresses it would have adopted itself.
  const seen = new Set<string>();
  let deltaLink: string | null = null;
  // Every user of every page goes into the directory mirror, placed or not: the stored deltaLink
  // covers the tenant, so the drift report's change rounds start from this picture of all of it.
  const mirror = mirrorRound(ctx.now, true);
  const decided = new Set<string>();
  const writers = new Writers(PAGES_IN_FLIGHT);

  try {
    for await (const step of readAhead(input.reader.readUsers(null))) {
      if (step.kind === 'resync') {
        throw refused(
          'GRAPH_ERROR',
          `Microsoft Graph restarted the round of users while the import read it (${step.reason}); nothing more was read. Run the import again: what was written stands and is matched.`,
        );
      }
      if (step.kind === 'done') {
        deltaLink = step.deltaLink;
        break;
      }
      // A user Graph lists again (a delta sequence may repeat one) is counted and decided once:
      // the later listing in a page wins, and one already decided in an earlier page is matched
      // there. Every listing still reaches the mirror.
      const latest = new Map<string, DirectoryUser>();
      for (const e of step.entries) if (e.kind === 'user') latest.set(e.id, e);
      const users = [...latest.values()].filter((u) => !decided.has(u.id));
      for (const u of users) decided.add(u.id);
      const considered = only ? users.filter((u) => homes.has(u.id)) : users;
      report.users += considered.length;
      const addresses = new Map<string, DirectoryUser>();
      for (const user of considered) {
        const address = directoryAddress(user.userPrincipalName);
        if ('reason' in address) refuse(user, user.userPrincipalName, address.reason);
        else addresses.set(address.address, user);
      }
      await writers.add(
        step.entries.map((e) => e.id),
        () =>
          writePage(deps.db, input.dryRun, async (tx, write) => {
            if (write) await mirrorPage(tx, step.entries, mirror);
            const known = new Map(
              addresses.size === 0
                ? []
                : (
                    await tx
                      .select({ address: accounts.address, directoryId: accounts.directoryId })
                      .from(accounts)
                      .where(inArray(accounts.address, [...addresses.keys()]))
                  ).map((a) => [a.address, a.directoryId]),
            );
            const toRecord: Array<{ address: string; id: string }> = [];
            const toRelink: Array<{ address: string; from: string; to: string }> = [];
            const toAdopt: Placed[] = [];
            // Accounts tied to a directory object deleted for good: the live user now holding the
            // address takes its place, as an account with no object is tied to it (audited).
            const gone = await goneForGood(
              tx,
              [...addresses].flatMap(([address, user]) => {
                const held = known.get(address) ?? null;
                return held !== null && held !== user.id ? [held] : [];
              }),
            );
            for (const [address, user] of addresses) {
              if (known.has(address) || seen.has(address)) {
                const held = known.get(address) ?? null;
                if (held !== null && held !== user.id && gone.has(held)) {
                  report.matched++;
                  toRelink.push({ address, from: held, to: user.id });
                  continue;
                }
                if (held !== null && held !== user.id) {
                  refuse(
                    user,
                    address,
                    `the bot has ${address} tied to another directory object (${held}): check which is this person's before changing either.`,
                  );
                  continue;
                }
                report.matched++;
                if (held === null && known.has(address)) toRecord.push({ address, id: user.id });
                continue;
              }
              const orgs = homes.get(user.id) ?? [];
              if (orgs.length === 0) {
                report.unplaced++;
                note('unplaced', { id: user.id, address, name: user.displayName });
                continue;
              }
              if (orgs.length > 1) {
                refuse(
                  user,
                  address,
                  `is in the groups of ${orgs.join(' and ')}: an account has one home organisation. Leave it in one group in Entra, then import again.`,
                );
                continue;
              }
              const decision = decideAdoption(user, signIns.get(user.id) ?? null, ctx.now);
              if (decision.kind === 'refused') {
                refuse(user, address, decision.reason);
                continue;
              }
              toAdopt.push({ user, org: orgs[0] ?? '', account: decision.account });
            }
            if (write) {
              await recordDirectoryIds(tx, toRecord);
              await relink(tx, dctx, toRelink);
            }
            const adopted = write
              ? await adopt(tx, dctx, toAdopt)
              : new Set(toAdopt.map((p) => p.account.address));
            for (const p of toAdopt) {
              if (!adopted.has(p.account.address)) {
                // Made by someone else (a `provision`) since the page was read: theirs stands.
                report.matched++;
                continue;
              }
              seen.add(p.account.address);
              report.adopted++;
              report[p.account.status]++;
              note('adopted', { address: p.account.address, org: p.org, status: p.account.status });
            }
            input.onProgress?.(report.users, Math.max(total, report.users));
          }),
      );
    }
    await writers.drain();
  } finally {
    // A failure leaves no page's transaction running behind it.
    await writers.settle();
  }
  if (deltaLink === null) {
    throw refused('GRAPH_ERROR', 'Microsoft Graph ended the round of users without a deltaLink.');
  }
  if (!input.dryRun) {
    const link = deltaLink;
    // Read before the transaction: users the round did not list are restorable or gone for good.
    const restorable = await input.reader.deletedUsers();
    await deps.db.transaction(async (tx) => {
      await markUnseen(tx, mirror, restorable);
      await tx
        .insert(settings)
        .values({ key: DELTA_LINK_SETTING, value: link })
        .onConflictDoUpdate({ target: settings.key, set: { value: link } });
    });
    report.deltaLinkStored = true;
  }
  return report;
}

/**
 * Pages written at once, each in its own transaction. PostgreSQL writes one on each of two
 * connections, using a second core while Node reads the next page (issue 15's benchmark: the
 * writes, not the reads, bound a first import). A delta round may list a user twice (Graph allows
 * duplicates in a sequence), so a page that shares a user with a page still being written waits
 * for it: two transactions never write the same row, and the later page's values win. PGlite,
 * with one connection, runs the transactions one after the other.
 */
const PAGES_IN_FLIGHT = 2;

/**
 * At most `limit` writes running, none sharing a key with another; `add` waits for its turn, and a
 * failure is thrown there or at `drain`.
 */
class Writers {
  private readonly running = new Map<Promise<void>, ReadonlySet<string>>();
  private failure: { error: unknown } | null = null;

  constructor(private readonly limit: number) {}

  async add(keys: readonly string[], write: () => Promise<void>): Promise<void> {
    this.throwIfFailed();
    const mine = new Set(keys);
    const blocked = () =>
      this.running.size >= this.limit ||
      [...this.running.values()].some((theirs) => keys.some((k) => theirs.has(k)));
    while (blocked()) await Promise.race(this.running.keys());
    this.throwIfFailed();
    const running: Promise<void> = write().then(
      () => {
        this.running.delete(running);
      },
      (error: unknown) => {
        this.running.delete(running);
        this.failure ??= { error };
      },
    );
    this.running.set(running, mine);
  }

  /** Waits for every write; throws the first failure. */
  async drain(): Promise<void> {
    await this.settle();
    this.throwIfFailed();
  }

  /** Waits for every write, whatever its outcome. */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running.keys());
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}

/**
 * The steps of a round, each asked for as soon as the one before is handed over: Graph prepares
 * the next page while this one is written, instead of the two waiting on each other.
 */
async function* readAhead<T>(steps: AsyncIterable<T>): AsyncGenerator<T> {
  const it = steps[Symbol.asyncIterator]();
  let next = it.next();
  try {
    for (;;) {
      const step = await next;
      if (step.done) return;
      next = it.next();
      // Awaited on the next turn; a failure while this page is written must not go unhandled.
      next.catch(() => {});
      yield step.value;
    }
  } finally {
    await it.return?.();
  }
}

/** One page's reads and writes in one transaction; in a dry run, the same reads and no writes. */
async function writePage(
  db: ServiceDeps['db'],
  dryRun: boolean,
  work: (tx: Executor, write: boolean) => Promise<void>,
): Promise<void> {
  if (dryRun) await work(db, false);
  else await db.transaction((tx) => work(tx, true));
}

/** The directory ids of matched accounts that had none, as one statement. */
async function recordDirectoryIds(tx: Executor, rows: Array<{ address: string; id: string }>): Promise<void> {
  if (rows.length === 0) return;
  const values = sql.join(
    rows.map((r) => sql`(${r.address}, ${r.id})`),
    sql`, `,
  );
  await tx.execute(sql`
    update ${accounts} set directory_id = v.id
    from (values ${values}) as v(address, id)
    where ${accounts.address} = v.address and ${accounts.directoryId} is null`);
}

/** Of `ids`, the directory objects the mirror has as deleted for good. */
async function goneForGood(tx: Executor, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await tx
    .select({ id: directoryUsers.id })
    .from(directoryUsers)
    .where(and(inArray(directoryUsers.id, ids), eq(directoryUsers.removed, 'deleted')));
  return new Set(rows.map((r) => r.id));
}

/** Ties accounts whose directory object was deleted for good to the live user holding the address. */
async function relink(
  tx: Executor,
  ctx: RequestContext,
  rows: Array<{ address: string; from: string; to: string }>,
): Promise<void> {
  for (const r of rows) {
    const [moved] = await tx
      .update(accounts)
      .set({ directoryId: r.to })
      .where(and(eq(accounts.address, r.address), eq(accounts.directoryId, r.from)))
      .returning({ homeOrg: accounts.homeOrg, status: accounts.status });
    if (!moved) continue;
    await tx.insert(auditLog).values(
      auditValues(ctx, {
        action: 'directory-relink',
        address: r.address,
        org: moved.homeOrg,
        from: moved.status,
        to: moved.status,
        reason: `its directory user ${r.from} was deleted for good; ${r.to} now holds the address`,
        details: { from: r.from, to: r.to },
      }),
    );
  }
}

/**
 * Inserts the accounts and their audit rows in one statement; the addresses actually made (one a
 * concurrent `provision` made first is left alone, and gets no audit row). The page travels as one
 * JSON parameter read by jsonb_to_recordset, not as 14 parameters a row: building and binding
 * 14,000 parameters a page cost more than the writes themselves (issue 15's benchmark).
 */
async function adopt(tx: Executor, ctx: RequestContext, placed: Placed[]): Promise<Set<string>> {
  if (placed.length === 0) return new Set();
  const page = JSON.stringify(
    placed.map(({ user, org, account }) => {
      const audit = auditValues(ctx, {
        action: 'directory-import',
        address: account.address,
        org,
        to: account.status,
        reason: adoptionReason(account),
        details: { directoryId: user.id, lastSignIn: account.firstLoginAt?.toISOString() ?? null },
      });
      return {
        address: account.address,
        home_org: org,
        status: account.status,
        given: account.given,
        family: account.family,
        first_login_at: account.firstLoginAt?.toISOString() ?? null,
        last_activity_at: account.lastActivityAt?.toISOString() ?? null,
        inactive_since: account.inactiveSince?.toISOString() ?? null,
        directory_id: user.id,
        reason: audit.reason,
        details: audit.details,
      };
    }),
  );
  const audit = auditValues(ctx, { action: 'directory-import' });
  const made = rowsOf<{ address: string }>(
    await tx.execute(sql`
      with page as (
        select * from jsonb_to_recordset(${page}::jsonb) as r(
          address text, home_org text, status account_status, given text, family text,
          first_login_at timestamptz, last_activity_at timestamptz, inactive_since timestamptz,
          directory_id text, reason text, details jsonb)
      ),
      made as (
        insert into ${accounts} (address, kind, status, home_org, given, family, created_at,
          status_changed_at, first_login_at, last_activity_at, inactive_since, directory_id)
        select address, 'person', status, home_org, given, family, ${ctx.now.toISOString()}::timestamptz,
          ${ctx.now.toISOString()}::timestamptz, first_login_at, last_activity_at, inactive_since, directory_id
        from page
        on conflict (address) do nothing
        returning address
      )
      insert into ${auditLog} (at, actor, platform, action, address, org, to_status, reason, details)
      select ${ctx.now.toISOString()}::timestamptz, ${audit.actor}, ${audit.platform}::platform,
        ${audit.action}, page.address, page.home_org, page.status, page.reason, page.details
      from page join made on made.address = page.address
      returning address`),
  );
  return new Set(made.map((r) => r.address));
}

/**
 * The organisations whose directory groups hold each user, by directory id: how the import places
 * users and how drift judges their membership. One round of each mapped group's members.
 */
export async function groupHomes(
  reader: Pick<DirectoryReader, 'groupMembers'>,
  mapped: ReadonlyArray<{ ods: string; group: string | null }>,
): Promise<Map<string, string[]>> {
  const homes = new Map<string, string[]>();
  for (const { ods, group } of mapped) {
    if (group === null) continue;
    for (const id of await reader.groupMembers(group)) {
      const list = homes.get(id);
      if (list) list.push(ods);
      else homes.set(id, [ods]);
    }
  }
  return homes;
}
