import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { day, operator, person } from '../support/service.js';
import { SlackTestBot } from './support/slack-bot.js';

describe('Slack App Home', () => {
  const bot = new SlackTestBot();
  let jane = '';
  let idle = '';

  beforeAll(async () => {
    await bot.start();
    const l = bot.lifecycle;
    await l.addOrganisation(operator(), { ods: 'RXX', name: 'Northtown Hospitals', kind: 'trust' });
    await l.grantRole(operator(), { address: 'sam.admin@nhs.net', role: 'local-admin', org: 'RXX' });
    const now = new Date();
    const j = await l.provision(operator(now), { ...person('Jane', 'Doe'), org: 'RXX' });
    jane = j.account.address;
    await l.firstLogin(operator(now), { address: jane, mfa: true });
    await l.leaver(operator(now), { address: jane });
    const i = await l.provision(operator(day(-26, now)), { ...person('Ivy', 'Idle'), org: 'RXX' });
    idle = i.account.address;
    await l.firstLogin(operator(day(-26, now)), { address: idle, mfa: true });
    bot.slack.emails.set('U0JANE', jane);
    bot.slack.emails.set('U0LOCALADMIN', 'sam.admin@nhs.net');
    bot.slack.emails.set('U0GUEST', 'someone@example.org');
  });
  afterAll(async () => {
    await bot.stop();
  });

  const publishedFor = async (userId: string, eventId: string) => {
    const before = bot.slack.of('views.publish').length;
    const res = await bot.openHome(userId, eventId);
    expect(res.status).toBe(200);
    await bot.slack.waitFor((calls) => calls.filter((c) => c.method === 'views.publish').length > before);
    const call = bot.slack.of('views.publish').at(-1);
    expect(call?.body.user_id).toBe(userId);
    return JSON.stringify(call?.body.view);
  };

  it('shows a holder their status, organisation and the days left on their clock', async () => {
    const view = await publishedFor('U0JANE', 'Ev0HOME01');
    expect(view).toContain(`*${jane}* — *leaver*, Northtown Hospitals (RXX)`);
    expect(view).toContain('Grace period ends');
    expect(view).toContain('(30 days left)');
    expect(view).not.toContain('Ending in the next 7 days');
  });

  it('shows a local administrator the top of their organisation’s expiring list', async () => {
    const view = await publishedFor('U0LOCALADMIN', 'Ev0HOME02');
    expect(view).toContain('Ending in the next 7 days');
    expect(view).toContain(`*${idle}* (RXX, active): inactive unless used in 4 days`);
  });

  it('tells a user without a verified address how to get linked', async () => {
    const view = await publishedFor('U0GUEST', 'Ev0HOME03');
    expect(view).toContain('link @you');
  });
});
