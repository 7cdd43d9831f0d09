import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import type { Effect, EffectKind } from '../../src/domain/effects.js';
import {
  DEFAULT_DIRECTORY_WORKER,
  type DirectoryWorkerOptions,
  PACE_SHARE,
  runDirectoryEffects,
} from '../../src/jobs/directory.js';
import { silentLogger } from '../../src/logger.js';
import type { Directory, EffectOutcome, EffectToApply } from '../../src/service/ports.js';
import { queueEffects } from '../../src/service/store.js';
import { describeEachEngine, queryRows } from '../support/engines.js';
import { addOrg, day, useService } from '../support/service.js';

const WRITES = { disable: 2, enable: 1 } as Record<EffectKind, number>;

/** A directory that only notes when (on the worker's clock) each effect reached it, and its writes. */
class ClockedDirectory implements Directory {
  readonly name = 'entra';
  readonly writesPerEffect = WRITES;
  readonly sent: { at: number; writes: number; id: number }[] = [];
  constructor(private readonly clock: () => Date) {}

  async apply(effects: readonly EffectToApply[]): Promise<Map<number, EffectOutcome>> {
    const at = this.clock().getTime();
    for (const e of effects) this.sent.push({ at, writes: WRITES[e.effect.kind], id: e.id });
    return new Map(effects.map((e) => [e.id, { ok: true, directoryId: `id-${e.id}` }]));
  }
}

/**
 * The pacer (issue 14): replicas share one write budget through the gate row, so however many
 * workers run, the writes they send over any window stay within the pace (writesPerSecond ×
 * PACE_SHARE) plus one pass's reservation ahead, and the queue drains at about that pace.
 */
describeEachEngine('the directory pacer', (ctx) => {
  const s = useService(ctx, {}, { directoryEffects: true });

  /** `n` accounts, each with one disable (2 writes) queued at day(1). */
  async function disables(n: number): Promise<void> {
    await addOrg(s.lifecycle, 'RXX');
    const at = day(1).toISOString();
    await s.db.db.execute(
      sql`insert into accounts (address, kind, status, home_org, given, family, created_at, status_changed_at)
          select 'pace.user' || n || '@nhs.net', 'person', 'inactive', 'RXX', 'Pace', 'User' || n,
                 ${at}::timestamptz, ${at}::timestamptz
          from generate_series(1, ${n}) as n`,
    );
    const rows = await queryRows<{ id: number; address: string }>(
      s.db.db,
      sql`select id, address from accounts order by id`,
    );
    const items = rows.map((a) => ({
      accountId: Number(a.id),
      effects: [{ kind: 'disable', address: a.address } satisfies Effect],
    }));
    await queueEffects(s.db.db, { now: day(1) }, { directoryEffects: true }, items);
  }

  /** Runs two workers at once per tick of `stepMs` on a shared injected clock until all is applied. */
  async function drain(options: DirectoryWorkerOptions, stepMs: number) {
    let clock = day(2);
    const directory = new ClockedDirectory(() => clock);
    const worker = () => runDirectoryEffects(s.db.db, directory, silentLogger(), () => clock, options);
    for (let tick = 0; tick < 2_000; tick++) {
      await Promise.all([worker(), worker()]);
      const [left] = await queryRows<{ n: number }>(
        s.db.db,
        sql`select count(*)::int as n from directory_effects where state <> 'applied'`,
      );
      if (left?.n === 0) break;
      clock = new Date(clock.getTime() + stepMs);
    }
    return { directory, start: day(2).getTime(), end: clock.getTime() };
  }

  /** The most writes sent in any window of `ms` (windows start at each send). */
  const busiest = (sent: ClockedDirectory['sent'], ms: number) =>
    Math.max(
      ...sent.map(({ at }) =>
        sent.filter((o) => o.at >= at && o.at < at + ms).reduce((n, o) => n + o.writes, 0),
      ),
    );

  it('keeps two workers together within the pace over every window, and drains at about the pace', async () => {
    await disables(60);
    const options = { ...DEFAULT_DIRECTORY_WORKER, writesPerSecond: 10, writeAheadMs: 1_000 };
    const pace = options.writesPerSecond * PACE_SHARE; // 9.5 writes a second
    const { directory, start, end } = await drain(options, 250);

    expect(new Set(directory.sent.map((o) => o.id)).size).toBe(60);
    const total = directory.sent.reduce((n, o) => n + o.writes, 0);
    expect(total).toBe(120);
    for (const seconds of [1, 2, 5, 10]) {
      const allowed = pace * (seconds + options.writeAheadMs / 1000);
      expect(busiest(directory.sent, seconds * 1000), `${seconds} s`).toBeLessThanOrEqual(allowed);
    }
    // Spread, not starved: 120 writes at 9.5 a second take about 12.6 s, less what was reserved ahead.
    const took = (end - start) / 1000;
    expect(took).toBeGreaterThanOrEqual(total / pace - options.writeAheadMs / 1000 - 0.25);
    expect(took).toBeLessThanOrEqual(total / pace + 1);
  });

  it('sends nothing more while the clock stands still once the reservation ahead is used', async () => {
    await disables(20);
    const options = { ...DEFAULT_DIRECTORY_WORKER, writesPerSecond: 10, writeAheadMs: 1_000 };
    const clock = day(2);
    const directory = new ClockedDirectory(() => clock);
    const worker = () => runDirectoryEffects(s.db.db, directory, silentLogger(), () => clock, options);
    for (let pass = 0; pass < 5; pass++) await Promise.all([worker(), worker()]);
    // 9.5 writes a second, 1 s ahead: four disables (8 writes), and no fifth (10).
    expect(directory.sent).toHaveLength(4);
    const [gate] = await queryRows<{ next_write_at: Date | string }>(
      s.db.db,
      sql`select next_write_at from directory_gate`,
    );
    expect(new Date(gate?.next_write_at ?? 0).getTime() - clock.getTime()).toBe(Math.ceil(8 / 0.0095));
  });

  it('takes an effect bigger than the reservation ahead when caught up, so nothing is stuck', async () => {
    await disables(2);
    // 0.95 writes a second, 1 s ahead: no disable (2 writes) ever fits, yet each goes in its turn.
    const options = { ...DEFAULT_DIRECTORY_WORKER, writesPerSecond: 1, writeAheadMs: 1_000 };
    const { directory } = await drain(options, 1_000);
    expect(directory.sent.map((o) => o.at - day(2).getTime())).toEqual([0, 3_000]);
  });

  it('claims nothing while a 429 has closed the gate', async () => {
    await disables(2);
    const clock = day(2);
    await s.db.db.execute(
      sql`insert into directory_gate (directory, available_at)
          values ('entra', ${new Date(clock.getTime() + 5_000).toISOString()}::timestamptz)`,
    );
    const directory = new ClockedDirectory(() => clock);
    await runDirectoryEffects(s.db.db, directory, silentLogger(), () => clock, DEFAULT_DIRECTORY_WORKER);
    expect(directory.sent).toEqual([]);
    const later = new Date(clock.getTime() + 5_000);
    await runDirectoryEffects(s.db.db, directory, silentLogger(), () => later, DEFAULT_DIRECTORY_WORKER);
    expect(directory.sent).toHaveLength(2);
  });
});
