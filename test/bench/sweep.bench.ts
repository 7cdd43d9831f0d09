/**
 * Sweep cost at scale: `npm run bench:sweep` (optionally BENCH_SIZES=160000,1600000 BENCH_DUE=16000 BENCH_ORGS=100).
 * Uses DATABASE_URL/TEST_DATABASE_URL when set, otherwise starts an embedded PostgreSQL.
 * It seeds N accounts of which DUE are past a clock (the 30-day activity rule, a pending account's
 * 30 days, a disabled account's 548) and DUE more are in a warning window, with pending and
 * disabled accounts that are not due among the rest; then times one sweep. The claim it checks:
 * the cost follows DUE, not N.
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
      // Every clock that changes an account has work due, and a population that is not due, so the
      // claim covers them all (issue 16 added pending and disabled). Of the `due` accounts: half are
      // 31 days idle (inactivity), a quarter pending 31 days (never used), a quarter disabled 549
      // days (past 18 months). `due` more sit in a warning window the same way. Of the rest, one in
      // twenty is disabled (100 days, due back in 300), one in twenty pending since 2 days, and
      // the others were active yesterday.
      const kind = sql`case
          when g <= ${due} / 2 then 'idle-due'
          when g <= ${due} * 3 / 4 then 'pending-due'
          when g <= ${due} then 'disabled-due'
          when g <= ${due} * 3 / 2 then 'idle-warn'
          when g <= ${due} * 7 / 4 then 'pending-warn'
          when g <= ${due} * 2 then 'disabled-warn'
          when g % 20 = 0 then 'disabled'
          when g % 20 = 1 then 'pending'
          else 'active' end`;
      await database.db.execute(sql`
        with seeded as (select g, ${kind} as k from generate_series(1, ${n}) g)
        insert into accounts (address, kind, status, home_org, created_at, status_changed_at, first_login_at,
                              last_activity_at, disabled_at, disabled_reason, disabled_until, mfa_registered)
        select 'bench' || g || '@nhs.net', 'person',
               (case when k like 'pending%' then 'pending' when k like 'disabled%' then 'disabled' else 'active' end)::account_status,
               'RB' || (1 + g % ${ORGS}),
               ${nowIso}::timestamptz - case k when 'pending-due' then interval '31 days'
                                               when 'pending-warn' then interval '25 days'
                                               when 'pending' then interval '2 days'
                                               else interval '600 days' end,
               ${nowIso}::timestamptz - case k when 'pending-due' then interval '31 days'
                                               when 'pending-warn' then interval '25 days'
                                               when 'pending' then interval '2 days'
                                               when 'disabled-due' then interval '549 days'
                                               when 'disabled-warn' then interval '520 days'
                                               when 'disabled' then interval '100 days'
                                               else interval '40 days' end,
               case when k like 'pending%' then null else ${nowIso}::timestamptz - interval '599 days' end,
               case when k like 'pending%' then null
                    else ${nowIso}::timestamptz - case k when 'idle-due' then interval '31 days'
                                                         when 'idle-warn' then interval '25 days'
                                                         when 'active' then interval '1 day'
                                                         else interval '560 days' end end,
               case when k like 'disabled%' then ${nowIso}::timestamptz - case k when 'disabled-due' then interval '549 days'
                                                                                  when 'disabled-warn' then interval '520 days'
                                                                                  else interval '100 days' end end,
               case when k like 'disabled%' then 'maternity leave' end,
               case when k = 'disabled' then ${nowIso}::timestamptz + interval '300 days' end,
               k not like 'pending%'
        from seeded`);
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
      const changedBy = (r: typeof report) =>
        r.counts.inactivity + r.counts['pending-expired'] + r.counts['disabled-ended'];
      rows.push(
        `${String(digestMessages).padStart(8)} ${String(holderMessages).padStart(8)} ${String(n).padStart(9)} ${String(report.counts.inactivity).padStart(9)} ${String(report.counts['pending-expired']).padStart(8)} ${String(report.counts['disabled-ended']).padStart(9)} ${String(report.counts.warnings).padStart(9)} ${sweepMs.toFixed(0).padStart(9)} ${repeatMs.toFixed(0).padStart(10)} ${String(changedBy(again) + again.counts.warnings).padStart(8)} ${String(seedMs).padStart(8)}`,
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
  console.log(
    ' digests  holder DMs  accounts  inactive  pending  disabled  warnings  sweep ms  repeat ms  changed  seed ms',
  );
  console.log('                               (idle→)  (never→)  (548d→)');
  for (const row of rows) console.log(row);
}

await run();
