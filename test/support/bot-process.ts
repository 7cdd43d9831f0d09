import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openRuntime, type Runtime } from '../../adapters/runtime.js';
import { type RunningBot, startBot } from '../../adapters/server/main.js';
import { loadConfig } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { createScratchPostgresDatabase, type ScratchDatabase } from './postgres-scratch.js';

/**
 * The real bot process, started in-process on a fresh PostgreSQL database, plus a second runtime
 * on the same database for seeding and checking state. Chat test harnesses build on it.
 */
export class BotUnderTest {
  private bot: RunningBot | undefined;
  private scratch: ScratchDatabase | undefined;
  private seed: Runtime | undefined;
  private dir = '';

  get port(): number {
    return this.bot?.port ?? 0;
  }

  get lifecycle() {
    if (!this.seed) throw new Error('bot not started');
    return this.seed.lifecycle;
  }

  get database() {
    if (!this.seed) throw new Error('bot not started');
    return this.seed.database;
  }

  async start(
    env: Record<string, string>,
    logger: Logger = createLogger({ level: 'silent' }),
  ): Promise<void> {
    this.scratch = await createScratchPostgresDatabase();
    this.dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-bot-'));
    const config = loadConfig({
      DATABASE_URL: this.scratch.url,
      DATA_DIR: this.dir,
      PORT: '0',
      LOG_LEVEL: 'silent',
      // Deliver every second, and no sweep at start unless a test asks for one: tests seed and sweep themselves.
      DELIVERY_SCHEDULE: '* * * * * *',
      SWEEP_CATCH_UP: 'false',
      ...env,
    });
    this.bot = await startBot(config, logger);
    this.seed = await openRuntime(config);
  }

  async stop(): Promise<void> {
    await this.bot?.stop();
    await this.seed?.close();
    await this.scratch?.drop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
