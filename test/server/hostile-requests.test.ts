import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeSlack, postToBot } from '../slack/support/fake-slack.js';
import { SIGNING_SECRET } from '../slack/support/slack-bot.js';
import { BotProcess, get, until } from '../support/bot-child.js';
import { killLeftoverChildren } from '../support/processes.js';
import { FakeConnector } from '../teams/support/fake-connector.js';

/**
 * No single request may end the bot (issue 12): the real process, over HTTP, sent correctly
 * signed but malformed Slack bodies and malformed Teams activities. Each gets a 400, the process
 * keeps serving, and the log says what was refused.
 */
describe('malformed requests against the running bot process', { timeout: 120_000 }, () => {
  const slack = new FakeSlack();
  const connector = new FakeConnector();
  let dir = '';
  let bot: BotProcess;
  let port = 0;
  const slackEvents = () => `http://127.0.0.1:${port}/slack/events`;
  const signed = (body: string, contentType: string) =>
    postToBot(slackEvents(), body, { secret: SIGNING_SECRET, contentType });
  const form = 'application/x-www-form-urlencoded';

  beforeAll(async () => {
    await slack.start();
    await connector.start();
    dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-hostile-'));
    bot = new BotProcess({
      DATA_DIR: dir,
      SWEEP_CATCH_UP: 'false',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_API_URL: slack.apiUrl,
    });
    port = await bot.port();
    await until(async () => (await get(port, '/readyz')).status === 200, 60_000);
  }, 120_000);
  afterAll(async () => {
    bot.child.kill('SIGTERM');
    await bot.exited;
    killLeftoverChildren();
    await slack.stop();
    await connector.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** The process is alive and still answers. */
  async function stillServing(): Promise<void> {
    await new Promise((r) => setTimeout(r, 200));
    expect(bot.child.exitCode).toBeNull();
    expect((await get(port, '/healthz')).status).toBe(200);
  }

  it('answers 400 to a signed payload=null and a signed JSON null, and keeps serving', async () => {
    expect((await signed('payload=null', form)).status).toBe(400);
    await stillServing();
    expect((await signed('null', 'application/json')).status).toBe(400);
    await stillServing();
    expect((await signed('payload=%5B1%2C2%5D', form)).status).toBe(400);
    expect((await signed('"a string"', 'application/json')).status).toBe(400);
    await stillServing();
    expect(bot.output).toContain('malformed Slack request');
  });

  it('answers 400 to a signed block_actions with no user, a view_submission with no user and a slash command with no user id', async () => {
    const blockActions = {
      type: 'block_actions',
      team: { id: 'T0001' },
      actions: [],
      api_app_id: 'A0NHSMAIL',
    };
    const noUser = await signed(
      new URLSearchParams({ payload: JSON.stringify(blockActions) }).toString(),
      form,
    );
    expect(noUser.status).toBe(400);
    const view = { type: 'view_submission', team: { id: 'T0001' }, view: { callback_id: 'form_provision' } };
    expect(
      (await signed(new URLSearchParams({ payload: JSON.stringify(view) }).toString(), form)).status,
    ).toBe(400);
    const command = new URLSearchParams({ command: '/nhsmail', text: 'help', team_id: 'T0001' }).toString();
    expect((await signed(command, form)).status).toBe(400);
    const event = JSON.stringify({ type: 'event_callback', team_id: 'T0001', event: null });
    expect((await signed(event, 'application/json')).status).toBe(400);
    await stillServing();
    // A well-formed command still works.
    const ok = new URLSearchParams({
      command: '/nhsmail',
      text: 'help',
      team_id: 'T0001',
      user_id: 'U0SOMEONE',
      channel_id: 'C0HELPDESK',
      response_url: slack.responseUrl(),
      trigger_id: '1.2.3',
    }).toString();
    expect((await signed(ok, form)).status).toBe(200);
  });

  it('answers 400 to a Teams activity with no conversation or serviceUrl, and never calls a serviceUrl off this machine', async () => {
    const activity = {
      type: 'message',
      id: '1700000000001',
      channelId: 'msteams',
      from: { id: '29:x', name: 'X' },
      recipient: { id: '28:bot', name: 'NHSmail' },
      conversation: { id: 'a:1', conversationType: 'personal', tenantId: 't' },
      serviceUrl: connector.serviceUrl,
      text: 'help',
    };
    const post = (body: unknown) =>
      fetch(`http://127.0.0.1:${port}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const { conversation: _c, ...noConversation } = activity;
    const { serviceUrl: _s, ...noServiceUrl } = activity;
    for (const bad of [
      noConversation,
      noServiceUrl,
      { ...activity, serviceUrl: 'https://attacker.example.org/' },
      { ...activity, serviceUrl: 'not a url' },
      { ...activity, conversation: { id: 42 } },
    ]) {
      const res = await post(bad);
      expect(res.status).toBe(400);
      expect(await res.text()).not.toMatch(/TypeError|at .*\.js/);
    }
    expect(connector.calls).toEqual([]);
    await stillServing();
    expect((await post(activity)).status).toBe(200);
    expect(connector.calls.length).toBeGreaterThan(0);
  });
});
