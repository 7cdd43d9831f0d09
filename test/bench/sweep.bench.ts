/**
 * Sweep cost at scale: `npm run bench:sweep` (optionally BENCH_SIZES=160000,1600000 BENCH_DUE=16000 BENCH_ORGS=100).
 * Uses DATABASE_URL/TEST_DATABASE_URL when set, otherwise starts an embedded PostgreSQL.
 * It seeds N active accounts of which DUE are past the 30-day activity rule and DUE more are in
 * the warning window, then times one sweep. The claim it checks: the cost follows DUE, not N.
 */
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { openDatabase, rowsOf } from '../../db/index.js';
import { migrate } from '../../db/migrate.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { createLifecycle } from '../../src/service/lifecycle.js';
import { CapturingDelivery } from '../support/service.js';
import { server } from './postgres-server.js';

const sizes = (process.env.BENCH_SIZES ?? '100000,400000').split(',').map(Number);
const due = Number(process.env.BENCH_DUE ?? '1000');
const ORGS = Number(process.env.BENCH_ORGS ?? '100');

async function run(): Promise<void> {
  const srv = await server();
  const rows: string[] = [];
  try {
    for (const n of sizes) {
      const name = `bench_${n}`;
      const admin = postgres(srv.url, { max: 1, onnotice: () => {} });
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.unsafe(`create database ${name}`);
      await admin.end();
      const url = new URL(srv.url);
      url.pathname = `/${name}`;
      const database = openDatabase({ engine: 'postgres', url: url.toString() });
      await migrate(database);
      const now = new Date('2026-11-23T05:00:00Z');
      const nowIso = now.toISOString();
      // Accounts spread over ORGS trusts, so digests are counted per organisation as in production.
      await database.db.execute(
        sql`insert into organisations (ods, name, kind, created_at)
            select 'RB' || o, 'Bench Trust ' || o, 'trust', ${nowIso}::timestamptz from generate_series(1, ${ORGS}) o`,
      );
      const seedStart = Date.now();
      // Most accounts were active yesterday; `due` are 31 days idle; `due` more are 25 days idle (warning window).
      await database.db.execute(sql`
        insert into accounts (address, kind, status, home_org, created_at, status_changed_at, last_activity_at, mfa_registered)
        select 'bench' || g || '@nhs.net', 'person', 'active', 'RB' || (1 + g % ${ORGS}), ${nowIso}::timestamptz, ${nowIso}::timestamptz,
               ${nowIso}::timestamptz - case when g <= ${due} then interval '31 days'
                                             when g <= ${2 * due} then interval '25 days'
                                             else interval '1 day' end,
               true
        from generate_series(1, ${n}) g`);
      await database.db.execute(sql`analyze accounts`);
      const seedMs = Date.now() - seedStart;
      const lifecycle = await createLifecycle({
        db: database.db,
        policy: DEFAULT_POLICY,
        delivery: new CapturingDelivery(),
      });
      const ctx = { actor: { kind: 'scheduler' } as const, platform: 'schedule' as const, now };
      const t0 = performance.now();
      const report = await lifecycle.sweep(ctx, { dryRun: false });
      const sweepMs = performance.now() - t0;
      const messages = rowsOf<{ kind: string; n: number }>(
        await database.db.execute(
          sql`select kind, count(*)::int as n from outbox group by kind order by kind`,
        ),
      );
      const digestMessages = messages.find((m) => m.kind === 'digest')?.n ?? 0;
      const holderMessages = messages.filter((m) => m.kind !== 'digest').reduce((a, m) => a + m.n, 0);
      const t1 = performance.now();
      const again = await lifecycle.sweep(ctx, { dryRun: false });
      const repeatMs = performance.now() - t1;
      rows.push(
        `${String(digestMessages).padStart(8)} ${String(holderMessages).padStart(8)} ${String(n).padStart(9)} ${String(report.counts.inactivity).padStart(9)} ${String(report.counts.warnings).padStart(9)} ${sweepMs.toFixed(0).padStart(9)} ${repeatMs.toFixed(0).padStart(10)} ${String(again.counts.inactivity + again.counts.warnings).padStart(8)} ${String(seedMs).padStart(8)}`,
      );
      await database.close();
      const cleanup = postgres(srv.url, { max: 1, onnotice: () => {} });
      await cleanup.unsafe(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    }
  } finally {
    await srv.stop();
  }
  console.log(
    `${ORGS} organisations, one subscribed channel each; digests = one channel message per organisation`,
  );
  console.log(' digests  holder DMs  accounts  inactive  warnings  sweep ms  repeat ms  changed  seed ms');
  for (const row of rows) console.log(row);
}

await run();
