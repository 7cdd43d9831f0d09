import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operator, person } from '../support/service.js';
import type { Recorded } from './support/fake-slack.js';
import { SlackTestBot } from './support/slack-bot.js';

/**
 * Issue 16, point 5, end to end in Slack: a leaver marked for the GP-locum route reaches the NAS
 * GP-locum team's channel (subscribed to the GP-locum organisation) as a claim card, and its
 * "Accept as joiner" runs the joiner as whoever clicked: NAS succeeds, anyone else is refused.
 */
describe('Slack: the NAS GP-locum team’s claim card', () => {
  const bot = new SlackTestBot();
  const LA_X = 'U0LAX';
  const NAS = 'U0NAS';
  let gina = '';
  let claim: Recorded | undefined;

  beforeAll(async () => {
    await bot.start();
    const l = bot.lifecycle;
    await l.addOrganisation(operator(), { ods: 'RXX', name: 'Northtown Hospitals', kind: 'trust' });
    await l.addOrganisation(operator(), { ods: 'Y0LOC', name: 'NAS GP Locums', kind: 'gp-locum' });
    await l.grantRole(operator(), { address: 'la.x@nhs.net', role: 'local-admin', org: 'RXX' });
    await l.grantRole(operator(), { address: 'nas.team@nhs.net', role: 'nas-admin' });
    const made = await l.provision(operator(), { ...person('Gina', 'Doctor'), org: 'RXX' });
    gina = made.account.address;
    await l.firstLogin(operator(), { address: gina, mfa: true });
    bot.slack.emails.set(LA_X, 'la.x@nhs.net');
    bot.slack.emails.set(NAS, 'nas.team@nhs.net');
    await bot.command(LA_X, 'subscribe --org RXX', { channel_id: 'C0RXX' });
    await bot.command(NAS, 'subscribe --org Y0LOC', { channel_id: 'C0LOC' });
  });
  afterAll(async () => {
    await bot.stop();
  });

  it('posts the claim, with the days left and its button, to the GP-locum organisation’s channel only', async () => {
    const marked = await bot.command(LA_X, `leaver ${gina} --gp-locum`);
    expect(marked.text).toContain(
      'The NAS GP-locum team (locumadmin@nhs.net) is asked to join them to Y0LOC',
    );
    await bot.slack.waitFor((calls) =>
      calls.some((c) => c.method === 'chat.postMessage' && c.body.channel === 'C0LOC'),
    );
    const posts = bot.slack.of('chat.postMessage');
    claim = posts.find((p) => p.body.channel === 'C0LOC');
    const blocks = JSON.stringify(claim?.body.blocks);
    expect(String(claim?.body.text)).toContain(`GP-locum claim: ${gina} is leaving RXX`);
    const ends = (await bot.lifecycle.status(operator(), { address: gina })).account.graceExpiresAt;
    expect(blocks).toContain(`30 days left (grace ends ${ends?.slice(0, 10)})`);
    expect(blocks).toContain('Accept as joiner');
    expect(posts.filter((p) => p.body.channel === 'C0RXX')).toHaveLength(0);
  });

  it('refuses a click by the local administrator (not NAS), only to them, changing nothing', async () => {
    if (!claim) throw new Error('no claim posted');
    const click = await bot.click(LA_X, claim, 'transfer_accept_joiner');
    expect(click.updates).toHaveLength(0);
    expect(click.answers[0]?.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(JSON.stringify(click.answers[0]?.body.blocks)).toContain('NOT_YOUR_ORGANISATION');
    expect((await bot.lifecycle.status(operator(), { address: gina })).account).toMatchObject({
      status: 'leaver',
      org: 'RXX',
    });
  });

  it('joins the account to the GP-locum organisation when a NAS administrator clicks', async () => {
    if (!claim) throw new Error('no claim posted');
    const click = await bot.click(NAS, claim, 'transfer_accept_joiner', '1700000500.000001');
    expect(click.updates).toHaveLength(1);
    expect(JSON.stringify(click.updates[0]?.body.blocks)).toContain(`Accepted into Y0LOC by <@${NAS}>`);
    const status = await bot.lifecycle.status(operator(), { address: gina });
    expect(status).toMatchObject({ account: { status: 'active', org: 'Y0LOC' }, transfer: null });
  });
});
