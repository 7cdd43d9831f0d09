import { sql } from 'drizzle-orm';
import type { Db } from '../../db/index.js';
import type { Logger } from '../logger.js';

/**
 * A load must change at least this many rows before the bot analyses what it loaded. Below it the
 * planner's statistics are not misled enough to matter, and autovacuum's own analyse catches up.
 */
export const ANALYSE_AFTER_ROWS = 1_000;

/** Tables a bulk load writes; named here, never from input, since ANALYZE takes no parameters. */
export type LoadedTable = 'accounts' | 'hr_starters' | 'organisations' | 'audit_log' | 'outbox';

/**
 * Refreshes the planner's statistics for what a bulk load (an HR import, an activity report, an
 * ODS extract) just wrote. Until autovacuum gets to it, PostgreSQL plans the next statements on
 * the table as it was before the load: issue 12 measured a sweep batch, planned as a nested loop
 * on such stale statistics, running 38 s and locking 24,000 rows instead of 500. A failure here
 * leaves the load committed and only logged: statistics are an optimisation, not the load.
 */
export async function analyseAfterLoad(
  db: Db,
  logger: Logger,
  tables: readonly LoadedTable[],
  changed: number,
): Promise<boolean> {
  if (changed < ANALYSE_AFTER_ROWS) return false;
  const started = performance.now();
  try {
    await db.execute(sql.raw(`analyze ${tables.join(', ')}`));
  } catch (err) {
    logger.warn({ err, tables, changed }, 'could not analyse the tables a bulk load wrote');
    return false;
  }
  logger.info(
    { tables, changed, ms: Math.round(performance.now() - started) },
    'analysed the tables a bulk load wrote',
  );
  return true;
}
