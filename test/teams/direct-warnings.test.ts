import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { day, operator, person } from '../support/service.js';
import { TeamsTestBot } from './support/teams-bot.js';

describe('Teams direct messages to the account holder', () => {
  const bot = new TeamsTestBot();
  const IDA = '29:1IdaIdle';
  let idle = '';

  beforeAll(async () => {
    await bot.start();
    const l = bot.lifecycle;
    await l.addOrganisation(operator(), { ods: 'RXX', name: 'Northtown Hospitals', kind: 'trust' });
    const past = day(-27, new Date());
    const made = await l.provision(operator(past), { ...person('Ida', 'Idle'), org: 'RXX' });
    idle = made.account.address;
    await l.firstLogin(operator(past), { address: idle, mfa: true });
    bot.connector.members.set(IDA, { id: IDA, name: 'Ida Idle', aadObjectId: 'aad-ida', email: idle });
  });
  afterAll(async () => {
    await bot.stop();
  });

  it('warns the holder in their personal chat, once they have spoken to the bot', async () => {
    await bot.say(IDA, 'help');
    expect((await bot.lifecycle.personalConversation(idle))?.conversationId).toBe(`a:personal-${IDA}`);
    const before = bot.connector.calls.length;
    await bot.lifecycle.sweep(operator(new Date()), { dryRun: false });
    const deadline = Date.now() + 10_000;
    const sent = () =>
      bot.connector.calls
        .slice(before)
        .filter((c) => c.method === 'POST' && c.conversationId === `a:personal-${IDA}`);
    while (sent().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(sent()).toHaveLength(1);
    expect(sent()[0]?.activityId).toBeUndefined();
    expect(String(sent()[0]?.body.text)).toContain(
      `Your NHSmail account ${idle} has not been used for a while`,
    );
  });
});
