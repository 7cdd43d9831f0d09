import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { day, operator, person } from '../support/service.js';
import { SlackTestBot } from './support/slack-bot.js';

describe('Slack direct messages to the account holder', () => {
  const bot = new SlackTestBot();
  let idle = '';
  let nobody = '';

  beforeAll(async () => {
    await bot.start();
    const l = bot.lifecycle;
    await l.addOrganisation(operator(), { ods: 'RXX', name: 'Northtown Hospitals', kind: 'trust' });
    const now = new Date();
    const a = await l.provision(operator(day(-27, now)), { ...person('Ida', 'Idle'), org: 'RXX' });
    idle = a.account.address;
    await l.firstLogin(operator(day(-27, now)), { address: idle, mfa: true });
    const b = await l.provision(operator(day(-27, now)), { ...person('Noah', 'Slack'), org: 'RXX' });
    nobody = b.account.address;
    await l.firstLogin(operator(day(-27, now)), { address: nobody, mfa: true });
    bot.slack.emails.set('U0IDA', idle);
  });
  afterAll(async () => {
    await bot.stop();
  });

  it('warns the holder by DM with what to do to keep the account, once', async () => {
    const report = await bot.lifecycle.sweep(operator(new Date()), { dryRun: false });
    expect(report.counts.warnings).toBe(2);
    await bot.slack.waitFor((calls) =>
      calls.some((c) => c.method === 'chat.postMessage' && c.body.channel === 'U0IDA'),
    );
    const dm = bot.slack.of('chat.postMessage').filter((c) => c.body.channel === 'U0IDA');
    expect(dm).toHaveLength(1);
    expect(String(dm[0]?.body.text)).toContain(`Your NHSmail account ${idle} has not been used for a while`);
    expect(String(dm[0]?.body.text)).toContain('3 days from now');
    expect(String(dm[0]?.body.text)).toContain('Log in at https://portal.nhs.net or send an email');
    expect(
      bot.slack
        .of('users.lookupByEmail')
        .map((c) => c.body.email)
        .sort(),
    ).toEqual([idle, nobody].sort());
    // Someone with no Slack account is not an error: nothing parked, nothing sent.
    expect(await bot.lifecycle.failedNotifications(operator())).toEqual([]);
    await bot.lifecycle.sweep(operator(new Date()), { dryRun: false });
    await new Promise((r) => setTimeout(r, 1200));
    expect(bot.slack.of('chat.postMessage').filter((c) => c.body.channel === 'U0IDA')).toHaveLength(1);
  });
});
