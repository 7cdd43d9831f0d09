import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateAdaptiveCard } from '../support/schemas.js';
import { operator, person } from '../support/service.js';
import type { ConnectorCall } from './support/fake-connector.js';
import { channelActivity, channelTraffic, fixture, sentText, TeamsTestBot } from './support/teams-bot.js';

/**
 * Issue 16, long absence, end to end in Teams: a manager who types `disable` asks the home
 * organisation's local administrators, whose subscribed channel gets a disable-request card; its
 * "Disable" runs `disable` as whoever clicked: a local administrator succeeds (the card is replaced
 * by the outcome), the manager is refused and nothing changes.
 */
describe('Teams: a manager’s disable request', () => {
  const bot = new TeamsTestBot();
  const LA_X = '29:1LaX';
  const MANAGER_X = '29:1MgrX';
  const CHANNEL_RXX = '19:channelNorthtown@thread.tacv2';
  // The bot runs on the real clock: seed at it, and ask for a return date ~200 days after it.
  const seed = () => operator(new Date());
  const until = new Date(Date.now() + 200 * 86_400_000).toISOString().slice(0, 10);
  let mia = '';
  let request: ConnectorCall | undefined;

  const { say: inChannel, click } = channelTraffic(bot);
  const content = (call: ConnectorCall | undefined) =>
    (
      call?.body.attachments as
        | Array<{ content: { actions?: Array<{ type: string; title: string; data: unknown }> } }>
        | undefined
    )?.[0]?.content;
  const card = (call: ConnectorCall | undefined) => JSON.stringify(content(call) ?? {});
  const account = async () => (await bot.lifecycle.status(seed(), { address: mia })).account;

  beforeAll(async () => {
    await bot.start();
    const l = bot.lifecycle;
    await l.addOrganisation(seed(), { ods: 'RXX', name: 'Northtown Hospitals', kind: 'trust' });
    await l.grantRole(seed(), { address: 'la.x@nhs.net', role: 'local-admin', org: 'RXX' });
    await l.grantRole(seed(), { address: 'mgr.x@nhs.net', role: 'manager', org: 'RXX' });
    const made = await l.provision(seed(), { ...person('Mia', 'Mother'), org: 'RXX' });
    mia = made.account.address;
    await l.firstLogin(seed(), { address: mia, mfa: true });
    for (const [id, email] of [
      [LA_X, 'la.x@nhs.net'],
      [MANAGER_X, 'mgr.x@nhs.net'],
    ] as const) {
      bot.connector.members.set(id, { id, name: id, aadObjectId: `aad-${id}`, email });
    }
    await bot.send({
      ...fixture('installation-update.json'),
      ...channelActivity(CHANNEL_RXX, '0'),
      conversation: {
        isGroup: true,
        conversationType: 'channel',
        tenantId: 'tenant-nhs-0001',
        id: CHANNEL_RXX,
      },
    });
    expect(sentText((await inChannel(LA_X, CHANNEL_RXX, 'subscribe --org RXX')).sent)).toContain(
      'now receives alerts',
    );
  });
  afterAll(async () => {
    await bot.stop();
  });

  it('asks the local administrators, posting a valid disable-request card to the organisation’s channel', async () => {
    const before = bot.connector.calls.length;
    const asked = await bot.say(MANAGER_X, `disable ${mia} --reason "maternity leave" --until ${until}`);
    expect(sentText(asked.sent)).toContain(
      `Asked the local administrators of Northtown Hospitals (RXX) to disable ${mia}`,
    );
    expect(await account()).toMatchObject({ status: 'active', disabledReason: null, disabledUntil: null });
    const proactive = () =>
      bot.connector.calls
        .slice(before)
        .filter((c) => c.method === 'POST' && c.activityId === undefined && c.conversationId === CHANNEL_RXX);
    const deadline = Date.now() + 10_000;
    while (proactive().length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    request = proactive()[0];
    expect(request).toBeDefined();
    expect(validateAdaptiveCard(content(request))).toEqual([]);
    expect(card(request)).toContain('Disable request');
    expect(card(request)).toContain(
      `asks for ${mia} to be disabled for a long absence (maternity leave, due back ${until})`,
    );
    expect(content(request)?.actions).toEqual([
      expect.objectContaining({
        type: 'Action.Submit',
        title: 'Disable',
        data: { nhsmail: 'disable_request_disable', address: mia, reason: 'maternity leave', until },
      }),
    ]);
  });

  it('refuses the manager’s click, leaving the card and the account as they were', async () => {
    const data = content(request)?.actions?.[0]?.data;
    const r = await click(MANAGER_X, CHANNEL_RXX, 'request-card', data);
    expect(r.sent.filter((c) => c.method === 'PUT')).toHaveLength(0);
    expect(sentText(r.sent)).toContain('Refused (NOT_YOUR_ORGANISATION)');
    expect(await account()).toMatchObject({ status: 'active', disabledReason: null });
  });

  it('disables the account when a local administrator clicks, replacing the card with the outcome', async () => {
    const data = content(request)?.actions?.[0]?.data;
    const r = await click(LA_X, CHANNEL_RXX, 'request-card', data);
    const update = r.sent.find((c) => c.method === 'PUT');
    expect(update?.activityId).toBe('request-card');
    expect(validateAdaptiveCard(content(update))).toEqual([]);
    expect(card(update)).toContain('Disable request');
    expect(card(update)).toContain(`✅ Disabled by ${LA_X}`);
    expect(content(update)?.actions ?? []).toHaveLength(0);
    const now = await account();
    expect(now).toMatchObject({ status: 'disabled', disabledReason: 'maternity leave' });
    expect(now.disabledUntil?.slice(0, 10)).toBe(until);
    const trail = (await bot.lifecycle.auditTrail(seed(), { address: mia })).filter((t) =>
      t.action.startsWith('disable'),
    );
    expect(trail.map((t) => [t.action, t.actor, t.platform, t.to])).toEqual([
      ['disable-request', 'mgr.x@nhs.net', 'teams', 'active'],
      ['disable', 'la.x@nhs.net', 'teams', 'disabled'],
    ]);
  });
});
