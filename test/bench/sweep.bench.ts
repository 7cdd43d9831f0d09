/**
 * Sweep cost at scale, as a ratio to set-based SQL doing the same work in the same run:
 *   npm run bench:sweep
 *   BENCH_SIZES=160000,1600000 BENCH_DUE=16000 BENCH_ORGS=100 npm run bench:sweep
 *   BENCH_SHAPES=activity,every-clock …   (also time a sweep with every clock due)
 * Uses DATABASE_URL/TEST_DATABASE_URL when set, otherwise starts an embedded PostgreSQL.
 *
 * For each size and shape (test/bench/sweep-seed.ts) one database is seeded and analysed, then
 * copied as a template for each measurement, so each starts from identical, cold data:
 * - the anchor, `test/bench/sweep-anchor.sql` (the shared brief's ../shared/perf/sweep-anchor.sql):
 *   the activity clock's work as set-based SQL. Its work equals the sweep's in the `activity` shape
 *   only, so the ratio is printed for that shape;
 * - the sweep, then the same sweep again (which must change nothing and queue nothing);
 * - a dry run, on a copy of its own (it must cost no more than the sweep).
 */
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { openDatabase, rowsOf } from '../../db/index.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { createLifecycle } from '../../src/service/lifecycle.js';
import type { SweepReport } from '../../src/service/sweep.js';
import { CapturingDelivery } from '../support/service.js';
import { server } from './postgres-server.js';
import { BENCH_NOW, createDatabase, dropDatabase, type SeedShape, seedSweepDatabase } from './sweep-seed.js';

const sizes = (process.env.BENCH_SIZES ?? '100000,400000').split(',').map(Number);
const due = Number(process.env.BENCH_DUE ?? '1000');
const ORGS = Number(process.env.BENCH_ORGS ?? '100');
const shapes = (process.env.BENCH_SHAPES ?? 'activity').split(',') as SeedShape[];
/** Anchor-and-sweep pairs per size (BENCH_REPEAT): the median ratio is printed, with the range. */
const REPEAT = Number(process.env.BENCH_REPEAT ?? '3');
const ANCHOR = readFileSync(new URL('./sweep-anchor.sql', import.meta.url), 'utf8').replaceAll(
  ":'now'",
  `'${BENCH_NOW.toISOString()}'`,
);

const ctx = { actor: { kind: 'scheduler' } as const, platform: 'schedule' as const, now: BENCH_NOW };

async function timeAnchor(url: string): Promise<number> {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    // Connected and checkpointed before the clock starts, as the sweep's connection is (createLifecycle reads first).
    await client`checkpoint`;
    const t0 = performance.now();
    await client.unsafe(ANCHOR);
    return performance.now() - t0;
  } finally {
    await client.end();
  }
}

async function timeSweep(url: string, dryRun: boolean) {
  const database = openDatabase({ engine: 'postgres', url });
  try {
    const lifecycle = await createLifecycle({
      db: database.db,
      policy: DEFAULT_POLICY,
      delivery: new CapturingDelivery(),
    });
    await database.db.execute(sql`checkpoint`);
    const t0 = performance.now();
    const report = await lifecycle.sweep(ctx, { dryRun });
    const ms = performance.now() - t0;
    if (dryRun) return { report, ms, repeatMs: 0, repeated: 0, digests: 0, holder: 0 };
    const messages = rowsOf<{ kind: string; n: number }>(
      await database.db.execute(sql`select kind, count(*)::int as n from outbox group by kind order by kind`),
    );
    const t1 = performance.now();
    const again = await lifecycle.sweep(ctx, { dryRun: false });
    const repeatMs = performance.now() - t1;
    return {
      report,
      ms,
      repeatMs,
      repeated: changedBy(again) + again.counts.warnings,
      digests: messages.find((m) => m.kind === 'digest')?.n ?? 0,
      holder: messages.filter((m) => m.kind !== 'digest').reduce((a, m) => a + m.n, 0),
    };
  } finally {
    await database.close();
  }
}

const changedBy = (r: SweepReport) =>
  r.counts.inactivity + r.counts['pending-expired'] + r.counts['disabled-ended'];

async function run(): Promise<void> {
  const srv = await server();
  const rows: string[] = [];
  const pad = (v: string | number, w: number) => String(v).padStart(w);
  try {
    for (const shape of shapes) {
      for (const n of sizes) {
        const seedName = `bench_seed_${n}`;
        const seedStart = Date.now();
        const seeded = await seedSweepDatabase(await createDatabase(srv.url, seedName), {
          n,
          due,
          orgs: ORGS,
          shape,
        });
        await seeded.close();
        const seedMs = Date.now() - seedStart;
        const copy = (name: string) => createDatabase(srv.url, name, seedName);
        // The anchor and the sweep in pairs, each pair on fresh copies: the median pair's ratio is
        // printed, with the range, since one run on a shared machine moves by ±20%.
        const pairs: Array<{ anchorMs: number; sweep: Awaited<ReturnType<typeof timeSweep>> }> = [];
        for (let r = 0; r < REPEAT; r++) {
          const anchorMs = await timeAnchor(await copy('bench_anchor'));
          const run = await timeSweep(await copy('bench_sweep'), false);
          pairs.push({ anchorMs, sweep: run });
          await dropDatabase(srv.url, 'bench_anchor');
          await dropDatabase(srv.url, 'bench_sweep');
        }
        const ratios = pairs.map((p) => p.sweep.ms / p.anchorMs).sort((a, b) => a - b);
        const median = ratios[Math.floor(ratios.length / 2)] ?? Number.NaN;
        const chosen = pairs.find((p) => p.sweep.ms / p.anchorMs === median) ?? pairs[0];
        if (!chosen) throw new Error('BENCH_REPEAT must be at least 1');
        const { anchorMs, sweep } = chosen;
        const dry = await timeSweep(await copy('bench_dry'), true);
        for (const name of ['bench_dry', seedName]) await dropDatabase(srv.url, name);
        const { report } = sweep;
        const range = ratios.length > 1 ? ` (${ratios[0]?.toFixed(2)}–${ratios.at(-1)?.toFixed(2)})` : '';
        const ratio = shape === 'activity' ? `${median.toFixed(2)}×${range}` : '—';
        rows.push(
          [
            pad(shape, 11),
            pad(n, 9),
            pad(report.counts.inactivity, 8),
            pad(report.counts['pending-expired'], 7),
            pad(report.counts['disabled-ended'], 8),
            pad(report.counts.warnings, 8),
            pad(sweep.digests, 7),
            pad(sweep.holder, 6),
            pad(anchorMs.toFixed(0), 9),
            pad(sweep.ms.toFixed(0), 8),
            pad(ratio, 18),
            pad(dry.ms.toFixed(0), 7),
            pad(sweep.repeatMs.toFixed(0), 9),
            pad(sweep.repeated, 7),
            pad(seedMs, 7),
          ].join(' '),
        );
        console.error(rows.at(-1));
      }
    }
  } finally {
    await srv.stop();
  }
  console.log(`${ORGS} organisations; digests = one channel message per organisation; times in ms`);
  console.log(
    '      shape  accounts inactive  never  disabled warnings digests holder anchor ms sweep ms  ratio (range)     dry ms repeat ms changed seed ms',
  );
  console.log('                      (idle→) (→inact) (548d→)');
  for (const row of rows) console.log(row);
}

await run();
