/**
 * The sweep benchmark's database, seeded in one statement so a sweep has `due` accounts to change
 * and `due` more to warn, among `n` accounts over `orgs` trusts. Shared by `bench:sweep` and
 * `bench:chat` (which runs a sweep of this size while it measures chat).
 */
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { type Database, openDatabase } from '../../db/index.js';
import { migrate } from '../../db/migrate.js';

/** The benchmark's "now": every seeded clock counts back from it. */
export const BENCH_NOW = new Date('2026-11-23T05:00:00Z');

/**
 * What is due:
 * - `activity`: the anchor's work (`../shared/perf/sweep-anchor.sql`). `due` accounts are 31 days
 *   idle and `due` more 25 days idle (inside the 7-day warning window); pending and disabled
 *   accounts that are not due sit among the rest, so every clock is still read.
 * - `every-clock`: of the `due` accounts, half are 31 days idle, a quarter pending 31 days (never
 *   used) and a quarter disabled 549 days (past 18 months); `due` more sit in a warning window the
 *   same way (25 days idle, pending 25 days, disabled 520 days).
 * In both, one account in twenty of the rest is disabled (100 days, due back in 300), one in twenty
 * pending since 2 days, and the others were active yesterday.
 */
export type SeedShape = 'activity' | 'every-clock';

export interface SeedOptions {
  n: number;
  due: number;
  orgs: number;
  shape: SeedShape;
}

/** Drops and creates database `name` on the server at `serverUrl`; answers its URL. */
export async function createDatabase(serverUrl: string, name: string, template?: string): Promise<string> {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.unsafe(`create database ${name}${template ? ` template ${template}` : ''}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}

/**
 * Migrates and seeds a fresh database at `url`, then analyses it; answers it open. The kinds are
 * dealt by a permutation of the account numbers (7919 is prime), so due accounts are scattered
 * over the table as in production, not the first ids: a plan that walks the primary key in id
 * order until it has found a batch looks fast when they come first, and reads the table when not.
 */
export async function seedSweepDatabase(url: string, options: SeedOptions): Promise<Database> {
  const { n, due, orgs, shape } = options;
  const database = openDatabase({ engine: 'postgres', url });
  await migrate(database);
  const nowIso = BENCH_NOW.toISOString();
  // Accounts spread over `orgs` trusts, so digests are counted per organisation as in production.
  await database.db.execute(
    sql`insert into organisations (ods, name, kind, created_at)
        select 'RB' || o, 'Bench Trust ' || o, 'trust', ${nowIso}::timestamptz from generate_series(1, ${orgs}) o`,
  );
  const kind =
    shape === 'activity'
      ? sql`case
          when g <= ${due} then 'idle-due'
          when g <= ${due} * 2 then 'idle-warn'
          when g % 20 = 0 then 'disabled'
          when g % 20 = 1 then 'pending'
          else 'active' end`
      : sql`case
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
    with seeded as (select g, ${kind} as k from generate_series(1, ${n}) i,
                    lateral (select 1 + (i::bigint * 7919) % ${n} as g) p)
    insert into accounts (address, kind, status, home_org, created_at, status_changed_at, first_login_at,
                          last_activity_at, disabled_at, disabled_reason, disabled_until, mfa_registered)
    select 'bench' || g || '@nhs.net', 'person',
           (case when k like 'pending%' then 'pending' when k like 'disabled%' then 'disabled' else 'active' end)::account_status,
           'RB' || (1 + g % ${orgs}),
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
  await database.db.execute(sql`analyze`);
  return database;
}
