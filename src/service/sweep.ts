import { and, asc, eq, gt, lt, sql } from 'drizzle-orm';
import { rowsOf } from '../../db/index.js';
import { accounts, handledDeliveries, outbox, warningsSent } from '../../db/schema.js';
import { deadlineFrom } from '../domain/clocks.js';
import { refused } from '../domain/errors.js';
import { LAPSES, type Lapse, type SweepStep, WARNED_CLOCKS, type WarnedClock } from '../domain/lapses.js';
import { PAYLOAD_VERSIONS } from '../domain/notifications.js';
import { isSystemActor } from '../domain/roles.js';
import type { Status } from '../domain/status.js';
import { addDays, daysLeft } from '../domain/time.js';
import type { ServiceDeps } from './accounts.js';
import { inIdList } from './bulk-insert.js';
import { clockColumn, dueBetweenSql, dueBySql } from './clock-sql.js';
import type { RequestContext } from './context.js';
import { type DueReport, runDueHrChanges } from './hr-feed.js';
import { applyLapse, type Executor, enqueue } from './store.js';

/**
 * Accounts changed per transaction. Each batch costs the same few statements whatever its size, so
 * a large one costs little more than set-based SQL; its rows stay locked for the batch (well under
 * a second), and replicas share the work a batch at a time (FOR UPDATE SKIP LOCKED).
 */
export const LAPSE_BATCH = 5_000;
/** Accounts read per batch for warnings: each batch costs the same few statements, whatever its size. */
const WARNING_BATCH = 5_000;
/** How many individual changes a report lists; the counts are always complete. */
const REPORT_LIMIT = 500;

export type { SweepStep };

export interface SweepChange {
  address: string;
  org: string;
  step: SweepStep;
  from: Status;
  to: Status;
}

export interface QueuedWarning {
  address: string;
  org: string;
  clock: WarnedClock;
  thresholdDays: number;
  daysLeft: number;
  dueAt: string;
}

export interface SweepReport {
  dryRun: boolean;
  at: string;
  counts: Record<SweepStep | 'warnings' | 'hr-starters' | 'hr-leavers', number>;
  /** HR starters whose day came but who could not be provisioned (kept, and retried next sweep). */
  startersFailed: DueReport['startersFailed'];
  changes: SweepChange[];
  warnings: QueuedWarning[];
  /** True when more changes or warnings happened than the report lists. */
  truncated: boolean;
}

/**
 * The daily sweep: leavers past grace and idle accounts become inactive, inactive ones past
 * retention are deleted, deleted ones past the restore window are purged, and each due warning
 * is queued once. Idempotent, and safe to run on several processes at once: rows are claimed
 * with FOR UPDATE SKIP LOCKED and warnings are keyed by account, clock, deadline and threshold.
 */
export async function sweep(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { dryRun: boolean },
): Promise<SweepReport> {
  if (!isSystemActor(ctx.actor)) {
    throw refused(
      'OPERATOR_ONLY',
      'Only the operator and the scheduler run sweeps ("sweep" on the operator CLI).',
    );
  }
  const report: SweepReport = {
    dryRun: input.dryRun,
    at: ctx.now.toISOString(),
    counts: {
      'hr-starters': 0,
      'hr-leavers': 0,
      ...(Object.fromEntries(LAPSES.map((lapse) => [lapse.step, 0])) as Record<SweepStep, number>),
      warnings: 0,
    },
    startersFailed: [],
    changes: [],
    warnings: [],
    truncated: false,
  };
  const note = (change: SweepChange) => {
    report.counts[change.step]++;
    if (report.changes.length < REPORT_LIMIT) report.changes.push(change);
    else report.truncated = true;
  };
  // HR dates first: today's starters get their accounts, today's leavers start their grace.
  const hr = await runDueHrChanges(deps, ctx, input.dryRun);
  report.counts['hr-starters'] = hr.starters;
  report.counts['hr-leavers'] = hr.leavers;
  report.startersFailed = hr.startersFailed;
  for (const lapse of LAPSES) {
    const noteAll = (rows: Array<{ address: string; org: string }>) => {
      for (const row of rows) note({ ...row, step: lapse.step, from: lapse.from, to: lapse.to });
    };
    if (input.dryRun) {
      noteAll(
        await deps.db
          .select({ address: accounts.address, org: accounts.homeOrg })
          .from(accounts)
          .where(dueBySql(lapse.clock, deps.policy, ctx.now))
          .orderBy(asc(accounts.id)),
      );
      continue;
    }
    for (;;) {
      const changed = await runLapseBatch(deps, ctx, lapse);
      noteAll(changed);
      if (changed.length < LAPSE_BATCH) break;
    }
  }
  if (!input.dryRun) {
    // Platforms redeliver within minutes; a week of delivery ids is plenty to count a retry once.
    await deps.db.delete(handledDeliveries).where(lt(handledDeliveries.handledAt, addDays(ctx.now, -7)));
  }
  const byOrg = new Map<string, QueuedWarning[]>();
  await queueWarnings(deps, ctx, input.dryRun, (w) => {
    report.counts.warnings++;
    if (report.warnings.length < REPORT_LIMIT) report.warnings.push(w);
    else report.truncated = true;
    const list = byOrg.get(w.org) ?? [];
    list.push(w);
    byOrg.set(w.org, list);
  });
  if (!input.dryRun && byOrg.size > 0) {
    // Channels get one digest per organisation per run, not a message per warning.
    await enqueue(
      deps.db,
      ctx,
      [...byOrg].map(([org, items]) => ({
        kind: 'digest',
        audience: { type: 'org' as const, ods: org },
        payload: {
          org,
          at: ctx.now.toISOString(),
          items: items.sort((a, b) => a.dueAt.localeCompare(b.dueAt)),
        },
      })),
    );
  }
  return report;
}

