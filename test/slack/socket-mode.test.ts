import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { openRuntime, type Runtime } from '../../adapters/runtime.js';
import { type RunningBot, startBot } from '../../adapters/server/main.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createScratchPostgresDatabase, type ScratchDatabase } from '../support/postgres-scratch.js';
import { operator } from '../support/service.js';
import { FakeSlack } from './support/fake-slack.js';

/**
 * Socket Mode end to end: the bot asks apps.connections.open (on the stand-in Web API) for a
 * WebSocket, connects to a local stand-in for Slack's Socket Mode server, and receives a slash
 * command envelope; it must acknowledge the envelope on the socket and answer via response_url.
 */
describe('Slack over Socket Mode', () => {
  const slack = new FakeSlack();
  let wss: WebSocketServer;
  let socket: WebSocket | undefined;
  const received: Array<Record<string, unknown>> = [];
  let scratch: ScratchDatabase;
  let dir: string;
  let bot: RunningBot;
  let seed: Runtime;

  beforeAll(async () => {
    await slack.start();
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const address = wss.address();
    slack.socketUrl = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/link/?ticket=test`;
    const connected = new Promise<void>((resolve) => {
      wss.on('connection', (ws) => {
        socket = ws;
        ws.on('message', (data) => received.push(JSON.parse(String(data)) as Record<string, unknown>));
        ws.send(
          JSON.stringify({
            type: 'hello',
            num_connections: 1,
            debug_info: { host: 'applink-test', build_number: 1, approximate_connection_time: 18060 },
            connection_info: { app_id: 'A0NHSMAIL' },
          }),
        );
        resolve();
      });
    });
    scratch = await createScratchPostgresDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-socket-'));
    const config = loadConfig({
      DATABASE_URL: scratch.url,
      DATA_DIR: dir,
      PORT: '0',
      LOG_LEVEL: 'silent',
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_APP_TOKEN: 'xapp-1-test',
      SLACK_API_URL: slack.apiUrl,
    });
    bot = await startBot(config, createLogger({ level: 'silent' }));
    seed = await openRuntime(config);
    await connected;
    await seed.lifecycle.addOrganisation(operator(), {
      ods: 'RXX',
      name: 'Northtown Hospitals',
      kind: 'trust',
    });
    await seed.lifecycle.grantRole(operator(), {
      address: 'sam.admin@nhs.net',
      role: 'local-admin',
      org: 'RXX',
    });
    slack.emails.set('U0LOCALADMIN', 'sam.admin@nhs.net');
  });
  afterAll(async () => {
    await bot.stop();
    await seed.close();
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await slack.stop();
    await scratch.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('connects with the app token, acks a slash command envelope and answers it', async () => {
    const open = slack.of('apps.connections.open')[0];
    expect(open?.authorization).toBe('Bearer xapp-1-test');
    const fixture = JSON.parse(
      readFileSync(path.join(import.meta.dirname, 'fixtures', 'slash-command.json'), 'utf8'),
    ) as Record<string, string>;
    const responseUrl = slack.responseUrl();
    socket?.send(
      JSON.stringify({
        envelope_id: 'b9a5c6e0-0001',
        type: 'slash_commands',
        accepts_response_payload: true,
        payload: {
          ...fixture,
          text: 'provision --given Sue --family Socket --org RXX --delivery envelope',
          response_url: responseUrl,
        },
      }),
    );
    await slack.waitFor((calls) => calls.some((c) => c.path === new URL(responseUrl).pathname));
    expect(received.map((m) => m.envelope_id)).toContain('b9a5c6e0-0001');
    const answer = slack.calls.find((c) => c.path === new URL(responseUrl).pathname);
    expect(JSON.stringify(answer?.body.blocks)).toContain('Created sue.socket@nhs.net (pending)');
    const status = await seed.lifecycle.status(operator(), { address: 'sue.socket@nhs.net' });
    expect(status.account.status).toBe('pending');
  });
});
