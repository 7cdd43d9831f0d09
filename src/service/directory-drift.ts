import { count, desc, eq, isNotNull } from 'drizzle-orm';
import { z } from 'zod';
import {
  accounts,
  directoryEffects,
  directoryUsers,
  directoryDrift as driftLines,
  organisations,
  settings,
} from '../../db/schema.js';
import {
  type ComparedAccount,
  compareDirectory,
  DRIFT_KINDS,
  type DriftDetail,
  type DriftKind,
  type DriftLine,
  driftCounts,
} from '../domain/drift.js';
import { refused } from '../domain/errors.js';
import { isSystemActor } from '../domain/roles.js';
import type { ServiceDeps } from './accounts.js';
import type { RequestContext } from './context.js';
import { creationUnapplied } from './directory-effects.js';
import { DELTA_LINK_SETTING, groupHomes } from './directory-import.js';
import { markUnseen, mirrorPage, mirrorRound } from './directory-mirror.js';
import type { DirectoryReader } from './directory-reader.js';
import { whileReading } from './directory-reading.js';
import { type Executor, enqueue, getOrg, loadPrincipal } from './store.js';

/** Where the last drift round leaves its summary, for `directory drift`. */
export const DRIFT_RUN_SETTING = 'directory-drift-run';

/** How the round read the directory: every user, the changes since the stored deltaLink, or every user after Graph forgot it. */
export type DriftRoundKind = 'full' | 'changes' | 'resync';

export interface DriftSummary {
  at: string;
  round: DriftRoundKind;
  /** Entries read (a change round: changed and removed users only). */
  users: number;
  pages: number;
  counts: Record<DriftKind, number>;
  total: number;
  /** Lines not in the previous report, and lines of the previous report gone from this one. */
  new: number;
  settled: number;
  /** Whether the operators were told (the set of lines changed). */
  notified: boolean;
}

/** The stored summary, read back: a renamed key fails here, not as "undefined" in a reply. */
const SUMMARY = z.strictObject({
  at: z.string(),
  round: z.enum(['full', 'changes', 'resync']),
  users: z.int(),
  pages: z.int(),
  counts: z.strictObject(
    Object.fromEntries(DRIFT_KINDS.map((k) => [k, z.int()])) as Record<DriftKind, z.ZodInt>,
  ),
  total: z.int(),
  new: z.int(),
  settled: z.int(),
  notified: z.boolean(),
}) satisfies z.ZodType<DriftSummary>;

/**
 * A drift round (issue 15, point 3): reads the directory's changes since the stored deltaLink (or
 * every user, when none is stored, the mirror is empty, or Graph no longer knows the link) into
 * the mirror, reads each mapped organisation's group, compares the directory with the bot and
 * replaces the report in one transaction, with the operators' summary line when its set of lines
 * changed. Nothing is changed on the directory's word: no account, no audit row, no directory
 * effect. Run by the Graph job, or the operator.
 */
export async function directoryDrift(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { reader: DirectoryReader },
): Promise<DriftSummary> {
  if (!isSystemActor(ctx.actor)) {
    throw refused('OPERATOR_ONLY', 'The drift report is made by the Graph job or the operator.');
  }
  return whileReading(deps, 'the drift round', ctx.now, () => driftRound(deps, ctx, input));
}