async function runLapseBatch(deps: ServiceDeps, ctx: RequestContext, lapse: Lapse) {
  const due = dueBySql(lapse.clock, deps.policy, ctx.now);
  return deps.db.transaction(async (tx) => {
    // The batch is claimed in a statement of its own, so it is claimed once. As a subquery of the
    // UPDATE, PostgreSQL may re-run it per row (it did on freshly loaded, unanalysed data), and
    // then one statement changed every due account, not a batch.
    const claimed = await tx
      .select({ id: accounts.id })
      .from(accounts)
      .where(due)
      // In the clock's order, so its partial index gives the batch; ordered by id, PostgreSQL
      // walked the primary key until it had found a batch: the whole table when few are due.
      .orderBy(asc(clockColumn(lapse.clock)))
      .limit(LAPSE_BATCH)
      .for('update', { skipLocked: true });
    if (claimed.length === 0) return [];
    return applyLapse(
      tx,
      ctx,
      deps,
      deps.policy,
      lapse,
      claimed.map((row) => row.id),
      due,
    );
  });
}

/**
 * For each account and clock, the most urgent threshold already reached and not yet sent is
 * queued: a holder message and one for the organisation's channels. A less urgent warning is
 * never queued after a more urgent one for the same deadline. A batch of accounts costs four
 * statements, whatever its size: read the candidates, read what was sent them, record the
 * warnings (once, by the primary key of `warnings_sent`), queue the holders' messages.
 */
async function queueWarnings(
  deps: ServiceDeps,
  ctx: RequestContext,
  dryRun: boolean,
  onWarning: (w: QueuedWarning) => void,
): Promise<void> {
  const { policy } = deps;
  const now = ctx.now;
  for (const clock of WARNED_CLOCKS) {
    const thresholds = clock.warningDays(policy);
    const furthest = Math.max(0, ...thresholds);
    if (furthest === 0) continue;
    const candidates = dueBetweenSql(clock, policy, now, addDays(now, furthest));
    let afterId = 0;
    for (;;) {
      const { lastId, seen } = await deps.db.transaction(async (tx) => {
        const query = tx
          .select({
            id: accounts.id,
            address: accounts.address,
            org: accounts.homeOrg,
            start: clockColumn(clock),
          })
          .from(accounts)
          .where(and(candidates, gt(accounts.id, afterId)))
          .orderBy(asc(accounts.id))
          .limit(WARNING_BATCH);
        // Not locked: a warning is recorded once by the primary key of warnings_sent, so replicas
        // reading the same candidates queue it once between them; locking every candidate cost
        // a write per account on every run, a repeat sweep's as much as the first one's.
        const rows = await query;
        const sent = await sentThresholds(
          tx,
          clock.name,
          rows.map((r) => r.id),
        );
        const due: Array<{ accountId: number; warning: QueuedWarning }> = [];
        for (const row of rows) {
          const dueAt = deadlineFrom(clock, row.start ?? now, policy);
          const left = daysLeft(now, dueAt);
          const reached = thresholds.filter((t) => left <= t);
          if (reached.length === 0) continue;
          const threshold = Math.min(...reached);
          const already = sent.get(`${row.id}|${dueAt.toISOString()}`);
          if (already !== undefined && already <= threshold) continue;
          due.push({
            accountId: row.id,
            warning: {
              address: row.address,
              org: row.org,
              clock: clock.name,
              thresholdDays: threshold,
              daysLeft: left,
              dueAt: dueAt.toISOString(),
            },
          });
        }
        const queued = dryRun ? due : await recordWarnings(tx, ctx, due);
        for (const { warning } of queued) onWarning(warning);
        return { lastId: rows.at(-1)?.id, seen: rows.length };
      });
      if (seen < WARNING_BATCH || lastId === undefined) break;
      afterId = lastId;
    }
  }
}

