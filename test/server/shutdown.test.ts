import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openRuntime, type Runtime } from '../../adapters/runtime.js';
import { MIGRATION_LOCK } from '../../db/migrate.js';
import { loadConfig } from '../../src/config.js';
import { FakeSlack } from '../slack/support/fake-slack.js';
import { SIGNING_SECRET } from '../slack/support/slack-bot.js';
import { BotProcess, get, until } from '../support/bot-child.js';
import { queryRows } from '../support/engines.js';
import { createScratchPostgresDatabase, type ScratchDatabase } from '../support/postgres-scratch.js';
import { killLeftoverChildren } from '../support/processes.js';
import { activeAccount, as, operator, person } from '../support/service.js';

describe('the bot process: readiness and shutdown', { timeout: 120_000 }, () => {
  afterEach(() => killLeftoverChildren());

  it('is live at once, ready only once its database is migrated, and stops with exit 0', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-ready-'));
    try {
      const bot = new BotProcess({ DATA_DIR: dir, SWEEP_CATCH_UP: 'false' });
      const port = await bot.port();
      const seen: string[] = [];
      await until(async () => {
        const ready = await get(port, '/readyz');
        seen.push(`${ready.status}:${ready.body?.status}`);
        return ready.status === 200;
      });
      expect((await get(port, '/healthz')).status).toBe(200);
      // The embedded database takes a moment to open and migrate: not ready until then.
      expect(seen[0]).toBe('503:starting');
      expect(seen.at(-1)).toBe('200:ready');
      bot.child.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
      expect(bot.output).toContain('"msg":"stopped"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('SIGTERM during start-up', () => {
    /** What a clean stop during start-up logs, and nothing at error level. */
    const expectStoppedDuringStartUp = (output: string) => {
      expect(output).toContain('"msg":"shutting down during start-up"');
      expect(output).toContain('"msg":"stopped during start-up"');
      expect(output).not.toContain('"msg":"ready"');
      expect(output).not.toMatch(/"level":(50|60)/);
      expect(output).not.toContain('failed');
    };

    it('on PostgreSQL, while its migrations wait for another process: stops and exits 0', async () => {
      const scratch = await createScratchPostgresDatabase();
      const dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-start-sigterm-'));
      // Another process migrating the same database: this bot waits behind its advisory lock.
      const holder = postgres(scratch.url, { max: 1, onnotice: () => {} });
      try {
        await holder`select pg_advisory_lock(hashtext(${MIGRATION_LOCK}))`;
        const bot = new BotProcess({ DATABASE_URL: scratch.url, DATA_DIR: dir });
        const port = await bot.port();
        await until(async () => {
          const waiting = await holder<{ n: number }[]>`
            select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`;
          return waiting[0]?.n === 1;
        });
        expect((await get(port, '/readyz')).body?.status).toBe('starting');
        bot.child.kill('SIGTERM');
        expect(await bot.exited).toBe(0);
        expectStoppedDuringStartUp(bot.output);
        // Its session waits on in the server until the lock is free, then finds the bot gone and
        // rolls back: nothing of it is left behind.
        await holder`select pg_advisory_unlock(hashtext(${MIGRATION_LOCK}))`;
        await until(async () => {
          const [left] = await holder<{ n: number }[]>`
            select count(*)::int as n from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid()`;
          return left?.n === 0;
        }, 10_000);
      } finally {
        await holder.end({ timeout: 5 });
        await scratch.drop();
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('on the embedded database, while it opens: exits 0, and the next start opens it', async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-start-sigterm-'));
      try {
        const bot = new BotProcess({ DATA_DIR: dir, SWEEP_CATCH_UP: 'false' });
        // The port is logged before the embedded database is opened and migrated, which takes a while.
        await bot.port();
        expect(bot.output).not.toContain('database ready');
        bot.child.kill('SIGTERM');
        expect(await bot.exited).toBe(0);
        expectStoppedDuringStartUp(bot.output);

        // The lock in DATA_DIR was released and the database closed cleanly: a new bot opens it.
        const again = new BotProcess({ DATA_DIR: dir, SWEEP_CATCH_UP: 'false' });
        const port = await again.port();
        await until(async () => (await get(port, '/readyz')).status === 200, 60_000);
        again.child.kill('SIGTERM');
        expect(await again.exited).toBe(0);
        expect(again.output).toContain('"msg":"stopped"');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }, 90_000);
  });

  describe('SIGTERM during a delivery', () => {
    const slack = new FakeSlack();
    let scratch: ScratchDatabase;
    let seed: Runtime;
    let dir: string;
    let env: Record<string, string>;

    beforeAll(async () => {
      await slack.start();
      scratch = await createScratchPostgresDatabase();
      dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-sigterm-'));
      env = {
        DATABASE_URL: scratch.url,
        DATA_DIR: dir,
        SLACK_BOT_TOKEN: 'xoxb-test-token',
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl,
        DELIVERY_SCHEDULE: '* * * * * *',
        SWEEP_CATCH_UP: 'false',
      };
      seed = await openRuntime(loadConfig(env));
    });
    afterAll(async () => {
      await seed.close();
      await scratch.drop();
      await slack.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('finishes the send it started, marks it delivered, and nothing is sent twice after a restart', async () => {
      const l = seed.lifecycle;
      await l.addOrganisation(operator(), { ods: 'RXX', name: 'Northtown', kind: 'trust' });
      await l.subscribe(
        {
          ...operator(),
          platform: 'slack',
          chat: {
            platform: 'slack',
            tenant: 'T0001',
            userId: 'U0LA',
            channelId: 'C0X',
            parseMention: () => null,
          },
        },
        { org: 'RXX' },
      );
      const holder = await activeAccount(l, 'RXX', person('Sid', 'Staff'));
      await l.leaver(as(holder), { address: holder });

      slack.holdPostMessage = true;
      const bot = new BotProcess(env);
      const port = await bot.port();
      await until(() => slack.heldCount === 1);
      bot.child.kill('SIGTERM');
      // It stops taking work at once, but waits for Slack to answer the send in flight.
      await until(async () => (await get(port, '/readyz')).status !== 200, 5_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(bot.child.exitCode).toBeNull();
      slack.holdPostMessage = false;
      slack.releaseHeld();
      expect(await bot.exited).toBe(0);

      const posted = () =>
        slack.calls.filter((c) => c.method === 'chat.postMessage' && c.body.channel === 'C0X');
      expect(posted()).toHaveLength(1);
      const rows = await queryRows<{ state: string }>(seed.database.db, sql`select state from deliveries`);
      expect(rows).toEqual([{ state: 'delivered' }]);

      // A new process finds nothing left to send.
      const again = new BotProcess(env);
      await again.port();
      await new Promise((r) => setTimeout(r, 2500));
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
      expect(posted()).toHaveLength(1);
    });
  });
});
