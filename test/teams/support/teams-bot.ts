import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openRuntime, type Runtime } from '../../../adapters/runtime.js';
import { type RunningBot, startBot } from '../../../adapters/server/main.js';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';
import { createScratchPostgresDatabase, type ScratchDatabase } from '../../support/postgres-scratch.js';
import { FakeConnector } from './fake-connector.js';

export const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'fixtures', name), 'utf8')) as Record<
    string,
    unknown
  >;

/**
 * The real bot process (in-process) on a fresh PostgreSQL database with the Teams adapter on,
 * activities POSTed to /api/messages as the Bot Framework Service would, with a serviceUrl that
 * points at a FakeConnector.
 */
export class TeamsTestBot {
  readonly connector = new FakeConnector();
  private bot: RunningBot | undefined;
  private scratch: ScratchDatabase | undefined;
  private seed: Runtime | undefined;
  private dir = '';
  private seq = 0;

  constructor(private readonly env: Record<string, string> = {}) {}

  get url(): string {
    return `http://127.0.0.1:${this.bot?.port ?? 0}/api/messages`;
  }

  get lifecycle() {
    if (!this.seed) throw new Error('bot not started');
    return this.seed.lifecycle;
  }

  get database() {
    if (!this.seed) throw new Error('bot not started');
    return this.seed.database;
  }

  async start(): Promise<void> {
    await this.connector.start();
    this.scratch = await createScratchPostgresDatabase();
    this.dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-teams-'));
    const config = loadConfig({
      DATABASE_URL: this.scratch.url,
      DATA_DIR: this.dir,
      PORT: '0',
      LOG_LEVEL: 'silent',
      ...this.env,
    });
    this.bot = await startBot(config, createLogger({ level: 'silent' }));
    this.seed = await openRuntime(config);
  }

  async stop(): Promise<void> {
    await this.bot?.stop();
    await this.seed?.close();
    await this.connector.stop();
    await this.scratch?.drop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  /** POSTs an activity (a fixture with changes) and returns the HTTP response and what the bot sent meanwhile. */
  async send(activity: Record<string, unknown>, headers: Record<string, string> = {}) {
    const before = this.connector.calls.length;
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ ...activity, serviceUrl: this.connector.serviceUrl }),
    });
    return { status: res.status, sent: this.connector.calls.slice(before) };
  }

  /** A personal-chat message from a Teams user, with a fresh activity id unless one is given. */
  async say(userId: string, text: string, id?: string) {
    this.seq++;
    const base = fixture('message-personal.json');
    return this.send({
      ...base,
      id: id ?? `17000000${String(this.seq).padStart(5, '0')}`,
      text,
      from: { id: userId, name: userId, aadObjectId: `aad-${userId}` },
      conversation: { conversationType: 'personal', tenantId: 'tenant-nhs-0001', id: `a:personal-${userId}` },
    });
  }
}

/** The text of what the bot sent: message text and the Adaptive Cards' TextBlocks and facts. */
export function sentText(calls: Array<{ body: Record<string, unknown> }>): string {
  return calls.map((c) => JSON.stringify(c.body)).join('\n');
}
