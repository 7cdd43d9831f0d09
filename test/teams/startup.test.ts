import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot } from '../../adapters/server/main.js';
import { loadConfig } from '../../src/config.js';
import { expectHttpError } from '../support/http-errors.js';
import { createScratchPostgresDatabase, type ScratchDatabase } from '../support/postgres-scratch.js';

async function startUp(env: Record<string, string>) {
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const bot = await startBot(loadConfig({ PORT: '0', ...env }), pino({ level: 'info' }, sink));
  const res = await fetch(`http://127.0.0.1:${bot.port}/api/messages`, { method: 'POST', body: '{}' });
  // Read before the bot stops; kept whole for the error shape's check.
  const response = new Response(await res.text(), { status: res.status, headers: res.headers });
  await bot.stop();
  return { lines, status: res.status, response };
}

describe('Teams adapter at start-up', () => {
  let scratch: ScratchDatabase;
  let dir: string;
  beforeAll(async () => {
    scratch = await createScratchPostgresDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-teams-start-'));
  });
  afterAll(async () => {
    await scratch.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs unauthenticated outside production only with a loud warning', async () => {
    const { lines, status, response } = await startUp({ DATABASE_URL: scratch.url, DATA_DIR: dir });
    await expectHttpError(response, 'MALFORMED_REQUEST');
    const warning = lines.find((l) => l.msg.includes('WITHOUT AUTHENTICATION'));
    expect(warning?.level).toBe(40);
    expect(warning?.msg).toContain('MicrosoftAppId');
    expect(status).toBe(400);
  });

  it('refuses to start the Teams adapter in production without an app id, and says why', async () => {
    const { lines, status, response } = await startUp({
      DATABASE_URL: scratch.url,
      DATA_DIR: dir,
      NODE_ENV: 'production',
    });
    await expectHttpError(response, 'NOT_FOUND');
    const refusal = lines.find((l) => l.msg.includes('Teams adapter not started'));
    expect(refusal?.level).toBe(50);
    expect(refusal?.msg).toContain('NODE_ENV=production and no MicrosoftAppId');
    expect(status).toBe(404);
  });

  it('authenticates requests when an app id is set, and logs no secret', async () => {
    const { lines, status } = await startUp({
      DATABASE_URL: scratch.url,
      DATA_DIR: dir,
      NODE_ENV: 'production',
      MicrosoftAppId: '00000000-0000-4000-8000-00000000b0b1',
      MicrosoftAppPassword: 'client-secret-that-must-not-leak',
    });
    expect(lines.some((l) => l.msg.includes('Teams adapter on: POST /api/messages'))).toBe(true);
    expect(JSON.stringify(lines)).not.toContain('client-secret-that-must-not-leak');
    expect(status).toBe(400);
  });
});