async function driftRound(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { reader: DirectoryReader },
): Promise<DriftSummary> {
  const read = await readIntoMirror(deps, ctx, input.reader);
  const mapped = await deps.db
    .select({ ods: organisations.ods, group: organisations.directoryGroup })
    .from(organisations)
    .where(isNotNull(organisations.directoryGroup));
  const groups = await groupHomes(input.reader, mapped);

  // After a full round, which lists live users only: which of the others are restorable.
  const restorable = read.mirror.full ? await input.reader.deletedUsers() : new Set<string>();
  return deps.db.transaction(async (tx) => {
    if (read.mirror.full) await markUnseen(tx, read.mirror, restorable);
    await tx
      .insert(settings)
      .values({ key: DELTA_LINK_SETTING, value: read.deltaLink })
      .onConflictDoUpdate({ target: settings.key, set: { value: read.deltaLink } });
    const lines = compareDirectory({
      users: await tx
        .select({
          id: directoryUsers.id,
          address: directoryUsers.address,
          userPrincipalName: directoryUsers.userPrincipalName,
          given: directoryUsers.given,
          surname: directoryUsers.surname,
          accountEnabled: directoryUsers.accountEnabled,
          removed: directoryUsers.removed,
        })
        .from(directoryUsers),
      accounts: await comparedAccounts(tx),
      groups,
      mapped: new Set(mapped.map((m) => m.ods)),
    });
    const { round, users, pages } = read;
    const summary = await replaceReport(tx, ctx.now, lines, { round, users, pages });
    await tx
      .insert(settings)
      .values({ key: DRIFT_RUN_SETTING, value: JSON.stringify(summary) })
      .onConflictDoUpdate({ target: settings.key, set: { value: JSON.stringify(summary) } });
    return summary;
  });
}

/**
 * Reads a round of users into the mirror, a page a transaction: the changes since the stored
 * deltaLink, or every user when none is stored or the mirror is empty, or when Graph no longer
 * knows the link (`resync`: the change pages already written stand, as they are true).
 */
async function readIntoMirror(deps: ServiceDeps, ctx: RequestContext, reader: DirectoryReader) {
  const [stored] = await deps.db.select().from(settings).where(eq(settings.key, DELTA_LINK_SETTING));
  const [mirrored] = await deps.db.select({ n: count() }).from(directoryUsers);
  let link = stored && (mirrored?.n ?? 0) > 0 ? stored.value : null;
  let round: DriftRoundKind = link === null ? 'full' : 'changes';
  let users = 0;
  let pages = 0;
  for (;;) {
    const mirror = mirrorRound(ctx.now, link === null);
    let resync = false;
    for await (const step of reader.readUsers(link)) {
      if (step.kind === 'page') {
        pages++;
        users += step.entries.length;
        await deps.db.transaction((tx) => mirrorPage(tx, step.entries, mirror));
      } else if (step.kind === 'done') {
        return { round, users, pages, mirror, deltaLink: step.deltaLink };
      } else if (mirror.full) {
        throw refused(
          'GRAPH_ERROR',
          `Microsoft Graph restarted a full round of users while drift read it (${step.reason}). The next run starts again.`,
        );
      } else {
        deps.logger.warn(
          { reason: step.reason },
          'directory drift: Graph forgot the deltaLink, reading every user',
        );
        resync = true;
      }
    }
    if (!resync)
      throw refused('GRAPH_ERROR', 'Microsoft Graph ended the round of users without a deltaLink.');
    link = null;
    round = 'resync';
  }
}

/** Every account as drift compares it, with its create-user effect while queued or parked. */
async function comparedAccounts(tx: Executor): Promise<ComparedAccount[]> {
  const rows = await tx
    .select({
      id: accounts.id,
      address: accounts.address,
      kind: accounts.kind,
      status: accounts.status,
      homeOrg: accounts.homeOrg,
      given: accounts.given,
      family: accounts.family,
      directoryId: accounts.directoryId,
      purgedAt: accounts.purgedAt,
    })
    .from(accounts);
  const creating = await tx
    .select({ id: directoryEffects.id, accountId: directoryEffects.accountId, state: directoryEffects.state })
    .from(directoryEffects)
    .where(creationUnapplied())
    .orderBy(desc(directoryEffects.id));
  const effects = new Map<number, ComparedAccount['createEffect']>();
  for (const e of creating) {
    if (effects.has(e.accountId) || e.state === 'applied') continue;
    effects.set(e.accountId, { id: e.id, state: e.state });
  }
  return rows.map(({ purgedAt, ...a }) => ({
    ...a,
    purged: purgedAt !== null,
    createEffect: effects.get(a.id) ?? null,
  }));
}

