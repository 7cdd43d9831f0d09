/**
 * HR starters import at scale: `npm run bench:import` (optionally BENCH_ROWS=50000 BENCH_DUE_PERCENT=20).
 * Writes a starters file of BENCH_ROWS rows across 50 organisations, of which BENCH_DUE_PERCENT
 * start within the lead time (their accounts are made at once, passwords going to an in-memory
 * delivery) and the rest are scheduled; then imports it in one streaming pass on PostgreSQL
 * (TEST_DATABASE_URL/DATABASE_URL, or an embedded server) and on PGlite, and again to show a
 * repeated file creates nothing. Prints rows per second for each.
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { type Database, openDatabase } from '../../db/index.js';
import { migrate } from '../../db/migrate.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { readHrCsv, STARTER_COLUMNS } from '../../src/service/hr-feed.js';
import { createLifecycle } from '../../src/service/lifecycle.js';
import { CapturingDelivery } from '../support/service.js';
import { server } from './postgres-server.js';

const ROWS = Number(process.env.BENCH_ROWS ?? '50000');
const DUE_PERCENT = Number(process.env.BENCH_DUE_PERCENT ?? '20');
/** BENCH_ENGINES=postgres skips PGlite. */
const ENGINES = (process.env.BENCH_ENGINES ?? 'postgres,pglite').split(',');
const ORGS = 50;
const NOW = new Date('2026-11-23T09:00:00Z');

/** A six-letter name scattered by a multiplicative hash, so no two rows look like one person. */
const word = (n: number, salt: number) => {
  let x = Number((BigInt(n + salt) * 2654435761n) % 308915776n);
  let s = '';
  for (let i = 0; i < 6; i++) {
    s += String.fromCharCode(97 + (x % 26));
    x = Math.floor(x / 26);
  }
  return `${s[0]?.toUpperCase()}${s.slice(1)}`;
};

function writeFile(dir: string): string {
  const file = path.join(dir, 'starters.csv');
  const lines = ['employee_number,given_name,family_name,date_of_birth,mobile,org_ods,start_date,delivery'];
  for (let i = 0; i < ROWS; i++) {
    const due = i % 100 < DUE_PERCENT;
    const dob = new Date(Date.UTC(1965 + (i % 40), i % 12, 1 + (i % 28))).toISOString().slice(0, 10);
    const start = due ? '2026-11-25' : '2027-02-01';
    const mobile = `07${String(700000000 + i).padStart(9, '0')}`;
    lines.push(
      `E${i},${word(i, 1)},${word(i, 977)},${dob},${mobile},R${String(i % ORGS).padStart(2, '0')},${start},sms`,
    );
  }
  writeFileSync(file, `${lines.join('\r\n')}\r\n`);
  return file;
}

async function importInto(label: string, database: Database, file: string): Promise<void> {
  await migrate(database);
  const lifecycle = await createLifecycle({
    db: database.db,
    policy: DEFAULT_POLICY,
    delivery: new CapturingDelivery(),
    hrDataKey: Buffer.alloc(32, 1),
  });
  const operator = { actor: { kind: 'operator' as const }, platform: 'cli' as const, now: NOW };
  for (let o = 0; o < ORGS; o++) {
    await lifecycle.addOrganisation(operator, {
      ods: `R${String(o).padStart(2, '0')}`,
      name: `Trust ${o}`,
      kind: 'trust',
    });
  }
  for (const pass of ['first import', 'same file again']) {
    const started = performance.now();
    const report = await lifecycle.importStarters(operator, {
      records: readHrCsv(createReadStream(file), STARTER_COLUMNS),
      dryRun: false,
    });
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `| ${label} | ${pass} | ${report.rows} | ${report.created} | ${report.scheduled} | ${report.existing} | ${report.duplicates.length} | ${report.errors.length} | ${seconds.toFixed(1)} s | ${Math.round(report.rows / seconds)} |`,
    );
  }
}

async function run(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nhsmail-bench-hr-'));
  const srv = await server();
  try {
    const file = writeFile(dir);
    console.log(
      `${ROWS} rows, ${DUE_PERCENT}% starting within the lead time (made at once), the rest scheduled.\n`,
    );
    console.log(
      '| engine | pass | rows | created | scheduled | existing | duplicates | errors | time | rows/s |',
    );
    console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    const admin = postgres(srv.url, { max: 1, onnotice: () => {} });
    await admin.unsafe('DROP DATABASE IF EXISTS nhsmail_bench_hr WITH (FORCE)');
    await admin.unsafe('CREATE DATABASE nhsmail_bench_hr');
    await admin.end();
    const pgUrl = new URL(srv.url);
    pgUrl.pathname = '/nhsmail_bench_hr';
    const pg = openDatabase({ engine: 'postgres', url: pgUrl.toString() });
    try {
      await importInto('PostgreSQL', pg, file);
    } finally {
      await pg.close();
    }
    if (ENGINES.includes('pglite')) {
      const lite = openDatabase({ engine: 'pglite', dataDir: path.join(dir, 'pglite') });
      try {
        await importInto('PGlite', lite, file);
      } finally {
        await lite.close();
      }
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
