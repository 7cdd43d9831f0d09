/**
 * `directory import` at scale (issue 15): `npm run bench:import-directory` (optionally
 * BENCH_USERS=100000). A tenant of BENCH_USERS users is seeded in the Graph stand-in, answering
 * 999-user pages of /users/delta, across 50 organisations' groups: 2% in no group (unplaced), 10%
 * disabled, 70% with a last successful sign-in, and 1% already accounts of the bot (matched).
 * The import then reads it over HTTPS through the Entra reader (group members, sign-ins, the
 * users delta) and writes the accounts, their audit rows and the directory mirror on PostgreSQL
 * (TEST_DATABASE_URL/DATABASE_URL, or an embedded server), and once more to show a second run
 * changes nothing. A dry run first reads and decides the same and writes nothing: what reading
 * costs. Prints users and rows written per second (goal: ≥ 5,000/s on PostgreSQL).
 * Then the drift report's rounds (issue 15, point 3): a change round with 1% of users renamed, and
 * a full resync.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { createEntraReader } from '../../adapters/directory/entra-reader.js';
import { type Database, openDatabase, rowsOf } from '../../db/index.js';
import { migrate } from '../../db/migrate.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { createLifecycle } from '../../src/service/lifecycle.js';
import { startGraphStandIn } from '../directory/support/graph-test-client.js';
import { CapturingDelivery } from '../support/service.js';
import { server } from './postgres-server.js';

const USERS = Number(process.env.BENCH_USERS ?? '100000');
const ORGS = 50;
const NOW = new Date('2026-11-23T09:00:00Z');
const ods = (o: number) => `R${String(o).padStart(2, '0')}`;

async function count(db: Database, table: 'accounts' | 'audit_log' | 'directory_users'): Promise<number> {
  const [row] = rowsOf<{ n: number }>(
    await db.db.execute(sql.raw(`select count(*)::int as n from ${table}`)),
  );
  return row?.n ?? 0;
}

async function run(): Promise<void> {
  const srv = await server();
  const g = await startGraphStandIn({ now: () => NOW });
  try {
    g.graph.setDeltaPageSize(999);
    const groups = Array.from({ length: ORGS }, () => randomUUID());
    for (const [o, id] of groups.entries()) g.graph.addGroup(id, `${ods(o)} staff`);
    const seedStarted = performance.now();
    const ids = g.graph.seedUsers(
      Array.from({ length: USERS }, (_, i) => ({
        accountEnabled: i % 10 !== 3,
        displayName: `Bench User${i}`,
        givenName: 'Bench',
        surname: `User${i}`,
        mailNickname: `bench.user${i}`,
        userPrincipalName: `bench.user${i}@nhs.net`,
      })),
    );
    ids.forEach((id, i) => {
      if (i % 50 !== 7) g.graph.addToGroup(groups[i % ORGS] ?? '', id);
      if (i % 10 < 7) g.graph.setSignIn(id, new Date(NOW.getTime() - (i % 20) * 86_400_000));
    });
    console.log(
      `seeded ${USERS} users in the stand-in in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`,
    );

    const admin = postgres(srv.url, { max: 1, onnotice: () => {} });
    await admin.unsafe('DROP DATABASE IF EXISTS nhsmail_bench_directory WITH (FORCE)');
    await admin.unsafe('CREATE DATABASE nhsmail_bench_directory');
    await admin.end();
    const url = new URL(srv.url);
    url.pathname = '/nhsmail_bench_directory';
    const database = openDatabase({ engine: 'postgres', url: url.toString() });
    try {
      await migrate(database);
      const lifecycle = await createLifecycle({
        db: database.db,
        policy: DEFAULT_POLICY,
        delivery: new CapturingDelivery(),
      });
      const operator = { actor: { kind: 'operator' as const }, platform: 'cli' as const, now: NOW };
      for (let o = 0; o < ORGS; o++) {
        await lifecycle.addOrganisation(operator, { ods: ods(o), name: `Trust ${o}`, kind: 'trust' });
        await lifecycle.setDirectoryGroup(operator, { ods: ods(o), group: groups[o] ?? '' });
      }
      // 1% are already the bot's: made as the bot makes rows, without the provisioning rules' cost.
      await database.db.execute(sql`
        insert into accounts (address, kind, status, home_org, given, family, created_at, status_changed_at)
        select 'bench.user' || n || '@nhs.net', 'person', 'active',
               'R' || lpad((n % ${ORGS})::text, 2, '0'), 'Bench', 'User' || n,
               ${NOW.toISOString()}::timestamptz, ${NOW.toISOString()}::timestamptz
        from generate_series(0, ${USERS - 1}) as n where n % 100 = 11`);
      const reader = createEntraReader({ client: g.client });
      console.log(`\n${USERS} users, ${ORGS} organisations' groups, /users/delta pages of 999, PostgreSQL\n`);
      console.log(
        '| pass | users | adopted | matched | unplaced | refused | rows written | time | users/s | rows/s |',
      );
      console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
      const rows = async () =>
        (await count(database, 'accounts')) +
        (await count(database, 'audit_log')) +
        (await count(database, 'directory_users'));
      // The dry run reads the tenant and decides every user as the import does, and writes nothing:
      // the anchor for what reading the stand-in over HTTPS costs on this machine.
      for (const pass of ['dry run (reads only)', 'first import', 'again']) {
        const before = await rows();
        const started = performance.now();
        const r = await lifecycle.importDirectory(operator, { reader, dryRun: pass.startsWith('dry') });
        const seconds = (performance.now() - started) / 1000;
        const written = (await rows()) - before;
        console.log(
          `| ${pass} | ${r.users} | ${r.adopted} | ${r.matched} | ${r.unplaced} | ${r.refused} | ${written} | ${seconds.toFixed(1)} s | ${Math.round(r.users / seconds)} | ${Math.round(written / seconds)} |`,
        );
      }
      // The drift report the Graph job makes after the import: a change round from the stored
      // deltaLink (1% of users changed), then a full one as after Graph forgets the link.
      console.log('\n| drift round | users read | lines | time |');
      console.log('| --- | ---: | ---: | ---: |');
      for (let i = 0; i < USERS; i += 100) await touch(g, ids[i] ?? '');
      for (const expire of [false, true]) {
        if (expire) g.graph.expireDeltaTokens();
        const started = performance.now();
        const d = await lifecycle.directoryDrift(
          { ...operator, now: new Date(NOW.getTime() + 3_600_000) },
          { reader },
        );
        const seconds = (performance.now() - started) / 1000;
        console.log(`| ${d.round} | ${d.users} | ${d.total} | ${seconds.toFixed(1)} s |`);
      }
    } finally {
      await database.close();
    }
  } finally {
    await g.close();
    await srv.stop();
  }
}

/** A change in the directory, as an administrator's edit in the Entra admin centre makes one. */
async function touch(g: Awaited<ReturnType<typeof startGraphStandIn>>, id: string): Promise<void> {
  await g.client.api(`/users/${id}`).patch({ surname: 'Renamed' });
}

run().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