/**
 * Replaces the report with `lines`, keeping `first_seen_at` for a line that persists, and queues the
 * operators' one summary line when the set of lines changed.
 */
async function replaceReport(
  tx: Executor,
  now: Date,
  lines: DriftLine[],
  read: { round: DriftRoundKind; users: number; pages: number },
): Promise<DriftSummary> {
  const before = new Map(
    (await tx.select({ key: driftLines.key, firstSeenAt: driftLines.firstSeenAt }).from(driftLines)).map(
      (r) => [r.key, r.firstSeenAt],
    ),
  );
  await tx.delete(driftLines);
  for (let i = 0; i < lines.length; i += 1000) {
    await tx.insert(driftLines).values(
      lines.slice(i, i + 1000).map((l) => ({
        key: l.key,
        kind: l.kind,
        address: l.address,
        directoryId: l.directoryId,
        org: l.org,
        detail: l.detail,
        firstSeenAt: before.get(l.key) ?? now,
        seenAt: now,
      })),
    );
  }
  const keys = new Set(lines.map((l) => l.key));
  const fresh = lines.filter((l) => !before.has(l.key)).length;
  const settled = [...before.keys()].filter((k) => !keys.has(k)).length;
  const counts = driftCounts(lines);
  const notified = fresh > 0 || settled > 0;
  if (notified) {
    await enqueue(tx, { now }, [
      {
        kind: 'directory-drift',
        audience: { type: 'operators' },
        payload: { total: lines.length, new: fresh, settled, counts },
      },
    ]);
  }
  return {
    at: now.toISOString(),
    ...read,
    counts,
    total: lines.length,
    new: fresh,
    settled,
    notified,
  };
}

/** A line of the report as `directory drift` shows it. */
export interface DriftReportLine {
  kind: DriftKind;
  address: string | null;
  directoryId: string | null;
  org: string | null;
  firstSeenAt: string;
  detail: DriftDetail;
}

export interface DriftReport {
  /** The last round, or null when none has run. */
  run: DriftSummary | null;
  org: string | null;
  lines: DriftReportLine[];
}

/**
 * `directory drift [--org ODS]`: the last report, as stored (Graph is not asked). The operator and
 * NAS see every line; a local administrator sees their own organisation's, naming it.
 */
export async function driftReport(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { org?: string | undefined },
): Promise<DriftReport> {
  const principal = await loadPrincipal(deps.db, ctx);
  const org = input.org === undefined ? null : await getOrg(deps.db, input.org);
  if (org === null && !principal.isNational) {
    throw refused(
      'NOT_YOUR_ORGANISATION',
      'The whole drift report is for the operator and NAS administrators. A local administrator sees their organisation’s lines: "directory drift --org ODS".',
    );
  }
  if (org !== null && !principal.canAdminister(org)) {
    throw refused(
      'NOT_YOUR_ORGANISATION',
      `Only ${org.ods}’s local administrators (and NAS) can see its drift report. Ask them ("contact").`,
      { org: org.ods },
    );
  }
  const [stored] = await deps.db.select().from(settings).where(eq(settings.key, DRIFT_RUN_SETTING));
  const run = stored ? SUMMARY.parse(JSON.parse(stored.value)) : null;
  const rows = await deps.db.select().from(driftLines).orderBy(driftLines.address, driftLines.directoryId);
  const order = (k: DriftKind) => DRIFT_KINDS.indexOf(k);
  const lines = rows
    .sort((x, y) => order(x.kind) - order(y.kind))
    .filter((r) => org === null || r.org === org.ods || r.detail.groups.includes(org.ods))
    .map((r) => ({
      kind: r.kind,
      address: r.address,
      directoryId: r.directoryId,
      org: r.org,
      firstSeenAt: r.firstSeenAt.toISOString(),
      detail: r.detail,
    }));
  return { run, org: org?.ods ?? null, lines };
}
