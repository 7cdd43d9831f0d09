import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operator, person } from '../support/service.js';
import type { ConnectorCall } from './support/fake-connector.js';
import { channelActivity, channelTraffic, fixture, sentText, TeamsTestBot } from './support/teams-bot.js';

/**
 * Issue 16, point 5, end to end in Teams: a leaver marked for the GP-locum route reaches the NAS
 * GP-locum team's channel (subscribed to the GP-locum organisation) as a claim card, and its
 * "Accept as joiner" runs the joiner as whoever clicked: NAS succeeds, anyone else is refused.
 */
describe('Teams: the NAS GP-locum team’s claim card', () => {
  const bot = new TeamsTestBot();
  const LA_X = '29:1LaX';
  const NAS = '29:1Nas';
  const CHANNEL_LOC = '19:channelLocums@thread.tacv2';
  let gina = '';
  let claim: ConnectorCall | undefined;

  const { say: inChannel, click } = channelTraffic(bot);
  const content = (call: ConnectorCall | undefined) =>
    (
      call?.body.attachments as
        | Array<{ content: { actions?: Array<{ title: string; data: unknown }> } }>
        | undefined
    )?.[0]?.content;
  const card = (call: ConnectorCall | undefined) => JSON.stringify(content(call) ?? {});

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
    for (const [id, email] of [
      [LA_X, 'la.x@nhs.net'],
      [NAS, 'nas.team@nhs.net'],
    ] as const) {
      bot.connector.members.set(id, { id, name: id, aadObjectId: `aad-${id}`, email });
    }
    await bot.send({
      ...fixture('installation-update.json'),
      ...channelActivity(CHANNEL_LOC, '0'),
      conversation: {
        isGroup: true,
        conversationType: 'channel',
        tenantId: 'tenant-nhs-0001',
        id: CHANNEL_LOC,
      },
    });
    expect(sentText((await inChannel(NAS, CHANNEL_LOC, 'subscribe --org Y0LOC')).sent)).toContain(
      'now receives alerts',
    );
  });
  afterAll(async () => {
    await bot.stop();
  });

  it('posts the claim card, with the days left and its button, into the GP-locum organisation’s channel', async () => {
    const before = bot.connector.calls.length;
    const marked = await bot.say(LA_X, `leaver ${gina} --gp-locum`);
    expect(sentText(marked.sent)).toContain(
      'The NAS GP-locum team (locumadmin@nhs.net) is asked to join them to Y0LOC',
    );
    const proactive = () =>
      bot.connector.calls
        .slice(before)
        .filter((c) => c.method === 'POST' && c.activityId === undefined && c.conversationId === CHANNEL_LOC);
    const deadline = Date.now() + 10_000;
    while (proactive().length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    claim = proactive()[0];
    const ends = (await bot.lifecycle.status(operator(), { address: gina })).account.graceExpiresAt;
    expect(card(claim)).toContain(`GP-locum claim: ${gina} is leaving RXX`);
    expect(card(claim)).toContain(`30 days left (grace ends ${ends?.slice(0, 10)})`);
    expect(content(claim)?.actions?.map((a) => a.title)).toEqual(['Accept as joiner']);
  });

  it('refuses the local administrator’s click (only NAS acts on GP locums), leaving the card as it was', async () => {
    const data = content(claim)?.actions?.[0]?.data;
    const r = await click(LA_X, CHANNEL_LOC, 'claim-card', data);
    expect(r.sent.filter((c) => c.method === 'PUT')).toHaveLength(0);
    expect(sentText(r.sent)).toContain('Refused (NOT_YOUR_ORGANISATION)');
    expect((await bot.lifecycle.status(operator(), { address: gina })).account).toMatchObject({
      status: 'leaver',
      org: 'RXX',
    });
  });

  it('joins the account to the GP-locum organisation when a NAS administrator clicks', async () => {
    const data = content(claim)?.actions?.[0]?.data;
    const r = await click(NAS, CHANNEL_LOC, 'claim-card', data);
    const update = r.sent.find((c) => c.method === 'PUT');
    expect(update?.activityId).toBe('claim-card');
    expect(card(update)).toContain(`Accepted into Y0LOC by ${NAS}`);
    const status = await bot.lifecycle.status(operator(), { address: gina });
    expect(status).toMatchObject({ account: { status: 'active', org: 'Y0LOC' }, transfer: null });
  });
});
