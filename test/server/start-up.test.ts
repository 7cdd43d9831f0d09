import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBot, startBot } from '../../adapters/server/main.js';
import { MIGRATION_LOCK } from '../../db/migrate.js';
import { loadConfig } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { createScratchPostgresDatabase, type ScratchDatabase } from '../support/postgres-scratch.js';

/**
 * What Slack, the Bot Framework and the feeds get while the bot is not ready: its migrations are
 * held back by holding their advisory lock from another connection, as a replica migrating the
 * same database would.
 */

const FEED_SECRET = 'a-shared-secret-of-at-least-32-characters';

/** Every line the bot logs, and the port from its "listening" line. */
class Log {
  readonly lines: Array<{ level: number; msg: string; port?: number }> = [];
  readonly logger: Logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => this.lines.push(JSON.parse(line) as Log['lines'][number]) },
  });

  get messages(): string[] {
    return this.lines.map((l) => l.msg);
  }

  async port(): Promise<number> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const port = this.lines.find((l) => l.port !== undefined)?.port;
      if (port !== undefined) return port;
      if (Date.now() > deadline) throw new Error(`no "listening" line: ${this.messages.join('; ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const post = async (port: number, route: string, body = '{"type":"message"}') => {
  const res = await fetch(`http://127.0.0.1:${port}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() };
};

/**
 * Raw HTTP/1.1 on one connection, as a load balancer keeps it open: requests are written as they
 * come, and what came back is read once the server closes the connection.
 */
class Connection {
  private readonly socket: net.Socket;
  private received = '';
  readonly closed: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setEncoding('utf8').on('data', (chunk: string) => {
      this.received += chunk;
    });
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** Waits until `count` responses have begun (a status line each). */
  async responsesBegun(count: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (this.responses().length < count) {
      if (Date.now() > deadline) throw new Error(`only received: ${this.received}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Each response's status line and headers (lower-cased names), in order. */
  responses(): Array<{ status: number; headers: Record<string, string> }> {
    return this.received
      .split(/(?=^HTTP\/1\.1 )/m)
      .filter((part) => part.startsWith('HTTP/1.1 '))
      .map((part) => {
        const [statusLine = '', ...headerLines] = (part.split('\r\n\r\n')[0] ?? '').split('\r\n');
        const headers = Object.fromEntries(
          headerLines.map((line) => {
            const colon = line.indexOf(':');
            return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
          }),
        );
        return { status: Number(statusLine.split(' ')[1]), headers };
      });
  }
}

const request = (method: string, route: string, body = '') =>
  `${method} ${route} HTTP/1.1\r\nhost: bot\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('the bot while it starts and stops', () => {
  let scratch: ScratchDatabase;
  let dir: string;
  let holder: postgres.Sql;
  const running: RunningBot[] = [];
  const env = () => ({
    DATABASE_URL: scratch.url,
    DATA_DIR: dir,
    PORT: '0',
    SWEEP_CATCH_UP: 'false',
  });
  const slackEnv = {
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: 'test-signing-secret',
    SLACK_API_URL: 'http://127.0.0.1:9/api/',
  };

  /** Holds the migrations' advisory lock until `release` is called: a bot starting now waits for it. */
  const holdMigrations = async () => {
    await holder`select pg_advisory_lock(hashtext(${MIGRATION_LOCK}))`;
    return async () => {
      await holder`select pg_advisory_unlock(hashtext(${MIGRATION_LOCK}))`;
    };
  };

  beforeAll(async () => {
    scratch = await createScratchPostgresDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-start-up-'));
    holder = postgres(scratch.url, { max: 1, onnotice: () => {} });
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((bot) => bot.stop()));
  });
  afterAll(async () => {
    await holder.end({ timeout: 5 });
    await scratch.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After on the routes it will serve until its migrations are applied', async () => {
    const release = await holdMigrations();
    const log = new Log();
    const starting = startBot(loadConfig({ ...env(), ...slackEnv, HR_FEED_SECRET: FEED_SECRET }), log.logger);
    try {
      const port = await log.port();
      for (const route of ['/slack/events', '/api/messages', '/hr/starters', '/hr/leavers']) {
        const res = await post(port, route);
        expect({ route, ...res }).toEqual({
          route,
          status: 503,
          retryAfter: '5',
          body: '{"status":"starting"}',
        });
      }
      // Not configured: no such route, now or later.
      expect((await post(port, '/activity')).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(503);
      // The answers above came while the migrations were still waiting.
      expect(log.messages).not.toContain('database ready (migrations applied)');
    } finally {
      await release();
    }
    const bot = await starting;
    running.push(bot);
    // Ready: each adapter answers for itself (Bolt refuses an unsigned request, botbuilder
    // something that is not an activity, the feed a missing secret).
    expect((await post(bot.port, '/slack/events')).status).toBe(401);
    expect((await post(bot.port, '/api/messages', '{}')).status).toBe(400);
    expect((await post(bot.port, '/hr/starters')).status).toBe(401);
    expect((await post(bot.port, '/activity')).status).toBe(404);
  });

  it('answers 404 while starting on the routes this configuration will not serve', async () => {
    const release = await holdMigrations();
    const log = new Log();
    // Production without a Microsoft app id: the Teams adapter will not start, so /api/messages is not a route.
    const starting = startBot(loadConfig({ ...env(), ...slackEnv, NODE_ENV: 'production' }), log.logger);
    try {
      const port = await log.port();
      expect((await post(port, '/slack/events')).status).toBe(503);
      for (const route of ['/api/messages', '/hr/starters', '/activity']) {
        expect({ route, status: (await post(port, route)).status }).toEqual({ route, status: 404 });
      }
    } finally {
      await release();
    }
    running.push(await starting);
  });

  it('answers 503 with Retry-After, and closes the connection, to requests that reach it once stopping', async () => {
    const log = new Log();
    const bot = await startBot(loadConfig({ ...env(), ...slackEnv }), log.logger);
    const connection = new Connection(bot.port);
    // A Slack request whose body is still arriving when the stop begins; the health check
    // pipelined ahead of it is answered only once the server has read both.
    const body = JSON.stringify({ type: 'event_callback', event: { type: 'app_mention' } });
    connection.write(
      request('GET', '/healthz') +
        request('POST', '/slack/events', body).slice(0, -Math.floor(body.length / 2)),
    );
    await connection.responsesBegun(1);
    const stopped = bot.stop();
    // The rest of that body, then the next request on the same connection.
    connection.write(body.slice(-Math.floor(body.length / 2)) + request('POST', '/api/messages', '{}'));
    await connection.closed;
    await stopped;
    const [health, inFlight, late] = connection.responses();
    expect(health?.status).toBe(200);
    // The request that began before the stop is answered by Slack's adapter (unsigned: 401).
    expect(inFlight?.status).toBe(401);
    expect(late).toMatchObject({ status: 503, headers: { 'retry-after': '5', connection: 'close' } });
    expect(log.messages).toContain('stopped');
  });
});
