import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../db/index.js';
import { BotProcess, until } from '../support/bot-child.js';
import { queryRows } from '../support/engines.js';
import { seedIdleAccounts } from '../support/idle-accounts.js';
import { createScratchPostgresDatabase, type ScratchDatabase } from '../support/postgres-scratch.js';
import { killLeftoverChildren } from '../support/processes.js';

/** Enough due accounts that a sweep (500 a transaction) is still running when it is killed. */
const DUE = 8_000;
const LEASE_MS = '2000';

/**
 * The bot process killed with SIGKILL in the middle of its daily sweep, on PostgreSQL: the next
 * process takes the abandoned fire over once its lease lapses and sweeps the rest, without
 * waiting for the next day's fire, and no account is changed, audited or messaged twice.
 */
describe('a sweep whose process is killed', { timeout: 120_000 }, () => {
  let scratch: ScratchDatabase;
  let database: Database;
  const dirs: string[] = [];

  beforeAll(async () => {
    scratch = await createScratchPostgresDatabase();
    database = openDatabase({ engine: 'postgres', url: scratch.url, maxConnections: 2 });
  });
  afterEach(() => killLeftoverChildren());
  afterAll(async () => {
    await database?.close();
    await scratch?.drop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  const bot = async (env: Record<string, string>) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-takeover-'));
    dirs.push(dir);
    return new BotProcess({ DATABASE_URL: scratch.url, DATA_DIR: dir, SCHEDULE_LEASE_MS: LEASE_MS, ...env });
  };
  const counts = async () => {
    const [row] = await queryRows<{
      inactive: number;
      audit: number;
      audited: number;
      messages: number;
      messaged: number;
    }>(
      database.db,
      sql`select
            (select count(*)::int from accounts where status = 'inactive') as inactive,
            (select count(*)::int from audit_log where action = 'inactivity') as audit,
            (select count(distinct address)::int from audit_log where action = 'inactivity') as audited,
            (select count(*)::int from outbox where kind = 'status-change') as messages,
            (select count(distinct payload->>'address')::int from outbox where kind = 'status-change') as messaged`,
    );
    if (!row) throw new Error('no counts');
    return row;
  };
  const sweeps = () =>
    queryRows<{ key: string; claimed_by: string; completed: boolean }>(
      database.db,
      sql`select key, claimed_by, completed_at is not null as completed from cron_runs
          where key like 'daily-sweep:%' or key like 'catch-up-sweep:%' order by claimed_at`,
    );

  it('is taken over by the next process and finished, each account changed once', async () => {
    await seedIdleAccounts(database.db, DUE);
    // Yesterday's sweep completed: no catch-up at start, so only a takeover can finish today's.
    const yesterday = new Date(Date.now() - 2 * 3_600_000).toISOString();
    await database.db.execute(sql`
      insert into cron_runs (key, claimed_by, claimed_at, completed_at)
      values ('daily-sweep:2026-01-01T05:00:00.000Z', 'earlier:1', ${yesterday}::timestamptz, ${yesterday}::timestamptz)`);

    // The first process sweeps at its first second; killed once some batches are committed.
    const first = await bot({ SWEEP_SCHEDULE: '* * * * * *' });
    await until(async () => (await counts()).audit >= 500, 60_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = await counts();
    expect(atKill.inactive, 'the sweep finished before it was killed: seed more accounts').toBeLessThan(DUE);
    expect(atKill.audit).toBe(atKill.inactive);
    const [yesterdays, killed, ...more] = await sweeps();
    expect(more).toEqual([]);
    expect(yesterdays?.completed).toBe(true);
    expect(killed?.completed).toBe(false);

    // The next process's own sweep is next year: only taking the killed fire over sweeps the rest.
    const next = await bot({ SWEEP_SCHEDULE: '0 0 1 1 *' });
    await until(async () => (await counts()).inactive === DUE, 60_000);
    await until(async () => (await sweeps()).every((run) => run.completed), 20_000);

    expect(await counts()).toEqual({ inactive: DUE, audit: DUE, audited: DUE, messages: DUE, messaged: DUE });
    const runs = await sweeps();
    expect(runs.map((run) => run.key)).toEqual([yesterdays?.key, killed?.key]);
    expect(runs[1]?.claimed_by).not.toBe(killed?.claimed_by);
    const takeover = next.output
      .split('\n')
      .filter((line) => line.includes('took over a scheduled run'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(takeover).toEqual([
      expect.objectContaining({ job: 'daily-sweep', key: killed?.key, previousClaimant: killed?.claimed_by }),
    ]);
    expect(next.output.match(/"msg":"sweep finished"/g)).toHaveLength(1);

    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
  });
});
