/**
 * `import orgs` at scale (issue 17): `npm run bench:import-orgs` (optionally BENCH_ROWS=50000
 * BENCH_PGLITE_ROWS=50000). Writes an ODS extract (epraccur.csv's layout: no header, 27 quoted
 * fields) of BENCH_ROWS GP practices: one in 20 closed before today (reported, not added), one in
 * 1,000 with a bad ODS code and one in 1,000 repeating an earlier code (rejected), and 1% already
 * registered under another spelling of their name (renamed, `org-rename`). The command is run as
 * the operator runs it (`import orgs FILE --kind gp-practice`: the command's own file reading,
 * parsing and writing) on PostgreSQL (TEST_DATABASE_URL/DATABASE_URL, or an embedded server), then
 * the same file again (everything unchanged), then both on PGlite. Prints rows per second (goal:
 * ≥ 5,000/s on a first import on PostgreSQL).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { localFiles } from '../../adapters/cli/files.js';
import { type Database, openDatabase } from '../../db/index.js';
import { migrate } from '../../db/migrate.js';
import { importOrgs } from '../../src/commands/catalogue/import-orgs.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { createLifecycle } from '../../src/service/lifecycle.js';
import { CapturingDelivery } from '../support/service.js';
import { server } from './postgres-server.js';
import { createDatabase, dropDatabase } from './sweep-seed.js';

const ROWS = Number(process.env.BENCH_ROWS ?? '50000');
const PGLITE_ROWS = Number(process.env.BENCH_PGLITE_ROWS ?? '50000');
const NOW = new Date('2026-11-23T09:00:00Z');

const code = (i: number) => `B${String(i).padStart(5, '0')}`;

function writeExtract(dir: string, rows: number): string {
  const file = path.join(dir, `epraccur-${rows}.csv`);
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const ods = i % 1000 === 500 ? 'B?' : i % 1000 === 501 ? code(i - 1) : code(i);
    const closed = i % 20 === 7 ? '20240331' : '';
    const fields = [
      ods,
      `THE BENCH SURGERY ${i}`,
      'Y56',
      'QMJ',
      `${i} HIGH STREET`,
      '',
      'LONDON',
      'GREATER LONDON',
      '',
      'N1 1AA',
      '19740401',
      closed,
      closed === '' ? 'A' : 'C',
      'B',
      'Y56',
      '20130401',
      '',
      '02070000000',
      '',
      '',
      '',
      '',
      '',
      '',
      '4',
      '',
      '',
    ];
    lines.push(fields.map((f) => `"${f}"`).join(','));
  }
  writeFileSync(file, `${lines.join('\r\n')}\r\n`);
  return file;
}

async function importInto(label: string, database: Database, file: string, rows: number): Promise<void> {
  await migrate(database);
  // 1% registered already, under the name typed another way: the import renames them.
  await database.db.execute(sql`
    insert into organisations (ods, name, kind, created_at)
    select 'B' || lpad(g::text, 5, '0'), 'Bench Surgery ' || g || ' (old name)', 'gp-practice',
           ${NOW.toISOString()}::timestamptz - interval '700 days'
    from generate_series(0, ${rows - 1}) g where g % 100 = 3`);
  const lifecycle = await createLifecycle({
    db: database.db,
    policy: DEFAULT_POLICY,
    delivery: new CapturingDelivery(),
  });
  const operator = { actor: { kind: 'operator' as const }, platform: 'cli' as const, now: NOW };
  for (const pass of ['first import', 'same file again']) {
    const started = performance.now();
    const report = await importOrgs.run(
      lifecycle,
      operator,
      { name: 'import orgs', file, kind: 'gp-practice', dryRun: false },
      { files: localFiles },
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `| ${label} | ${pass} | ${report.rows} | ${report.added} | ${report.updated} | ${report.unchanged} | ${report.closed} | ${report.rejected} | ${seconds.toFixed(1)} s | ${Math.round(report.rows / seconds)} |`,
    );
  }
}

async function run(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nhsmail-bench-orgs-'));
  const srv = await server();
  try {
    const pgFile = writeExtract(dir, ROWS);
    const liteFile = PGLITE_ROWS === ROWS ? pgFile : writeExtract(dir, PGLITE_ROWS);
    console.log(`ODS extract of GP practices: ${ROWS} rows on PostgreSQL, ${PGLITE_ROWS} on PGlite.\n`);
    console.log('| engine | pass | rows | added | renamed | unchanged | closed | rejected | time | rows/s |');
    console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    const pg = openDatabase({ engine: 'postgres', url: await createDatabase(srv.url, 'nhsmail_bench_orgs') });
    try {
      await importInto('PostgreSQL', pg, pgFile, ROWS);
    } finally {
      await pg.close();
      await dropDatabase(srv.url, 'nhsmail_bench_orgs');
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
