import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotProcess, get, until } from '../support/bot-child.js';
import { killLeftoverChildren } from '../support/processes.js';

const APP_PASSWORD = 'Zq7-app-password-never-logged';

/** Every line the process wrote, each parsed as the JSON log line it must be. */
function logLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON log line: ${JSON.stringify(line)}\nwhole output:\n${output}`);
      }
    });
}

const activity = (serviceUrl: string) => ({
  type: 'message',
  id: '1700000000101',
  channelId: 'msteams',
  from: { id: '29:someone', name: 'Someone', aadObjectId: '00000000-0000-0000-0000-0000000000aa' },
  recipient: { id: '28:bot', name: 'NHSmail' },
  conversation: { id: 'a:personal-1', conversationType: 'personal', tenantId: 'tenant-1' },
  serviceUrl,
  text: 'help',
});

const post = (port: number, body: unknown) =>
  fetch(`http://127.0.0.1:${port}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/**
 * botbuilder writes to the console itself: `console.error(err)` (a stack over many lines, and an
 * HTTP error's request and response) when a turn's error handler fails or a request is not
 * authenticated. In the running bot every line it writes is one JSON log line, through the same
 * redaction as the rest (issue 12, item 5).
 */
describe('botbuilder’s console output in the running bot', { timeout: 120_000 }, () => {
  const dirs: string[] = [];
  // A Bot Connector that is down: every reply is refused with a 500.
  const connector = http.createServer((req, res) => {
    req.resume();
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'ServiceError', message: 'The connector is down' } }));
  });
  let serviceUrl = '';
  const start = async (env: Record<string, string>) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-console-'));
    dirs.push(dir);
    const bot = new BotProcess({ DATA_DIR: dir, SWEEP_CATCH_UP: 'false', ...env });
    const port = await bot.port();
    await until(async () => (await get(port, '/readyz')).status === 200, 60_000);
    return { bot, port };
  };
  const bots: BotProcess[] = [];

  beforeAll(async () => {
    await new Promise<void>((resolve) => connector.listen(0, '127.0.0.1', resolve));
    serviceUrl = `http://127.0.0.1:${(connector.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    for (const bot of bots) bot.child.kill('SIGTERM');
    await Promise.all(bots.map((b) => b.exited));
    killLeftoverChildren();
    await new Promise((resolve) => connector.close(resolve));
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('a turn whose reply and error reply both fail: JSON lines only, the failure logged once each', async () => {
    const { bot, port } = await start({});
    bots.push(bot);
    await post(port, activity(serviceUrl));
    await until(() => bot.output.includes('teams turn failed'), 20_000);
    // The error reply's failure, and botbuilder's own line if any, come within moments.
    await new Promise((r) => setTimeout(r, 1000));
    const lines = logLines(bot.output);
    expect(lines.filter((l) => l.msg === 'teams turn failed')).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'teams: the error reply could not be sent either')).toEqual([
      expect.objectContaining({ component: 'teams', err: expect.objectContaining({ type: 'RestError' }) }),
    ]);
    expect(bot.output).not.toMatch(/\n\s+at /);
    expect(bot.child.exitCode).toBeNull();
  });

  it('a request without a Bot Framework token: 401, and botbuilder’s complaint as one JSON line', async () => {
    const { bot, port } = await start({
      MicrosoftAppId: '00000000-0000-0000-0000-00000000b0b0',
      MicrosoftAppPassword: APP_PASSWORD,
    });
    bots.push(bot);
    const res = await post(port, activity('https://smba.trafficmanager.net/uk/'));
    expect(res.status).toBe(401);
    await until(() => bot.output.includes('Unauthorized'), 10_000);
    await new Promise((r) => setTimeout(r, 200));
    const lines = logLines(bot.output);
    const complaint = lines.find((l) => String(l.msg).includes('Unauthorized'));
    expect(complaint).toMatchObject({ source: 'console', level: 50 });
    expect(bot.output).not.toMatch(/\n\s+at /);
    expect(bot.output).not.toContain(APP_PASSWORD);
  });
});
