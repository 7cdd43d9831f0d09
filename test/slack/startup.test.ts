import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot } from '../../adapters/server/main.js';
import { loadConfig } from '../../src/config.js';
import { createScratchPostgresDatabase, type ScratchDatabase } from '../support/postgres-scratch.js';
import { FakeSlack } from './support/fake-slack.js';

/** Starts the bot with `env`, returns what it logged at start-up, and stops it. */
async function startUpLog(env: Record<string, string>): Promise<{ lines: string[]; status: number }> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const bot = await startBot(loadConfig({ PORT: '0', ...env }), pino({ level: 'info' }, sink));
  const res = await fetch(`http://127.0.0.1:${bot.port}/slack/events`, { method: 'POST', body: '{}' });
  await bot.stop();
  return { lines, status: res.status };
}

describe('Slack adapter at start-up', () => {
  let scratch: ScratchDatabase;
  let dir: string;
  const slack = new FakeSlack();
  beforeAll(async () => {
    scratch = await createScratchPostgresDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-start-'));
    await slack.start();
  });
  afterAll(async () => {
    await slack.stop();
    await scratch.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('is off with no Slack configuration, and the log says how to turn it on', async () => {
    const { lines, status } = await startUpLog({ DATABASE_URL: scratch.url, DATA_DIR: dir });
    const off = lines.find((l) => l.includes('Slack adapter off'));
    expect(off).toContain('SLACK_BOT_TOKEN');
    expect(off).toContain('SLACK_SIGNING_SECRET');
    expect(off).toContain('SLACK_APP_TOKEN');
    expect(status).toBe(404);
  });

  it('serves POST /slack/events over HTTP when configured, and logs no secret', async () => {
    const secret = 'a-signing-secret-that-must-not-leak';
    const { lines, status } = await startUpLog({
      DATABASE_URL: scratch.url,
      DATA_DIR: dir,
      SLACK_BOT_TOKEN: 'xoxb-secret-token-value',
      SLACK_SIGNING_SECRET: secret,
      SLACK_API_URL: slack.apiUrl,
    });
    expect(lines.some((l) => l.includes('Slack adapter on: POST /slack/events'))).toBe(true);
    expect(status).toBe(401);
    const all = lines.join('\n');
    expect(all).not.toContain(secret);
    expect(all).not.toContain('xoxb-secret-token-value');
  });
});
