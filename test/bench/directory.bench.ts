/**
 * Directory effects at Graph's write budget: `npm run bench:directory` (optionally
 * BENCH_ACCOUNTS=5000 BENCH_SCALE=10). BENCH_ACCOUNTS new users are made in the Graph stand-in
 * (POST /users, then into their organisation's group) and then disabled (PATCH accountEnabled,
 * then revokeSignInSessions): four writes per account. The stand-in enforces Graph's documented
 * write limit for identity and access (3,000 writes per 150 s per app and tenant), scaled down
 * by BENCH_SCALE in time so the run takes seconds. Two workers drain the queue, as two replicas
 * would, each told the budget as its pacer's write rate (BENCH_PACED=0: no pacer, only the gate a
 * 429 closes). Prints the write rate achieved as a share of the budget (goal ≥ 90%), the writes
 * repeated, and how the 429s spread over the run (sustained 429s would mean the worker keeps
 * pushing into the limit).
 */

import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { createEntraDirectory } from '../../adapters/directory/entra.js';
import { type Database, openDatabase, rowsOf } from '../../db/index.js';
import { migrate } from '../../db/migrate.js';
import type { Effect } from '../../src/domain/effects.js';
import { DEFAULT_DIRECTORY_WORKER, runDirectoryEffects } from '../../src/jobs/directory.js';
import { queueEffects } from '../../src/service/store.js';
import { startGraphStandIn } from '../directory/support/graph-test-client.js';
import { capturingNewUsers } from '../support/scripted-directory.js';

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? '5000');
const SCALE = Number(process.env.BENCH_SCALE ?? '10');
const GROUP = '3f0e2a4c-1b7d-4c9e-8a21-5d6f7e8a9b01';
/** BENCH_PACED=0 turns the pacer off (an unlimited rate), leaving the 429 gate alone to hold the workers back. */
const PACED = process.env.BENCH_PACED !== '0';
const BUDGET = { writes: 3000, windowMs: Math.round(150_000 / SCALE) };

async function seed(db: Database): Promise<void> {
  const now = new Date();
  await db.db.execute(
    sql`insert into organisations (ods, name, kind, created_at, directory_group)
        values ('RXX', 'Bench Trust', 'trust', ${now.toISOString()}::timestamptz, ${GROUP})`,
  );
  await db.db.execute(
    sql`insert into accounts (address, kind, status, home_org, given, family, created_at, status_changed_at)
        select 'bench.user' || n || '@nhs.net', 'person', 'inactive', 'RXX', 'Bench', 'User' || n,
               ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz
        from generate_series(1, ${ACCOUNTS}) as n`,
  );
  const accounts = rowsOf<{ id: number; address: string }>(
    await db.db.execute(sql`select id, address from accounts order by id`),
  );
  const items = accounts.map((a) => {
    const create: Effect = {
      kind: 'create-user',
      address: a.address,
      given: 'Bench',
      family: a.address.split('@')[0] ?? 'User',
      org: 'RXX',
      employeeId: null,
      mfaRequired: true,
    };
    return { accountId: Number(a.id), effects: [create, { kind: 'disable', address: a.address } as Effect] };
  });
  for (let i = 0; i < items.length; i += 1000) {
    await queueEffects(db.db, { now }, { directoryEffects: true }, items.slice(i, i + 1000));
  }
}

async function main(): Promise<void> {
  const db = openDatabase({ engine: 'pglite', instance: new PGlite() });
  await migrate(db);
  await seed(db);
  const graph = await startGraphStandIn({ writeBudget: BUDGET });
  graph.graph.addGroup(GROUP, 'Bench staff');
  const directory = createEntraDirectory({ client: graph.client, graphOrigin: graph.graph.url });
  const logger = pino({ level: 'silent' });
  const budgetPerSecond = BUDGET.writes / (BUDGET.windowMs / 1000);
  // The pacer is told the stand-in's budget, and reserves ahead in the same scaled time.
  const options = {
    ...DEFAULT_DIRECTORY_WORKER,
    batch: 200,
    writesPerSecond: PACED ? budgetPerSecond : Number.POSITIVE_INFINITY,
    writeAheadMs: DEFAULT_DIRECTORY_WORKER.writeAheadMs / SCALE,
  };
  let delivered = 0;
  const worker = () =>
    runDirectoryEffects(
      db.db,
      directory,
      logger,
      () => new Date(),
      options,
      capturingNewUsers(() => {
        delivered++;
      }),
    );
  const started = performance.now();
  // Each worker loops on its own, as a replica would; one that found nothing to claim (the
  // pacer's slots taken, or the gate closed) looks again shortly.
  const replica = async () => {
    for (;;) {
      const r = await worker();
      const [left] = rowsOf<{ n: number }>(
        await db.db.execute(sql`select count(*)::int as n from directory_effects where state <> 'applied'`),
      );
      if ((left?.n ?? 0) === 0) return;
      if (r.applied + r.throttled + r.retried + r.failed + r.conflicts === 0) {
        await new Promise((wake) => setTimeout(wake, 10));
      }
    }
  };
  await Promise.all([replica(), replica()]);
  const seconds = (performance.now() - started) / 1000;
  const traffic = graph.graph.stats();
  const achieved = traffic.writesAccepted / seconds;
  const needed = 4 * ACCOUNTS;
  const with429 = traffic.perSecond.filter((s) => s.throttled > 0).length;
  let longestRun = 0;
  let run = 0;
  for (const s of traffic.perSecond) {
    run = s.throttled > 0 ? run + 1 : 0;
    longestRun = Math.max(longestRun, run);
  }
  console.log(
    [
      `directory effects: ${ACCOUNTS} creates + ${ACCOUNTS} disables (${needed} Graph writes needed), 2 workers, PGlite, ${PACED ? 'paced' : 'not paced (429 gate only)'}`,
      `write budget: ${BUDGET.writes} writes per ${BUDGET.windowMs} ms (Graph's 3,000 per 150 s, ${SCALE}× faster) = ${budgetPerSecond.toFixed(0)} writes/s`,
      `elapsed: ${seconds.toFixed(1)} s; Graph accepted ${traffic.writesAccepted} writes (${traffic.writesAccepted - needed} repeated) = ${achieved.toFixed(0)} writes/s = ${((100 * achieved) / budgetPerSecond).toFixed(1)}% of the budget; useful share ${((100 * needed) / seconds / budgetPerSecond).toFixed(1)}%`,
      `429s: ${traffic.throttled} (${traffic.throttledByBudget} from the budget) in ${with429} of ${Math.ceil(seconds)} seconds; longest run of seconds with a 429: ${longestRun}`,
      `credentials handed to delivery: ${delivered}`,
    ].join('\n'),
  );
  await graph.close();
  await db.close();
}

await main();
