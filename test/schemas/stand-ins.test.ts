import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeSlack } from '../slack/support/fake-slack.js';
import { FakeConnector } from '../teams/support/fake-connector.js';

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const modal = (title: string) => ({
  type: 'modal',
  title: { type: 'plain_text', text: title },
  blocks: [section('x')],
});

describe('FakeSlack refuses what Slack refuses for its blocks, and says so', () => {
  const slack = new FakeSlack();
  let client: webApi.WebClient;

  beforeAll(async () => {
    await slack.start();
    client = new webApi.WebClient('xoxb-test', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
  });
  afterAll(async () => {
    await slack.stop();
  });

  it('answers invalid_blocks to a message over the limits, and records why', async () => {
    const blocks = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    await expect(client.chat.postMessage({ channel: 'C0X', text: 'x', blocks })).rejects.toMatchObject({
      code: 'slack_webapi_platform_error',
      data: { ok: false, error: 'invalid_blocks', errors: ['/blocks has 51 items; the limit is 50'] },
    });
    await expect(
      client.chat.update({ channel: 'C0X', ts: '1.2', text: 'x', blocks: [section('x'.repeat(3001))] }),
    ).rejects.toMatchObject({ data: { error: 'invalid_blocks' } });
    await expect(
      client.chat.postEphemeral({ channel: 'C0X', user: 'U0X', text: 'x', blocks: [section('')] }),
    ).rejects.toMatchObject({ data: { error: 'invalid_blocks' } });
    const answer = await fetch(slack.responseUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        text: 'x',
        blocks: [{ type: 'header', text: { type: 'plain_text', text: 'x'.repeat(151) } }],
      }),
    });
    expect(await answer.json()).toMatchObject({ ok: false, error: 'invalid_blocks' });
    const refused = slack.takeInvalid();
    expect(refused.map((c) => c.method)).toEqual([
      'chat.postMessage',
      'chat.update',
      'chat.postEphemeral',
      'response_url',
    ]);
    expect(refused.every((c) => c.refused === 'invalid_blocks' && (c.problems?.length ?? 0) > 0)).toBe(true);
  });

  it('answers invalid_arguments to a view over the limits', async () => {
    await expect(
      client.views.open({ trigger_id: 't', view: modal('A title longer than 24 chars') as never }),
    ).rejects.toMatchObject({
      data: { error: 'invalid_arguments', errors: ['/title/text is 28 characters long; the limit is 24'] },
    });
    await expect(
      client.views.publish({
        user_id: 'U0X',
        view: { type: 'home', blocks: Array.from({ length: 101 }, () => ({ type: 'divider' })) } as never,
      }),
    ).rejects.toMatchObject({
      data: { error: 'invalid_arguments' },
    });
    expect(slack.takeInvalid().map((c) => c.method)).toEqual(['views.open', 'views.publish']);
  });

  it('takes what keeps to the limits', async () => {
    await expect(
      client.chat.postMessage({ channel: 'C0X', text: 'x', blocks: [section('x'.repeat(3000))] }),
    ).resolves.toMatchObject({ ok: true });
    await expect(
      client.views.update({ view_id: 'V1', view: modal('x'.repeat(24)) as never }),
    ).resolves.toMatchObject({ ok: true });
    expect(slack.invalid).toEqual([]);
  });

  it('fails the test file that leaves a refusal unexamined', async () => {
    const other = new FakeSlack();
    await other.start();
    await new webApi.WebClient('xoxb-test', { slackApiUrl: other.apiUrl, retryConfig: { retries: 0 } }).chat
      .postMessage({ channel: 'C0X', text: 'x'.repeat(40_001) })
      .catch(() => undefined);
    await expect(other.stop()).rejects.toThrow(
      /refused 1 call\(s\)[\s\S]*chat\.postMessage: \/text is 40001 characters long/,
    );
  });
});

describe('FakeConnector refuses an activity whose Adaptive Card fails the 1.5 schema', () => {
  const connector = new FakeConnector();
  const card = (body: unknown[]) => ({
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        content: { type: 'AdaptiveCard', version: '1.5', body },
      },
    ],
  });
  const send = (method: 'POST' | 'PUT', path: string, activity: unknown) =>
    fetch(`${connector.serviceUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(activity),
    });

  beforeAll(async () => {
    await connector.start();
  });
  afterAll(async () => {
    await connector.stop();
  });

  it('answers 400 with an error body to a reply, a proactive post or an update with an invalid card', async () => {
    const bad = card([{ type: 'TextBlock', text: 'x', colour: 'Attention' }]);
    for (const [method, path] of [
      ['POST', 'v3/conversations/a%3A1/activities/17'],
      ['POST', 'v3/conversations/19%3Ax%40thread.tacv2/activities'],
      ['PUT', 'v3/conversations/a%3A1/activities/17'],
    ] as const) {
      const res = await send(method, path, bad);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: {
          code: 'BadArgument',
          message:
            'The Adaptive Card is not valid: attachments/0: /body/0 must NOT have the property "colour"',
        },
      });
    }
    expect(connector.calls).toEqual([]);
    expect(connector.takeInvalid()).toHaveLength(3);
  });

  it('answers 413 to a message past Teams’ size limit', async () => {
    const res = await send('POST', 'v3/conversations/a%3A1/activities', {
      type: 'message',
      text: 'x'.repeat(60_000),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'MessageSizeTooBig' } });
    expect(connector.takeInvalid()).toHaveLength(1);
  });

  it('takes a valid card', async () => {
    const res = await send(
      'POST',
      'v3/conversations/a%3A1/activities',
      card([{ type: 'TextBlock', text: 'x', wrap: true }]),
    );
    expect(res.status).toBe(200);
    expect(connector.calls).toHaveLength(1);
  });

  it('fails the test file that leaves a refusal unexamined', async () => {
    const other = new FakeConnector();
    await other.start();
    await fetch(`${other.serviceUrl}v3/conversations/a%3A1/activities`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(card([{ type: 'Nonsense' }])),
    });
    await expect(other.stop()).rejects.toThrow(/refused 1 activity[\s\S]*is of type "Nonsense"/);
  });
});
