import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { SlackTestBot } from '../slack/support/slack-bot.js';
import { operator, person } from '../support/service.js';

/** One id ties a command's log line to the lines about delivering what it queued. */
describe('correlation ids', () => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const bot = new SlackTestBot({}, logger);
  const LA = 'U0LA';

  beforeAll(async () => {
    await bot.start();
    const l = bot.lifecycle;
    await l.addOrganisation(operator(), { ods: 'RXX', name: 'Northtown', kind: 'trust' });
    await l.grantRole(operator(), { address: 'la@nhs.net', role: 'local-admin', org: 'RXX' });
    bot.slack.emails.set(LA, 'la@nhs.net');
  });
  afterAll(async () => {
    await bot.stop();
  });

  it('carries a command’s id onto the deliveries of the notifications it queued', async () => {
    const made = await bot.lifecycle.provision(operator(), { ...person('Lee', 'Leaving'), org: 'RXX' });
    await bot.lifecycle.firstLogin(operator(), { address: made.account.address, mfa: true });
    bot.slack.emails.set('U0LEE', made.account.address);
    await bot.command(LA, `leaver ${made.account.address}`);
    const command = lines.find((l) => l.msg === 'command' && l.command === 'leaver');
    const id = command?.correlationId;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await bot.slack.waitFor((calls) =>
      calls.some((c) => c.method === 'chat.postMessage' && c.body.channel === 'U0LEE'),
    );
    const deadline = Date.now() + 5000;
    const slackDelivery = (l: Record<string, unknown>) =>
      l.msg === 'delivered' && l.correlationId === id && String(l.target).startsWith('slack:');
    while (!lines.some(slackDelivery) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const delivered = lines.find(slackDelivery);
    expect(delivered).toMatchObject({ kind: 'leaver', target: `slack:dm:${made.account.address}` });
    expect(delivered?.delivery).toEqual(expect.any(Number));
  });
});