/** The most urgent threshold already sent, per account and deadline. */
async function sentThresholds(tx: Executor, clock: WarnedClock, ids: number[]): Promise<Map<string, number>> {
  const sent = new Map<string, number>();
  if (ids.length === 0) return sent;
  const rows = await tx
    .select()
    .from(warningsSent)
    .where(and(eq(warningsSent.clock, clock), inIdList(warningsSent.accountId, ids)));
  for (const row of rows) {
    const key = `${row.accountId}|${row.dueAt.toISOString()}`;
    sent.set(key, Math.min(sent.get(key) ?? Number.POSITIVE_INFINITY, row.thresholdDays));
  }
  return sent;
}

/**
 * Records a batch's warnings and queues each holder's message, in one statement in the caller's
 * transaction; the warnings another sweep recorded first (a replica running at the same time) are
 * left to it. Answers the warnings this sweep recorded. The outbox rows are the ones `enqueue`
 * writes for a `warning` (its payload is the QueuedWarning, its current payload version), built in
 * SQL from the recorded rows: one statement instead of sending every warning back and forth.
 */
async function recordWarnings(
  tx: Executor,
  ctx: RequestContext,
  due: Array<{ accountId: number; warning: QueuedWarning }>,
): Promise<Array<{ accountId: number; warning: QueuedWarning }>> {
  if (due.length === 0) return [];
  const rows = JSON.stringify(
    due.map(({ accountId, warning }, n) => ({
      n,
      account_id: accountId,
      address: warning.address,
      org: warning.org,
      clock: warning.clock,
      threshold_days: warning.thresholdDays,
      days_left: warning.daysLeft,
      due_at: warning.dueAt,
    })),
  );
  const at = ctx.now.toISOString();
  const recorded = rowsOf<{ account_id: number }>(
    await tx.execute(sql`
      with w as (
        select * from jsonb_to_recordset(${rows}::jsonb) as w(n int, account_id int, address text, org text,
          clock text, threshold_days int, days_left int, due_at text)
      ),
      recorded as (
        insert into ${warningsSent} (account_id, clock, due_at, threshold_days, queued_at)
        select account_id, clock::warning_clock, due_at::timestamptz, threshold_days, ${at}::timestamptz
        from w order by n
        on conflict do nothing
        returning account_id, clock, due_at, threshold_days
      ),
      queued as (
        -- The holder's own warning; the organisation's channels get this run's digest instead.
        insert into ${outbox} (created_at, correlation_id, kind, audience, payload, payload_version, available_at)
        select ${at}::timestamptz, ${ctx.correlationId ?? null}, 'warning',
          jsonb_build_object('type', 'holder', 'address', w.address),
          jsonb_build_object('address', w.address, 'org', w.org, 'clock', w.clock,
            'thresholdDays', w.threshold_days, 'daysLeft', w.days_left, 'dueAt', w.due_at),
          ${PAYLOAD_VERSIONS.warning}, ${at}::timestamptz
        from w join recorded r on r.account_id = w.account_id and r.clock::text = w.clock
          and r.due_at = w.due_at::timestamptz and r.threshold_days = w.threshold_days
        order by w.n
      )
      select account_id from recorded`),
  );
  const ids = new Set(recorded.map((r) => Number(r.account_id)));
  return due.filter(({ accountId }) => ids.has(accountId));
}
