import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../support/engines.js';
import { operator, person } from '../support/service.js';
import { fixture, sentText, TeamsTestBot } from './support/teams-bot.js';

/**
 * Teams end to end: real-shaped activities POSTed to the running bot's /api/messages as the Bot
 * Framework Service would (here without an app id: botbuilder's unauthenticated Emulator mode),
 * and what the bot sends caught by a stand-in for the Bot Connector.
 */
describe('Teams messages over /api/messages', () => {
  const bot = new TeamsTestBot();
  const SAM = '29:1SamAdminTeamsUserId';
  const JANE = '29:1JaneDoeTeamsUserId';
  const GUEST = '29:1GuestTeamsUserId';
  let jane = '';

  beforeAll(async () => {
    await bot.start();
    const l = bot.lifecycle;
    await l.addOrganisation(operator(), { ods: 'RXX', name: 'Northtown Hospitals', kind: 'trust' });
    await l.addOrganisation(operator(), { ods: 'RYY', name: 'Southville Trust', kind: 'trust' });
    await l.grantRole(operator(), { address: 'sam.admin@nhs.net', role: 'local-admin', org: 'RXX' });
    const made = await l.provision(operator(), { ...person('Jane', 'Doe'), org: 'RXX' });
    jane = made.account.address;
    await l.firstLogin(operator(), { address: jane, mfa: true });
    bot.connector.members.set(SAM, {
      id: SAM,
      name: 'Sam Admin',
      aadObjectId: 'aad-sam',
      email: 'Sam.Admin@nhs.net',
    });
    bot.connector.members.set(JANE, {
      id: JANE,
      name: 'Jane Doe',
      aadObjectId: 'aad-jane',
      userPrincipalName: jane,
    });
    bot.connector.members.set(GUEST, {
      id: GUEST,
      name: 'Guest',
      aadObjectId: 'aad-guest',
      email: 'guest@example.org',
    });
  });
  afterAll(async () => {
    await bot.stop();
  });

  it('answers a personal-chat message as a reply to it', async () => {
    const r = await bot.say(SAM, 'help', '1700000000101');
    expect(r.status).toBe(200);
    expect(r.sent).toHaveLength(1);
    expect(r.sent[0]?.path).toBe(
      '/v3/conversations/a%3Apersonal-29%3A1SamAdminTeamsUserId/activities/1700000000101',
    );
    expect(r.sent[0]?.body.replyToId).toBe('1700000000101');
    expect(String(r.sent[0]?.body.text)).toContain('leaver ADDRESS');
    expect(String(r.sent[0]?.body.text)).not.toContain('org add');
  });

  it('runs a rule as the Teams user’s Entra identity, audited as teams', async () => {
    const r = await bot.say(SAM, `leaver ${jane}`);
    expect(sentText(r.sent)).toContain('Marked as a leaver');
    const trail = await bot.lifecycle.auditTrail(operator(), { address: jane });
    expect(trail.at(-1)).toMatchObject({ action: 'leaver', actor: 'sam.admin@nhs.net', platform: 'teams' });
  });

  it('answers status with an Adaptive Card', async () => {
    const r = await bot.say(JANE, 'status');
    // The reply, not a proactive notification the delivery worker may post meanwhile (the leaver
    // notice of the test before): only a reply carries replyToId.
    const reply = r.sent.find((call) => call.body.replyToId !== undefined);
    const attachment = (
      (reply?.body.attachments ?? []) as Array<{ contentType: string; content: unknown }>
    )[0];
    expect(attachment?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    const card = JSON.stringify(attachment?.content);
    expect(card).toContain(jane);
    expect(card).toContain('"value":"leaver"');
    expect(card).toContain('Grace period ends');
    expect(card).toContain('"title":"Directory","value":"none connected. The bot records decisions only');
  });

  it('says which rule refused a command and changes nothing', async () => {
    const before = await bot.lifecycle.auditTrail(operator(), { address: jane });
    const r = await bot.say(JANE, `joiner ${jane} --org RYY`);
    expect(sentText(r.sent)).toContain('Refused (NOT_YOUR_ORGANISATION)');
    const guest = await bot.say(GUEST, 'status');
    expect(sentText(guest.sent)).toContain('IDENTITY_NOT_VERIFIED');
    expect(await bot.lifecycle.auditTrail(operator(), { address: jane })).toEqual(before);
  });

  it('gives a retried activity one effect', async () => {
    const first = await bot.say(SAM, `joiner ${jane} --org RXX`, '1700000000555');
    expect(sentText(first.sent)).toContain('Joined from RXX');
    const retry = await bot.say(SAM, `joiner ${jane} --org RXX`, '1700000000555');
    expect(retry.status).toBe(200);
    // No reply to the retry. The delivery worker may meanwhile post the joiner notice to Jane's
    // personal chat, which is no answer to this activity: only a reply carries replyToId.
    expect(retry.sent.filter((call) => call.body.replyToId !== undefined)).toHaveLength(0);
    const joins = (await bot.lifecycle.auditTrail(operator(), { address: jane })).filter(
      (r) => r.action === 'joiner',
    );
    expect(joins).toHaveLength(1);
  });

  it('strips its own @mention in a channel, subscribes that channel, and keeps its reference', async () => {
    const r = await bot.send(fixture('message-channel-mention.json'));
    expect(sentText(r.sent)).toContain('now receives alerts for Northtown Hospitals (RXX)');
    const subs = await bot.lifecycle.subscriptions(operator(), { org: 'RXX' });
    expect(subs).toEqual([
      expect.objectContaining({ platform: 'teams', channelId: '19:alertsChannel0001@thread.tacv2' }),
    ]);
    const stored = await bot.lifecycle.storedConversation('19:alertsChannel0001@thread.tacv2');
    expect(stored).toMatchObject({ tenant: 'tenant-nhs-0001', conversationType: 'channel' });
    expect(stored?.reference).toMatchObject({
      serviceUrl: bot.connector.serviceUrl,
      conversation: { id: '19:alertsChannel0001@thread.tacv2' },
    });
  });

  it('keeps the reference of a conversation it is installed in, and says hello', async () => {
    await bot.database.db.execute(sql`delete from teams_conversations`);
    const r = await bot.send(fixture('installation-update.json'));
    expect(r.status).toBe(200);
    expect(sentText(r.sent)).toContain('type **help**');
    const rows = await queryRows<{ conversation_id: string }>(
      bot.database.db,
      sql`select conversation_id from teams_conversations`,
    );
    expect(rows).toEqual([{ conversation_id: '19:alertsChannel0001@thread.tacv2' }]);
  });

  it('links a mentioned Teams user', async () => {
    const mention = fixture('message-channel-mention.json');
    const r = await bot.send({
      ...mention,
      id: '1700000000777',
      text: `<at>NHSmail</at> link <at>Guest User</at> ${jane}`,
      entities: [
        ...(mention.entities as unknown[]),
        { type: 'mention', text: '<at>Guest User</at>', mentioned: { id: GUEST, name: 'Guest User' } },
      ],
    });
    expect(sentText(r.sent)).toContain(`now acts as ${jane}`);
    expect(
      await bot.lifecycle.linkedAddress({ platform: 'teams', tenant: 'tenant-nhs-0001', userId: GUEST }),
    ).toBe(jane);
  });

  it('refuses a body that is not an activity', async () => {
    const res = await fetch(bot.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"type": ',
    });
    expect(res.status).toBe(400);
  });
});

describe('Teams with authentication on', () => {
  const bot = new TeamsTestBot({
    MicrosoftAppId: '00000000-0000-4000-8000-00000000b0b1',
    MicrosoftAppPassword: 'not-a-real-secret',
  });
  beforeAll(async () => {
    await bot.start();
    await bot.lifecycle.addOrganisation(operator(), {
      ods: 'RXX',
      name: 'Northtown Hospitals',
      kind: 'trust',
    });
  });
  afterAll(async () => {
    await bot.stop();
  });

  it('refuses an activity without a valid Bot Framework token, with no effect', async () => {
    const activity = fixture('message-channel-mention.json');
    const none = await bot.send(activity);
    expect(none.status).toBe(401);
    const forged = await bot.send(activity, {
      authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl',
    });
    expect(forged.status).toBe(401);
    expect(bot.connector.calls).toHaveLength(0);
    expect(await bot.lifecycle.subscriptions(operator(), { org: 'RXX' })).toEqual([]);
    expect(await bot.lifecycle.storedConversation('19:alertsChannel0001@thread.tacv2')).toBeNull();
  });
});
