import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { PostgresRunCoordinator } from '../../src/jobs/run-coordinator.js';
import { describeEachEngine, queryRows } from '../support/engines.js';

const LEASE = 60_000;
const KEY = 'daily-sweep:2026-11-24T05:00:00.000Z';
const T = new Date('2026-11-24T05:00:00Z');
const at = (ms: number) => new Date(T.getTime() + ms);

/**
 * The claim on a scheduled fire, on both engines: one claimant while its lease is renewed; a
 * lapsed open claim taken over by exactly one process; a completed one never.
 */
describeEachEngine('the run coordinator’s leases', (ctx) => {
  /** Claimants sharing one clock that the test moves. */
  function claimants(n: number) {
    const clock = { now: T };
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const list = Array.from(
      { length: n },
      () => new PostgresRunCoordinator(ctx.db.db, { leaseMs: LEASE, logger, clock: () => clock.now }),
    );
    return { list, clock, lines };
  }

  const row = async (key = KEY) =>
    (
      await queryRows<{ claimed_by: string; lease_until: string | Date | null; completed_at: unknown }>(
        ctx.db.db,
        sql`select claimed_by, lease_until, completed_at from cron_runs where key = ${key}`,
      )
    )[0];

  it('claims a fire once, with a lease, and refuses another claimant while the lease lasts', async () => {
    const { list, clock } = claimants(2);
    const [a, b] = list as [PostgresRunCoordinator, PostgresRunCoordinator];
    expect(await a.claim(KEY)).toEqual({ claimed: true, previous: null });
    expect(new Date(String((await row())?.lease_until))).toEqual(at(LEASE));
    clock.now = at(LEASE - 1);
    expect(await b.claim(KEY)).toEqual({ claimed: false });
    expect(await a.claim(KEY)).toEqual({ claimed: false });
    expect((await row())?.claimed_by).toBe(a.processId);
  });

  it('renewal extends the lease by a full lease from now, so a renewed claim is not taken over', async () => {
    const { list, clock } = claimants(2);
    const [a, b] = list as [PostgresRunCoordinator, PostgresRunCoordinator];
    await a.claim(KEY);
    clock.now = at(LEASE * 0.8);
    expect(await a.renew(KEY)).toBe('renewed');
    expect(new Date(String((await row())?.lease_until))).toEqual(at(LEASE * 1.8));
    clock.now = at(LEASE * 1.5);
    expect(await b.claim(KEY)).toEqual({ claimed: false });
    clock.now = at(LEASE * 1.8 + 1);
    expect(await b.claim(KEY)).toEqual({ claimed: true, previous: { claimedBy: a.processId, claimedAt: T } });
  });

  it('lets exactly one of several claimants take over a lapsed claim', async () => {
    const { list, clock } = claimants(6);
    const [dead, ...others] = list as [PostgresRunCoordinator, ...PostgresRunCoordinator[]];
    await dead.claim(KEY);
    clock.now = at(LEASE + 1);
    const claims = await Promise.all(others.map((c) => c.claim(KEY)));
    const winners = claims.filter((c) => c.claimed);
    expect(winners).toEqual([{ claimed: true, previous: { claimedBy: dead.processId, claimedAt: T } }]);
    const winner = others[claims.indexOf(winners[0] ?? { claimed: false })];
    expect((await row())?.claimed_by).toBe(winner?.processId);
    // The taker's lease is a fresh one: nobody else gets it now.
    expect(await dead.claim(KEY)).toEqual({ claimed: false });
  });

  it('never takes over a completed claim, however old', async () => {
    const { list, clock } = claimants(2);
    const [a, b] = list as [PostgresRunCoordinator, PostgresRunCoordinator];
    await a.claim(KEY);
    await a.onComplete(KEY);
    clock.now = at(LEASE * 100);
    expect(await b.claim(KEY)).toEqual({ claimed: false });
    expect(await b.abandoned(['daily-sweep'])).toEqual([]);
    expect(await b.close(KEY)).toBe(false);
    expect((await row())?.claimed_by).toBe(a.processId);
  });

  it('reports a lost claim on renewal, and leaves completing it to the taker', async () => {
    const { list, clock, lines } = claimants(2);
    const [a, b] = list as [PostgresRunCoordinator, PostgresRunCoordinator];
    await a.claim(KEY);
    clock.now = at(LEASE + 1);
    await b.claim(KEY);
    expect(await a.renew(KEY)).toBe('lost');
    // a's run ends after all: the claim is b's, so a does not complete it.
    await a.onComplete(KEY);
    expect(await row()).toMatchObject({ claimed_by: b.processId, completed_at: null });
    expect(lines.filter((l) => String(l.msg).startsWith('lost the claim'))).toEqual([
      expect.objectContaining({ job: 'daily-sweep', key: KEY, processId: a.processId }),
    ]);
    expect(await b.renew(KEY)).toBe('renewed');
    await b.onComplete(KEY);
    expect((await row())?.completed_at).not.toBeNull();
    expect(await b.renew(KEY)).toBe('lost');
  });

  it('never lists as abandoned a run this process still holds, though its renewals have not reached the database', async () => {
    const { list, clock } = claimants(2);
    const [a, b] = list as [PostgresRunCoordinator, PostgresRunCoordinator];
    expect(await a.acquire(KEY)).toEqual({ claimed: true, previous: null });
    clock.now = at(LEASE + 1);
    expect(await a.abandoned(['daily-sweep'])).toEqual([]);
    expect((await b.abandoned(['daily-sweep'])).map((r) => r.key)).toEqual([KEY]);
    await a.onComplete(KEY);
    expect(await b.abandoned(['daily-sweep'])).toEqual([]);
  });

  it('keeps renewing a claim held through shouldRun, on the real clock, until the run completes', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const [holder, other] = [0, 1].map(
      () => new PostgresRunCoordinator(ctx.db.db, { leaseMs: 600, logger }),
    ) as [PostgresRunCoordinator, PostgresRunCoordinator];
    const key = `daily-sweep:${new Date().toISOString()}`;
    expect(await holder.shouldRun(key)).toBe(true);
    // Three leases later the claim is still live: it was renewed (every 200 ms).
    await new Promise((r) => setTimeout(r, 1_800));
    expect(await other.shouldRun(key)).toBe(false);
    expect(await other.abandoned(['daily-sweep'])).toEqual([]);
    await holder.onComplete(key);
    expect((await row(key))?.completed_at).not.toBeNull();
    expect(lines).toEqual([]);
  });

  it('lists lapsed open claims of the named jobs, and lets a claim from before leases lapse one lease after it was made', async () => {
    const { list, clock } = claimants(1);
    const [c] = list as [PostgresRunCoordinator];
    await ctx.db.db.execute(sql`
      insert into cron_runs (key, claimed_by, claimed_at, lease_until, completed_at) values
        ('daily-sweep:2026-11-23T05:00:00.000Z', 'old-host:1', ${at(-3_600_000).toISOString()}::timestamptz, null, null),
        ('pending-reminders:2026-11-24T04:00:00.000Z', 'old-host:1', ${at(-60_000).toISOString()}::timestamptz, ${at(-1).toISOString()}::timestamptz, null),
        ('graph-sign-ins:2026-11-24T04:17:00.000Z', 'old-host:1', ${at(-60_000).toISOString()}::timestamptz, ${at(-1).toISOString()}::timestamptz, null),
        ('daily-sweep:2026-11-24T05:00:00.000Z', 'live-host:1', ${T.toISOString()}::timestamptz, null, null),
        ('daily-sweep:2026-11-22T05:00:00.000Z', 'old-host:1', ${at(-90_000_000).toISOString()}::timestamptz, null, ${at(-89_000_000).toISOString()}::timestamptz)`);
    const abandoned = await c.abandoned(['daily-sweep', 'pending-reminders']);
    expect(abandoned.map((r) => [r.key, r.claimedBy])).toEqual([
      ['daily-sweep:2026-11-23T05:00:00.000Z', 'old-host:1'],
      ['pending-reminders:2026-11-24T04:00:00.000Z', 'old-host:1'],
    ]);
    // The pre-lease claim made at T is live until T + lease.
    expect(await c.claim(KEY)).toEqual({ claimed: false });
    clock.now = at(LEASE + 1);
    expect((await c.abandoned(['daily-sweep'])).map((r) => r.key)).toContain(KEY);
    expect(await c.claimedAfter(['daily-sweep'], at(-3_600_000))).toBe(true);
    expect(await c.claimedAfter(['daily-sweep'], T)).toBe(false);
    expect(await c.close('daily-sweep:2026-11-23T05:00:00.000Z')).toBe(true);
    expect(await c.claim(KEY)).toMatchObject({ claimed: true, previous: { claimedBy: 'live-host:1' } });
    expect((await c.abandoned(['daily-sweep'])).map((r) => r.key)).toEqual([]);
  });
});
