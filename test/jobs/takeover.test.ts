import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { type ScheduledJob, type Scheduler, startScheduler } from '../../src/jobs/scheduler.js';
import { createLifecycle } from '../../src/service/lifecycle.js';
import { until } from '../support/bot-child.js';
import { createTestDatabase, queryRows, type TestDatabase } from '../support/engines.js';
import { seedIdleAccounts } from '../support/idle-accounts.js';
import { CapturingDelivery } from '../support/service.js';

const NEVER_SOON = '0 0 1 1 *';
const LEASE = 1_000;
const IDLE = 60;

type Line = Record<string, unknown>;

/**
 * Runs abandoned by a dead process, on PostgreSQL with the real clock: taken over at start or by a
 * running process's periodic look, once, and run to the end; never a live one.
 */
describe('taking over abandoned scheduled runs', { timeout: 60_000 }, () => {
  let test: TestDatabase;
  const schedulers: Scheduler[] = [];

  beforeAll(async () => {
    test = await createTestDatabase('postgres');
  });
  beforeEach(async () => {
    await test.reset();
  });
  afterEach(async () => {
    for (const s of schedulers.splice(0)) await s.stop();
  });
  afterAll(async () => {
    await test.close();
  });

  const db = () => test.database.db;

  /** A bot process as far as the schedules go; its log lines are collected in `lines`. */
  async function schedule(
    lines: Line[],
    options: { catchUp?: boolean; sweep?: string; jobs?: ScheduledJob[] } = {},
  ): Promise<Scheduler> {
    const lifecycle = await createLifecycle({
      db: db(),
      policy: DEFAULT_POLICY,
      delivery: new CapturingDelivery(),
    });
    const scheduler = startScheduler({
      db: db(),
      lifecycle,
      logger: pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) }),
      schedules: { sweep: options.sweep ?? NEVER_SOON, reminders: NEVER_SOON, delivery: NEVER_SOON },
      timezone: 'Europe/London',
      notifiers: [],
      catchUp: options.catchUp ?? true,
      leaseMs: LEASE,
      jobs: options.jobs ?? [],
    });
    schedulers.push(scheduler);
    return scheduler;
  }

  const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
  /** A claim as a process killed mid-run leaves it: open, its lease lapsing at `leaseUntil`. */
  const claim = (
    key: string,
    claimedAt: string,
    leaseUntil: string | null,
    completedAt: string | null = null,
  ) =>
    db().execute(sql`
      insert into cron_runs (key, claimed_by, claimed_at, lease_until, completed_at)
      values (${key}, 'dead-host:1', ${claimedAt}::timestamptz, ${leaseUntil}::timestamptz, ${completedAt}::timestamptz)`);
  const runs = () =>
    queryRows<{ key: string; claimed_by: string; completed: boolean }>(
      db(),
      sql`select key, claimed_by, completed_at is not null as completed from cron_runs order by key`,
    );
  const counts = async () =>
    (
      await queryRows<{ inactive: number; audit: number; audited: number }>(
        db(),
        sql`select (select count(*)::int from accounts where status = 'inactive') as inactive,
                   (select count(*)::int from audit_log where action = 'inactivity') as audit,
                   (select count(distinct address)::int from audit_log where action = 'inactivity') as audited`,
      )
    )[0];
  const said = (lines: Line[], start: string) => lines.filter((l) => String(l.msg).startsWith(start));

  it('takes over a dead process’s sweep at start, on one of two processes, and finishes it once', async () => {
    await seedIdleAccounts(db(), IDLE);
    // Yesterday's sweep completed: the catch-up has nothing to do, only the takeover can sweep.
    await claim('daily-sweep:2026-11-23T05:00:00.000Z', ago(26 * 3_600_000), null, ago(2 * 3_600_000));
    const abandoned = `daily-sweep:${ago(600_000)}`;
    await claim(abandoned, ago(600_000), ago(300_000));

    const a: Line[] = [];
    const b: Line[] = [];
    const started = [await schedule(a), await schedule(b)];
    await Promise.all(started.map((s) => s.startUp));

    const both = [...a, ...b];
    expect(said(both, 'took over a scheduled run')).toEqual([
      expect.objectContaining({ job: 'daily-sweep', key: abandoned, previousClaimant: 'dead-host:1' }),
    ]);
    expect(said(both, 'sweep finished')).toHaveLength(1);
    expect(said(both, 'caught up')).toEqual([]);
    expect(await counts()).toEqual({ inactive: IDLE, audit: IDLE, audited: IDLE });
    const run = (await runs()).find((r) => r.key === abandoned);
    expect(run?.completed).toBe(true);
    expect(run?.claimed_by).not.toBe('dead-host:1');
  });

  it('resumes before the catch-up looks, so a resumed sweep counts for its 25 hours', async () => {
    await seedIdleAccounts(db(), IDLE);
    // No sweep completed for days, and the last one was killed.
    await claim(`daily-sweep:${ago(3_600_000)}`, ago(3_600_000), ago(3_500_000));
    const lines: Line[] = [];
    await (await schedule(lines)).startUp;
    expect(said(lines, 'took over a scheduled run')).toHaveLength(1);
    expect(said(lines, 'sweep finished')).toHaveLength(1);
    expect(said(lines, 'caught up')).toEqual([]);

    const next: Line[] = [];
    await (await schedule(next)).startUp;
    expect(said(next, 'sweep finished')).toEqual([]);
    expect(await counts()).toEqual({ inactive: IDLE, audit: IDLE, audited: IDLE });
  });

  it('takes over on a running process once the lease lapses, not before', async () => {
    await seedIdleAccounts(db(), IDLE);
    // Its process died a moment ago: the lease has two seconds to run.
    const abandoned = `daily-sweep:${ago(0)}`;
    await claim(abandoned, ago(0), new Date(Date.now() + 2_000).toISOString());
    const lines: Line[] = [];
    await (await schedule(lines, { catchUp: false })).startUp;
    expect(said(lines, 'took over')).toEqual([]);
    expect((await counts())?.inactive).toBe(0);

    await until(() => said(lines, 'sweep finished').length > 0, 20_000);
    const [taken] = said(lines, 'took over a scheduled run');
    expect(taken).toMatchObject({ key: abandoned, previousClaimant: 'dead-host:1' });
    expect(Number(taken?.time)).toBeGreaterThanOrEqual(
      new Date(String(taken?.previousClaimedAt)).getTime() + 2_000,
    );
    expect(await counts()).toEqual({ inactive: IDLE, audit: IDLE, audited: IDLE });
    // Later looks find nothing more to do.
    await new Promise((r) => setTimeout(r, 3 * LEASE));
    expect(said(lines, 'sweep finished')).toHaveLength(1);
  });

  it('runs a job once for all its abandoned runs, and closes the runs a later run covers', async () => {
    await seedIdleAccounts(db(), IDLE);
    await claim('daily-sweep:2026-11-20T05:00:00.000Z', ago(80 * 3_600_000), ago(79 * 3_600_000));
    const catchUp = `catch-up-sweep:${ago(3_600_000).slice(0, 13)}`;
    await claim(catchUp, ago(3_600_000), ago(3_500_000));
    // Reminders: an abandoned fire, then a later fire that completed.
    await claim('pending-reminders:2026-11-20T10:00:00.000Z', ago(79 * 3_600_000), ago(78 * 3_600_000));
    await claim(
      'pending-reminders:2026-11-21T10:00:00.000Z',
      ago(55 * 3_600_000),
      ago(54 * 3_600_000),
      ago(54 * 3_600_000),
    );
    const lines: Line[] = [];
    await (await schedule(lines, { catchUp: false })).startUp;

    expect(said(lines, 'sweep finished')).toHaveLength(1);
    expect(said(lines, 'reminders queued')).toEqual([]);
    expect(said(lines, 'took over a scheduled run').map((l) => l.key)).toEqual([catchUp]);
    expect(said(lines, 'closed an abandoned scheduled run').map((l) => l.key)).toEqual([
      'daily-sweep:2026-11-20T05:00:00.000Z',
      'pending-reminders:2026-11-20T10:00:00.000Z',
    ]);
    expect((await runs()).every((r) => r.completed)).toBe(true);
    expect(await counts()).toEqual({ inactive: IDLE, audit: IDLE, audited: IDLE });
  });

  it('does not count a closed run as a sweep: with none done for 25 hours, the catch-up still sweeps', async () => {
    await seedIdleAccounts(db(), IDLE);
    // A claim from before leases, long abandoned, and the last sweep that ran, 30 hours ago.
    await claim('daily-sweep:2026-11-20T05:00:00.000Z', ago(80 * 3_600_000), null);
    await claim('daily-sweep:2026-11-21T05:00:00.000Z', ago(30 * 3_600_000), null, ago(29.9 * 3_600_000));
    const lines: Line[] = [];
    await (await schedule(lines)).startUp;
    expect(said(lines, 'closed an abandoned scheduled run').map((l) => l.key)).toEqual([
      'daily-sweep:2026-11-20T05:00:00.000Z',
    ]);
    expect(said(lines, 'took over')).toEqual([]);
    expect(said(lines, 'caught up a missed sweep at start')).toHaveLength(1);
    expect(await counts()).toEqual({ inactive: IDLE, audit: IDLE, audited: IDLE });
  });

  it('never takes over a run whose process is alive and renewing, however long it runs', async () => {
    const ran: string[] = [];
    /** A job of an adapter (as the Graph poll is) that runs for several leases. */
    const slow = (who: string, expression: string): ScheduledJob => ({
      name: 'slow-poll',
      expression,
      distributed: true,
      run: async () => {
        ran.push(`${who} started`);
        await new Promise((r) => setTimeout(r, 3.5 * LEASE));
        ran.push(`${who} finished`);
      },
    });
    const a: Line[] = [];
    const b: Line[] = [];
    await schedule(a, { catchUp: false, jobs: [slow('a', '* * * * * *')] });
    await schedule(b, { catchUp: false, jobs: [slow('b', NEVER_SOON)] });
    await until(() => ran.includes('a finished'), 20_000);
    for (const s of schedulers.splice(0)) await s.stop();

    expect(ran.filter((r) => r.startsWith('b'))).toEqual([]);
    expect(said([...a, ...b], 'took over')).toEqual([]);
    expect(said([...a, ...b], 'lost the claim')).toEqual([]);
    expect((await runs()).filter((r) => r.key.startsWith('slow-poll:')).every((r) => r.completed)).toBe(true);
  });
});
