import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operator, person } from '../support/service.js';
import { fixture, TeamsTestBot } from './support/teams-bot.js';

/**
 * Activities as Teams really sends them, posted to the running bot. Shapes from public recordings
 * and Microsoft's documentation (test/teams/fixtures/recorded/SOURCES.md): the plain rendering in
 * `text` with `<at>` mentions and entities, the message's HTML in a text/html attachment, a name
 * split into one mention per word, an edit as `messageUpdate`, and a Universal Actions click as an
 * `adaptiveCard/action` invoke answered in the HTTP response.
 */
describe('Teams activities as recorded', () => {
  const bot = new TeamsTestBot();
  const recorded = (name: string) => fixture(`recorded/${name}.json`);
  const SAM = '29:1SamAdminTeamsUserId';
  const jane = 'jane.doe@nhs.net';
  let seq = 0;
  /** A recorded activity with a fresh id, so each test's post is a new message. */
  const fresh = (name: string, changes: Record<string, unknown> = {}) => ({
    ...recorded(name),
    id: `1700000009${String(++seq).padStart(3, '0')}`,
    ...changes,
  });
  const said = (r: { sent: Array<{ body: Record<string, unknown> }> }) =>
    r.sent.map((c) => JSON.stringify(c.body)).join('\n');

  beforeAll(async () => {
    await bot.start();
    const l = bot.lifecycle;
    await l.addOrganisation(operator(), { ods: 'RXX', name: 'Northtown Hospitals', kind: 'trust' });
    await l.addOrganisation(operator(), { ods: 'RYY', name: 'Southville Trust', kind: 'trust' });
    await l.grantRole(operator(), { address: 'sam.admin@nhs.net', role: 'nas-admin' });
    const made = await l.provision(operator(), { ...person('Jane', 'Doe'), org: 'RXX' });
    expect(made.account.address).toBe(jane);
    await l.firstLogin(operator(), { address: jane, mfa: true });
    bot.connector.members.set(SAM, {
      id: SAM,
      name: 'Sam Admin',
      aadObjectId: '5a1b2c3d-0000-4000-8000-000000000001',
      email: 'Sam.Admin@nhs.net',
    });
  });
  afterAll(async () => {
    await bot.stop();
  });

  it('a name typed with &, < and > in a personal chat is stored and shown as typed', async () => {
    const r = await bot.send(fresh('message-personal-html'));
    expect(r.status).toBe(200);
    const site = await bot.lifecycle.showSite(operator(), { ods: 'FQ123' });
    expect(site.site.name).toBe('Boots & Co <Market St> Pharmacy');
    expect(said(r)).toContain('Boots & Co <Market St> Pharmacy');
  });

  it('a group-chat message naming an address acts on that account, the bot’s mention dropped', async () => {
    const r = await bot.send(fresh('message-group-chat'));
    const card = said(r);
    expect(card).toContain(jane);
    expect(card).toContain('active');
  });

  it('a channel message links a user whose name Teams split into one mention per word', async () => {
    const r = await bot.send(fresh('message-channel-mention-entities'));
    expect(said(r)).toContain(`now acts as ${jane}`);
    expect(
      await bot.lifecycle.linkedAddress({
        platform: 'teams',
        tenant: 'tenant-nhs-0001',
        userId: '29:1LocumTeamsUserId',
      }),
    ).toBe(jane);
  });

  it('a mention whose name carries HTML entities is matched to its entity', async () => {
    const r = await bot.send(fresh('message-channel-mention-html-entities'));
    expect(said(r)).toContain(`now acts as ${jane}`);
    expect(
      await bot.lifecycle.linkedAddress({
        platform: 'teams',
        tenant: 'tenant-nhs-0001',
        userId: '29:1SiobhanTeamsUserId',
      }),
    ).toBe(jane);
  });

  it('a pasted, formatted command is read from its HTML, which the plain rendering garbled', async () => {
    await bot.lifecycle.leaver(operator(), { address: jane });
    const r = await bot.send(fresh('message-personal-pasted-html'));
    expect(said(r)).toContain('Joined from RXX');
    expect((await bot.lifecycle.status(operator(), { address: jane })).account).toMatchObject({
      status: 'active',
      org: 'RYY',
    });
  });

  it('an edited message is answered with what to do, not run', async () => {
    const before = await bot.lifecycle.auditTrail(operator(), { address: jane });
    const edit = recorded('message-edited');
    const r = await bot.send({ ...edit, text: `leaver ${jane}` });
    expect(said(r)).toContain('did not run your edit');
    expect(said(r)).toContain(`leaver ${jane}`);
    expect(await bot.lifecycle.auditTrail(operator(), { address: jane })).toEqual(before);
    // Teams repeating the same edit event gets one answer.
    expect((await bot.send({ ...edit, text: `leaver ${jane}` })).sent).toHaveLength(0);
  });

  describe('Universal Actions (adaptiveCard/action invoke)', () => {
    it('runs the click as its Action.Submit would, and answers with the card that replaces it', async () => {
      const r = await bot.send(recorded('invoke-adaptive-card-action'));
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
      const card = r.body?.value as { type: string; body: Array<{ text?: string }> };
      expect(card.type).toBe('AdaptiveCard');
      expect(JSON.stringify(card.body)).toContain('Marked as a leaver by Sam Admin');
      expect((await bot.lifecycle.status(operator(), { address: jane })).account.status).toBe('leaver');
      const trail = await bot.lifecycle.auditTrail(operator(), { address: jane });
      expect(trail.at(-1)).toMatchObject({ action: 'leaver', platform: 'teams', actor: 'sam.admin@nhs.net' });
    });

    it('a repeated invoke changes nothing and says so', async () => {
      const before = await bot.lifecycle.auditTrail(operator(), { address: jane });
      const r = await bot.send(recorded('invoke-adaptive-card-action'));
      expect(r.body).toMatchObject({
        statusCode: 200,
        type: 'application/vnd.microsoft.activity.message',
        value: 'That click was already handled.',
      });
      expect(await bot.lifecycle.auditTrail(operator(), { address: jane })).toEqual(before);
    });

    it('a refused click is answered to the clicker as a message, the card left as it was', async () => {
      const invoke = recorded('invoke-adaptive-card-action');
      const r = await bot.send({ ...invoke, id: 'f:second-click' });
      expect(r.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.activity.message' });
      expect(String(r.body?.value)).toContain('Refused (');
    });

    it('in a channel, the card is also updated for everyone, as an Action.Submit would update it', async () => {
      const invoke = recorded('invoke-adaptive-card-action');
      const channel = recorded('message-channel-mention-entities');
      const r = await bot.send({
        ...invoke,
        id: 'f:channel-click',
        conversation: channel.conversation,
        channelData: { ...(channel.channelData as object), source: { name: 'message' } },
        value: {
          action: {
            type: 'Action.Execute',
            verb: 'transfer_accept_joiner',
            data: { address: jane, from: 'RYY', to: 'RXX' },
          },
          trigger: 'manual',
        },
      });
      expect(r.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
      const update = r.sent.find((c) => c.method === 'PUT');
      expect(update?.activityId).toBe(invoke.replyToId);
      expect(JSON.stringify(update?.body)).toContain('Accepted into RXX by Sam Admin');
    });

    it('a form submitted by Action.Execute with a bad field comes back with the error beside it', async () => {
      const invoke = recorded('invoke-adaptive-card-action');
      const r = await bot.send({
        ...invoke,
        id: 'f:form-click',
        value: {
          action: {
            type: 'Action.Execute',
            verb: 'form',
            data: { form: 'form_provision', given: 'Ann', family: 'Lee', org: 'R!X' },
          },
          trigger: 'manual',
        },
      });
      expect(r.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
      expect(JSON.stringify(r.body?.value)).toContain('is not an ODS code');
    });

    it('an action that is not one of the bot’s gets a protocol error naming what to do', async () => {
      const invoke = recorded('invoke-adaptive-card-action');
      const r = await bot.send({
        ...invoke,
        id: 'f:unknown-click',
        value: { action: { type: 'Action.Execute', verb: 'deleteEverything', data: {} }, trigger: 'manual' },
      });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        statusCode: 400,
        type: 'application/vnd.microsoft.error',
        value: { code: 'UNKNOWN_ACTION' },
      });
      expect((r.body?.value as { message?: string } | undefined)?.message).toContain('try "help"');
    });
  });
});
