import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { day, operator, person } from '../support/service.js';
import { SlackTestBot } from './support/slack-bot.js';

describe('Slack channel digests', () => {
  const bot = new SlackTestBot();

  beforeAll(async () => {
    await bot.start();
    const l = bot.lifecycle;
    await l.addOrganisation(operator(), { ods: 'RXX', name: 'Northtown Hospitals', kind: 'trust' });
    await l.addOrganisation(operator(), { ods: 'RYY', name: 'Southville', kind: 'trust' });
    await l.grantRole(operator(), { address: 'la.x@nhs.net', role: 'local-admin', org: 'RXX' });
    bot.slack.emails.set('U0LAX', 'la.x@nhs.net');
    await bot.command('U0LAX', 'subscribe --org RXX', { channel_id: 'C0DIGEST' });
    const now = new Date();
    for (let i = 0; i < 60; i++) {
      const made = await l.provision(operator(day(-25, now)), {
        ...person(`Idle${String.fromCharCode(97 + (i % 26))}`, `Person${i}`),
        org: 'RXX',
      });
      await l.firstLogin(operator(day(-25, now)), { address: made.account.address, mfa: true });
    }
  });
  afterAll(async () => {
    await bot.stop();
  });

  it('posts one digest per run, split across messages when long, each line with its days left', async () => {
    const report = await bot.lifecycle.sweep(operator(new Date()), { dryRun: false });
    expect(report.counts.warnings).toBe(60);
    await bot.slack.waitFor(
      (calls) =>
        calls.filter((c) => c.method === 'chat.postMessage' && c.body.channel === 'C0DIGEST').length >= 2,
    );
    const posts = bot.slack.of('chat.postMessage').filter((c) => c.body.channel === 'C0DIGEST');
    expect(posts).toHaveLength(2);
    expect(String(posts[0]?.body.text)).toBe('60 accounts in RXX lose access soon (part 1 of 2)');
    expect(String(posts[1]?.body.text)).toBe('60 accounts in RXX lose access soon (part 2 of 2)');
    const lines = posts.flatMap((p) =>
      (p.body.blocks as Array<{ type: string; text?: { text: string } }>).filter((b) => b.type === 'section'),
    );
    expect(lines).toHaveLength(60);
    expect(lines[0]?.text?.text).toMatch(/ — 5 days left \(\d{4}-\d{2}-\d{2}\): no login or sent email/);
    // A second sweep the same day queues nothing more, so posts nothing more.
    await bot.lifecycle.sweep(operator(new Date()), { dryRun: false });
    await new Promise((r) => setTimeout(r, 1500));
    expect(bot.slack.of('chat.postMessage').filter((c) => c.body.channel === 'C0DIGEST')).toHaveLength(2);
  });

  it('"Remind" sends the holder a DM as whoever clicked, tells only the clicker, and once an hour at most', async () => {
    const [digest] = bot.slack.of('chat.postMessage').filter((c) => c.body.channel === 'C0DIGEST');
    if (!digest) throw new Error('no digest');
    const line = (digest.body.blocks as Array<{ accessory?: { action_id: string; value: string } }>).find(
      (b) => b.accessory?.action_id === 'digest_remind',
    );
    const { address } = JSON.parse(line?.accessory?.value ?? '{}') as { address: string };
    bot.slack.emails.set('U0IDLE', address);
    const click = await bot.click('U0LAX', digest, 'digest_remind', undefined, {
      expectAnswer: true,
      value: line?.accessory?.value,
    });
    expect(click.updates).toHaveLength(0);
    expect(click.answers[0]?.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(JSON.stringify(click.answers[0]?.body)).toContain(`Reminder queued for ${address}`);
    await bot.slack.waitFor((calls) =>
      calls.some((c) => c.method === 'chat.postMessage' && c.body.channel === 'U0IDLE'),
    );
    const dm = bot.slack.of('chat.postMessage').filter((c) => c.body.channel === 'U0IDLE');
    expect(dm).toHaveLength(1);
    expect(String(dm[0]?.body.text)).toContain(
      `Reminder: your NHSmail account ${address} becomes inactive on`,
    );

    const again = await bot.click('U0LAX', digest, 'digest_remind', undefined, {
      expectAnswer: true,
      value: line?.accessory?.value,
    });
    expect(JSON.stringify(again.answers[0]?.body)).toContain('REMINDED_RECENTLY');
    // Someone who may not see RXX's accounts is refused, and told why.
    await bot.lifecycle.grantRole(operator(), { address: 'la.y@nhs.net', role: 'local-admin', org: 'RYY' });
    bot.slack.emails.set('U0LAY', 'la.y@nhs.net');
    const outsider = await bot.click('U0LAY', digest, 'digest_remind', undefined, { expectAnswer: true });
    expect(JSON.stringify(outsider.answers[0]?.body)).toContain('NOT_YOUR_ORGANISATION');
    expect(bot.slack.of('chat.postMessage').filter((c) => c.body.channel === 'U0IDLE')).toHaveLength(1);
  });
});
