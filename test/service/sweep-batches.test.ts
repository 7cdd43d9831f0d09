import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase, rowsOf } from '../../db/index.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { createLifecycle } from '../../src/service/lifecycle.js';
import { LAPSE_BATCH } from '../../src/service/sweep.js';
import { createScratchPostgresDatabase, type ScratchDatabase } from '../support/postgres-scratch.js';
import { CapturingDelivery } from '../support/service.js';

/**
 * Each sweep batch claims its rows once (issue 12, item 7). An UPDATE … WHERE id IN (SELECT …
 * LIMIT n FOR UPDATE SKIP LOCKED) leaves PostgreSQL free to re-run the subquery per outer row;
 * with the statistics of a freshly loaded, never analysed table it did, and one statement changed
 * every due row in one transaction. Rows changed in one transaction share their `xmin`: no
 * transaction may change more than a batch.
 */
describe('sweep batches on fresh, unanalysed data (PostgreSQL)', { timeout: 120_000 }, () => {
  let scratch: ScratchDatabase;
  let database: Database;
  // Two and a half batches: two full ones, and the rest.
  const DUE = LAPSE_BATCH * 2.5;

  beforeAll(async () => {
    scratch = await createScratchPostgresDatabase();
    database = openDatabase({ engine: 'postgres', url: scratch.url });
    const nowIso = '2026-11-23T05:00:00Z';
    await database.db.execute(
      sql`insert into organisations (ods, name, kind, created_at) values ('RB1', 'Bench Trust', 'trust', ${nowIso}::timestamptz)`,
    );
    // Loaded in one statement and never analysed, as after an HR import or a restore.
    await database.db.execute(sql`
      insert into accounts (address, kind, status, home_org, created_at, status_changed_at, last_activity_at, mfa_registered)
      select 'due' || g || '@nhs.net', 'person', 'active', 'RB1', ${nowIso}::timestamptz, ${nowIso}::timestamptz,
             ${nowIso}::timestamptz - interval '31 days', true
      from generate_series(1, ${DUE}) g`);
  });
  afterAll(async () => {
    await database.close();
    await scratch.drop();
  });

  it('changes at most one batch per transaction, and every due account in the end', async () => {
    const lifecycle = await createLifecycle({
      db: database.db,
      policy: DEFAULT_POLICY,
      delivery: new CapturingDelivery(),
    });
    const now = new Date('2026-11-23T05:00:00Z');
    const report = await lifecycle.sweep(
      { actor: { kind: 'scheduler' }, platform: 'schedule', now },
      { dryRun: false },
    );
    expect(report.counts.inactivity).toBe(DUE);
    const perTransaction = rowsOf<{ n: number }>(
      await database.db.execute(
        sql`select count(*)::int as n from accounts where status = 'inactive' group by xmin::text`,
      ),
    ).map((r) => r.n);
    expect(perTransaction.reduce((a, n) => a + n, 0)).toBe(DUE);
    expect(Math.max(...perTransaction)).toBeLessThanOrEqual(LAPSE_BATCH);
    expect(perTransaction.length).toBeGreaterThanOrEqual(3);
  });
});
