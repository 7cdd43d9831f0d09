import { sql } from 'drizzle-orm';
import type { Db } from '../../db/index.js';

/**
 * Organisation RXX and `n` active accounts in it idle for 31 days, so the next sweep makes each
 * inactive (one audit row, one holder message each). Seeded in one statement, as the sweep
 * benchmark does, so tens of thousands take a moment. Analysed afterwards unless `analyse: false`
 * (a test of what the bot does with freshly loaded, unanalysed rows).
 */
export async function seedIdleAccounts(
  db: Db,
  n: number,
  now: Date = new Date(),
  options: { analyse?: boolean } = {},
): Promise<void> {
  const at = now.toISOString();
  await db.execute(sql`
    insert into organisations (ods, name, kind, created_at)
    values ('RXX', 'Northtown', 'trust', ${at}::timestamptz) on conflict do nothing`);
  await db.execute(sql`
    insert into accounts (address, kind, status, home_org, created_at, status_changed_at, last_activity_at, mfa_registered)
    select 'idle' || g || '@nhs.net', 'person', 'active', 'RXX', ${at}::timestamptz, ${at}::timestamptz,
           ${at}::timestamptz - interval '31 days', true
    from generate_series(1, ${n}) g`);
  if (options.analyse !== false) await db.execute(sql`analyze accounts`);
}
