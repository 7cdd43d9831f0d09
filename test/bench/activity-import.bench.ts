/**
 * `import activity` at scale (issue 17): `npm run bench:import-activity` (optionally
 * BENCH_ROWS=1000000 BENCH_PGLITE_ROWS=100000). Writes NHSmail's weekly mailbox report as CSV
 * (Display Name, Email Address, Last Logon Time, Last Sent Time, Mailbox Size) of BENCH_ROWS rows
 * for a quarter as many seeded accounts, so each address has several rows: about 2% of rows name
 * an address the bot does not know, one in 2,000 has an unreadable date, and of the accounts one
 * in 50 is pending, one in 50 inactive and one in 50 disabled (the report's disagreements), one in
 * 50 a leaver (recorded), the rest active and last seen ten days ago. Seeded set-based
 * (generate_series) on PostgreSQL (TEST_DATABASE_URL/DATABASE_URL, or an embedded server), then
 * the command is run as the operator runs it: `import activity FILE.csv` through the command's
 * own file reading, parsing and writing. Then the same file again (everything already up to
 * date), and both on PGlite with BENCH_PGLITE_ROWS rows. Prints rows per second (goal: ≥ 20,000/s
 * on PostgreSQL).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { localFiles } from '../../adapters/cli/files.js';
import { type Database, openDatabase, rowsOf } from '../../db/index.js';
import { migrate } from '../../db/migrate.js';
import { importActivity } from '../../src/commands/catalogue/import-activity.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { createLifecycle } from '../../src/service/lifecycle.js';
import { CapturingDelivery } from '../support/service.js';
import { server } from './postgres-server.js';
import { createDatabase, dropDatabase } from './sweep-seed.js';

const ROWS = Number(process.env.BENCH_ROWS ?? '1000000');
const PGLITE_ROWS = Number(process.env.BENCH_PGLITE_ROWS ?? '100000');
const ORGS = 50;
const NOW = new Date('2026-11-23T09:00:00Z');

const accountsFor = (rows: number) => Math.max(1, Math.floor(rows / 4));

/** dd/mm/yyyy hh:mm, as the NHSmail portal exports it. */
const ukDate = (d: Date) =>
  `${String(d.getUTCDate()).padStart(2, '0')}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${d.getUTCFullYear()} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;

function writeReport(dir: string, rows: number): string {
  const file = path.join(dir, `mailbox-report-${rows}.csv`);
  const n = accountsFor(rows);
  // 2% more addresses than accounts: those past `n` are unknown to the bot.
  const span = Math.floor(n * 1.02) + 1;
  const lines = ['"Display Name","Email Address","Last Logon Time","Last Sent Time","Mailbox Size"'];
  for (let i = 0; i < rows; i++) {
    const g = 1 + ((i * 7919) % span);
    const logon = new Date(NOW.getTime() - ((i * 37) % (7 * 24 * 60)) * 60_000);
    const sent = i % 5 === 0 ? 'Never' : ukDate(new Date(logon.getTime() - (i % 300) * 60_000));
    const logonText = i % 2000 === 999 ? '31/02/2026 10:00' : ukDate(logon);
    lines.push(`"Bench User ${g}",bench${g}@nhs.net,${logonText},${sent},${(i % 4000) + 1} MB`);
  }
  writeFileSync(file, `${lines.join('\r\n')}\r\n`);
  return file;
}

/** `n` accounts over ORGS trusts, one statement: the statuses above, active ones seen ten days ago. */
async function seed(database: Database, n: number): Promise<void> {
  await migrate(database);
  const now = NOW.toISOString();
  await database.db.execute(
    sql`insert into organisations (ods, name, kind, created_at)
        select 'RB' || o, 'Bench Trust ' || o, 'trust', ${now}::timestamptz - interval '700 days'
        from generate_series(1, ${ORGS}) o`,
  );
  await database.db.execute(sql`
    with seeded as (
      select g, case g % 50 when 0 then 'pending' when 1 then 'inactive' when 2 then 'disabled'
                            when 3 then 'leaver' else 'active' end as s
      from generate_series(1, ${n}) g)
    insert into accounts (address, kind, status, home_org, created_at, status_changed_at, first_login_at,
                          last_activity_at, inactive_since, disabled_at, disabled_reason, mfa_registered)
    select 'bench' || g || '@nhs.net', 'person', s::account_status, 'RB' || (1 + g % ${ORGS}),
           ${now}::timestamptz - case s when 'pending' then interval '20 days' else interval '600 days' end,
           ${now}::timestamptz - case s when 'pending' then interval '20 days' else interval '40 days' end,
           case when s = 'pending' then null else ${now}::timestamptz - interval '599 days' end,
           case when s = 'pending' then null
                when s in ('active', 'leaver') then ${now}::timestamptz - interval '10 days'
                else ${now}::timestamptz - interval '70 days' end,
           case when s = 'inactive' then ${now}::timestamptz - interval '40 days' end,
           case when s = 'disabled' then ${now}::timestamptz - interval '40 days' end,
           case when s = 'disabled' then 'maternity leave' end,
           s <> 'pending'
    from seeded`);
  await database.db.execute(sql`analyze`);
}

async function auditRows(database: Database): Promise<number> {
  const [row] = rowsOf<{ n: number }>(
    await database.db.execute(sql`select count(*)::int as n from audit_log where action = 'activity'`),
  );
  return row?.n ?? 0;
}

async function importInto(label: string, database: Database, file: string, rows: number): Promise<void> {
  const seedStarted = performance.now();
  await seed(database, accountsFor(rows));
  const seeded = (performance.now() - seedStarted) / 1000;
  const lifecycle = await createLifecycle({
    db: database.db,
    policy: DEFAULT_POLICY,
    delivery: new CapturingDelivery(),
  });
  const operator = { actor: { kind: 'operator' as const }, platform: 'cli' as const, now: NOW };
  for (const pass of ['first import', 'same file again']) {
    const started = performance.now();
    const report = await importActivity.run(
      lifecycle,
      operator,
      { name: 'import activity', file },
      { files: localFiles },
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `| ${label} | ${pass} | ${report.rows} | ${report.recorded} | ${report.unchanged} | ${report.unknown.length} | ${report.invalid.length} | ${report.disagreements.length} | ${seconds.toFixed(1)} s | ${Math.round(report.rows / seconds)} |`,
    );
  }
  console.log(
    `(${label}: ${accountsFor(rows)} accounts seeded in ${seeded.toFixed(1)} s; ${await auditRows(database)} activity audit rows)`,
  );
}

async function run(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nhsmail-bench-activity-'));
  const srv = await server();
  try {
    const pgFile = writeReport(dir, ROWS);
    const liteFile = PGLITE_ROWS === ROWS ? pgFile : writeReport(dir, PGLITE_ROWS);
    console.log(
      `Weekly mailbox report: ${ROWS} rows on PostgreSQL, ${PGLITE_ROWS} on PGlite, each for a quarter as many accounts.\n`,
    );
    console.log(
      '| engine | pass | rows | recorded | unchanged | unknown | invalid | disagreements | time | rows/s |',
    );
    console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    const pg = openDatabase({
      engine: 'postgres',
      url: await createDatabase(srv.url, 'nhsmail_bench_activity'),
    });
    try {
      await importInto('PostgreSQL', pg, pgFile, ROWS);
    } finally {
      await pg.close();
      await dropDatabase(srv.url, 'nhsmail_bench_activity');
    }
    const lite = openDatabase({ engine: 'pglite', dataDir: path.join(dir, 'pglite') });
    try {
      await importInto('PGlite', lite, liteFile, PGLITE_ROWS);
    } finally {
      await lite.close();
    }
  } finally {
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

run().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
