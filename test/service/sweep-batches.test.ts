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

/**
 * Two replicas sweeping the same national-scale work at once (issue 17): they share the batches
 * (FOR UPDATE SKIP LOCKED), and between them each account changes once, with one audit row and
 * one holder notice, and each warning is recorded and queued once, in one of the two digests.
 */
describe('two sweeps at once over several batches (PostgreSQL)', { timeout: 180_000 }, () => {
  let scratch: ScratchDatabase;
  let database: Database;
  const DUE = LAPSE_BATCH * 2.5;
  const WARNED = LAPSE_BATCH * 1.5;
  const now = new Date('2026-11-23T05:00:00Z');

  beforeAll(async () => {
    scratch = await createScratchPostgresDatabase();
    database = openDatabase({ engine: 'postgres', url: scratch.url });
    const nowIso = now.toISOString();
    await database.db.execute(
      sql`insert into organisations (ods, name, kind, created_at)
          select 'RB' || o, 'Bench Trust ' || o, 'trust', ${nowIso}::timestamptz from generate_series(1, 7) o`,
    );
    // DUE accounts 31 days idle, then WARNED 25 days idle (inside the 7-day warning window).
    await database.db.execute(sql`
      insert into accounts (address, kind, status, home_org, created_at, status_changed_at, last_activity_at, mfa_registered)
      select 'idle' || g || '@nhs.net', 'person', 'active', 'RB' || (1 + g % 7), ${nowIso}::timestamptz - interval '90 days',
             ${nowIso}::timestamptz - interval '90 days',
             ${nowIso}::timestamptz - case when g <= ${DUE} then interval '31 days' else interval '25 days' end, true
      from generate_series(1, ${DUE + WARNED}) g`);
    await database.db.execute(sql`analyze accounts`);
  });
  afterAll(async () => {
    await database.close();
    await scratch.drop();
  });

  it('changes each account once and queues each warning once between them', async () => {
    const replica = () =>
      createLifecycle({ db: database.db, policy: DEFAULT_POLICY, delivery: new CapturingDelivery() });
    const [one, two] = await Promise.all([replica(), replica()]);
    const ctx = { actor: { kind: 'scheduler' }, platform: 'schedule', now } as const;
    const [a, b] = await Promise.all([one.sweep(ctx, { dryRun: false }), two.sweep(ctx, { dryRun: false })]);
    expect(a.counts.inactivity + b.counts.inactivity).toBe(DUE);
    expect(a.counts.warnings + b.counts.warnings).toBe(WARNED);
    const [counts] = rowsOf<Record<string, number>>(
      await database.db.execute(sql`select
        (select count(*)::int from audit_log where action = 'inactivity') as audits,
        (select count(distinct address)::int from audit_log where action = 'inactivity') as audited,
        (select count(*)::int from outbox where kind = 'status-change') as notices,
        (select count(distinct payload->>'address')::int from outbox where kind = 'status-change') as noticed,
        (select count(*)::int from warnings_sent) as recorded,
        (select count(*)::int from outbox where kind = 'warning') as warnings,
        (select count(distinct payload->>'address')::int from outbox where kind = 'warning') as warned,
        (select coalesce(sum(jsonb_array_length(payload->'items')), 0)::int from outbox where kind = 'digest') as digested,
        (select count(*)::int from accounts where status = 'inactive') as inactive`),
    );
    expect(counts).toEqual({
      audits: DUE,
      audited: DUE,
      notices: DUE,
      noticed: DUE,
      recorded: WARNED,
      warnings: WARNED,
      warned: WARNED,
      digested: WARNED,
      inactive: DUE,
    });
    // A third sweep finds nothing left to do.
    const again = await one.sweep(ctx, { dryRun: false });
    expect([again.counts.inactivity, again.counts.warnings]).toEqual([0, 0]);
  });
});
