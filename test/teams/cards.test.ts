import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { day, operator, person } from '../support/service.js';
import type { ConnectorCall } from './support/fake-connector.js';
import { fixture, sentText, TeamsTestBot } from './support/teams-bot.js';

describe('Teams Adaptive Card forms and buttons', () => {
  const bot = new TeamsTestBot();
  const LA_X = '29:1LaX';
  const LA_Y = '29:1LaY';
  const MGR_X = '29:1MgrX';
  const LOCUM = '29:1Locum';
  const CHANNEL_X = '19:channelRxx@thread.tacv2';
  const CHANNEL_Y = '19:channelRyy@thread.tacv2';
  let locum = '';
  let seq = 0;

  /** An Adaptive Card submission, as Teams sends it: a message whose value is the action's data. */
  const submit = (
    userId: string,
    conversationId: string,
    replyToId: string,
    value: Record<string, string>,
    id?: string,
  ) => {
    seq++;
    const base = fixture('message-personal.json');
    const channel = conversationId.startsWith('19:');
    return bot.send({
      ...base,
      id: id ?? `1700000900${String(seq).padStart(3, '0')}`,
      text: undefined,
      replyToId,
      value,
      from: { id: userId, name: userId, aadObjectId: `aad-${userId}` },
      conversation: {
        conversationType: channel ? 'channel' : 'personal',
        tenantId: 'tenant-nhs-0001',
        id: channel ? `${conversationId};messageid=${replyToId}` : conversationId,
      },
      channelData: channel
        ? { channel: { id: conversationId }, tenant: { id: 'tenant-nhs-0001' } }
        : { tenant: { id: 'tenant-nhs-0001' } },
    });
  };
  const install = async (channelId: string) => {
    const base = fixture('installation-update.json');
    await bot.send({
      ...base,
      conversation: {
        isGroup: true,
        conversationType: 'channel',
        tenantId: 'tenant-nhs-0001',
        id: channelId,
      },
      channelData: { channel: { id: channelId }, tenant: { id: 'tenant-nhs-0001' } },
    });
  };
  const inChannel = (userId: string, channelId: string, text: string) => {
    seq++;
    const base = fixture('message-channel-mention.json');
    return bot.send({
      ...base,
      id: `1700000800${String(seq).padStart(3, '0')}`,
      text: `<at>NHSmail</at> ${text}`,
      from: { id: userId, name: userId },
      conversation: {
        isGroup: true,
        conversationType: 'channel',
        tenantId: 'tenant-nhs-0001',
        id: `${channelId};messageid=1`,
      },
      channelData: { channel: { id: channelId }, tenant: { id: 'tenant-nhs-0001' } },
    });
  };
  const card = (call: ConnectorCall | undefined) =>
    JSON.stringify((call?.body.attachments as Array<{ content: unknown }> | undefined)?.[0]?.content ?? {});

  beforeAll(async () => {
    await bot.start();
    const l = bot.lifecycle;
    await l.addOrganisation(operator(), { ods: 'RXX', name: 'Northtown Hospitals', kind: 'trust' });
    await l.addOrganisation(operator(), { ods: 'RYY', name: 'Southville Trust', kind: 'trust' });
    await l.grantRole(operator(), { address: 'la.x@nhs.net', role: 'local-admin', org: 'RXX' });
    await l.grantRole(operator(), { address: 'la.y@nhs.net', role: 'local-admin', org: 'RYY' });
    await l.grantRole(operator(), { address: 'mgr.x@nhs.net', role: 'manager', org: 'RXX' });
    const made = await l.provision(operator(), { ...person('Lou', 'Cum'), org: 'RXX' });
    locum = made.account.address;
    await l.firstLogin(operator(), { address: locum, mfa: true });
    for (const [id, email] of [
      [LA_X, 'la.x@nhs.net'],
      [LA_Y, 'la.y@nhs.net'],
      [MGR_X, 'mgr.x@nhs.net'],
      [LOCUM, locum],
    ] as const) {
      bot.connector.members.set(id, { id, name: id, aadObjectId: `aad-${id}`, email });
    }
  });
  afterAll(async () => {
    await bot.stop();
  });

  describe('forms', () => {
    const personal = `a:personal-${LA_X}`;

    it('answers provision without flags with a form card', async () => {
      const r = await bot.say(LA_X, 'provision');
      const form = card(r.sent[0]);
      expect(form).toContain('"type":"Input.Text","id":"given"');
      expect(form).toContain('"id":"mobile"');
      expect(form).toContain('"data":{"nhsmail":"form","form":"form_provision"}');
    });

    it('shows a bad value under its field in the replaced card, and creates nothing', async () => {
      const r = await submit(LA_X, personal, 'form-card-1', {
        nhsmail: 'form',
        form: 'form_provision',
        given: 'Ann',
        family: 'Lee',
        org: 'RXX',
        mobile: '0161 496 0000',
      });
      const update = r.sent.find((c) => c.method === 'PUT');
      expect(update?.activityId).toBe('form-card-1');
      const form = card(update);
      expect(form).toContain('That is not a UK mobile number');
      expect(form).toContain('"value":"0161 496 0000"');
      await expect(bot.lifecycle.status(operator(), { address: 'ann.lee@nhs.net' })).rejects.toThrow(
        'not an account',
      );
    });

    it('runs a good submission and replaces the card with the outcome', async () => {
      const r = await submit(LA_X, personal, 'form-card-2', {
        nhsmail: 'form',
        form: 'form_provision',
        given: 'Ann',
        family: 'Lee',
        org: 'RXX',
        dob: '1990-05-06',
        delivery: 'envelope',
      });
      expect(card(r.sent.find((c) => c.method === 'PUT'))).toContain('Created ann.lee@nhs.net (pending)');
      expect((await bot.lifecycle.status(operator(), { address: 'ann.lee@nhs.net' })).account.status).toBe(
        'pending',
      );
    });

    it('shows a duplicate with a button that starts a joiner instead', async () => {
      await bot.lifecycle.firstLogin(operator(), { address: 'ann.lee@nhs.net', mfa: true });
      await bot.lifecycle.leaver(operator(), { address: 'ann.lee@nhs.net' });
      const r = await submit(LA_X, personal, 'form-card-3', {
        nhsmail: 'form',
        form: 'form_provision',
        given: 'Anne',
        family: 'Lee',
        org: 'RXX',
        dob: '1990-05-06',
      });
      const outcome = card(r.sent.find((c) => c.method === 'PUT'));
      expect(outcome).toContain('DUPLICATE_PERSON');
      expect(outcome).toContain('"nhsmail":"duplicate_start_joiner","address":"ann.lee@nhs.net","org":"RXX"');
      const click = await submit(LA_X, personal, 'form-card-3', {
        nhsmail: 'duplicate_start_joiner',
        address: 'ann.lee@nhs.net',
        org: 'RXX',
      });
      expect(card(click.sent.find((c) => c.method === 'PUT'))).toContain('Joined from RXX');
      expect((await bot.lifecycle.status(operator(), { address: 'ann.lee@nhs.net' })).account.status).toBe(
        'active',
      );
    });
  });

  describe('the site register form', () => {
    const personal = `a:personal-${LA_X}`;
    const home = {
      nhsmail: 'form',
      form: 'form_site_register',
      ods: 'VN4J1',
      kind: 'care-home',
      name: 'Rose Care Home',
      dspt: 'approaching-standards',
      'owner-given': 'Rita',
      'owner-family': 'Rowe',
    };

    it('has a field for a care home’s CQC location ID', async () => {
      const r = await bot.say(LA_X, 'site register');
      const form = card(r.sent[0]);
      expect(form).toContain(
        '"placeholder":"1-101661355","id":"cqc-location","label":"CQC location ID (care homes)"',
      );
      expect(form).toContain('"data":{"nhsmail":"form","form":"form_site_register"}');
    });

    it('shows a care home’s missing or malformed CQC location ID under its field, and registers nothing', async () => {
      const missing = card(
        (await submit(LA_X, personal, 'form-card-cqc', home)).sent.find((c) => c.method === 'PUT'),
      );
      expect(missing).toContain('add --cqc-location, \\"1-\\" then digits');
      const bad = card(
        (await submit(LA_X, personal, 'form-card-cqc', { ...home, 'cqc-location': '1-ABC' })).sent.find(
          (c) => c.method === 'PUT',
        ),
      );
      expect(bad).toContain('is not a CQC location ID');
      expect(bad).toContain('"value":"1-ABC"');
      await expect(bot.lifecycle.showSite(operator(), { ods: 'VN4J1' })).rejects.toThrow('No organisation');
    });
  });

  describe('transfer requests in channels', () => {
    let leaverCard: ConnectorCall | undefined;

    it('posts the request proactively into the subscribed channels of both organisations', async () => {
      await install(CHANNEL_X);
      await install(CHANNEL_Y);
      expect(sentText((await inChannel(LA_X, CHANNEL_X, 'subscribe --org RXX')).sent)).toContain(
        'now receives alerts',
      );
      expect(sentText((await inChannel(LA_Y, CHANNEL_Y, 'subscribe --org RYY')).sent)).toContain(
        'now receives alerts',
      );
      const before = bot.connector.calls.length;
      expect(sentText((await bot.say(LOCUM, 'transfer to RYY')).sent)).toContain('from RXX to RYY requested');
      const deadline = Date.now() + 10_000;
      const proactive = () =>
        bot.connector.calls.slice(before).filter((c) => c.method === 'POST' && c.activityId === undefined);
      while (proactive().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      leaverCard = proactive().find((c) => c.conversationId === CHANNEL_X);
      expect(card(leaverCard)).toContain('Mark as leaver');
      expect(card(proactive().find((c) => c.conversationId === CHANNEL_Y))).toContain('Accept as joiner');
    });

    it('refuses a click by someone without the role, leaving the card as it was', async () => {
      const r = await submit(MGR_X, CHANNEL_X, 'card-x', {
        nhsmail: 'transfer_mark_leaver',
        address: locum,
        from: 'RXX',
        to: 'RYY',
      });
      expect(r.sent.filter((c) => c.method === 'PUT')).toHaveLength(0);
      expect(sentText(r.sent)).toContain('Refused (NOT_YOUR_ORGANISATION)');
      expect((await bot.lifecycle.status(operator(), { address: locum })).account.status).toBe('active');
    });

    it('updates the card in place to show who acted; a retried or second click changes nothing', async () => {
      const value = { nhsmail: 'transfer_mark_leaver', address: locum, from: 'RXX', to: 'RYY' };
      const r = await submit(LA_X, CHANNEL_X, 'card-x', value, '1700000999001');
      const update = r.sent.find((c) => c.method === 'PUT');
      expect(update?.activityId).toBe('card-x');
      expect(card(update)).toContain(`Marked as a leaver by ${LA_X}`);
      expect(card(update)).not.toContain('Action.Submit');
      expect((await bot.lifecycle.status(operator(), { address: locum })).account.status).toBe('leaver');
      const trail = await bot.lifecycle.auditTrail(operator(), { address: locum });
      const retry = await submit(LA_X, CHANNEL_X, 'card-x', value, '1700000999001');
      expect(retry.sent).toHaveLength(0);
      const second = await submit(LA_X, CHANNEL_X, 'card-x', value);
      expect(sentText(second.sent)).toContain('ALREADY_LEAVER');
      expect(await bot.lifecycle.auditTrail(operator(), { address: locum })).toEqual(trail);
    });

    it('completes the move when the target accepts from its card', async () => {
      const r = await submit(LA_Y, CHANNEL_Y, 'card-y', {
        nhsmail: 'transfer_accept_joiner',
        address: locum,
        from: 'RXX',
        to: 'RYY',
      });
      expect(card(r.sent.find((c) => c.method === 'PUT'))).toContain(`Accepted into RYY by ${LA_Y}`);
      expect((await bot.lifecycle.status(operator(), { address: locum })).account).toMatchObject({
        status: 'active',
        org: 'RYY',
      });
    });
  });

  describe('digests in channels', () => {
    it('puts a button on each line; "Remind" answers in the channel and leaves the digest as it was', async () => {
      const now = new Date();
      const idle = await bot.lifecycle.provision(operator(day(-25, now)), {
        ...person('Ivy', 'Idle'),
        org: 'RXX',
      });
      await bot.lifecycle.firstLogin(operator(day(-25, now)), { address: idle.account.address, mfa: true });
      const going = await bot.lifecycle.provision(operator(day(-26, now)), {
        ...person('Gus', 'Going'),
        org: 'RXX',
      });
      await bot.lifecycle.firstLogin(operator(day(-26, now)), { address: going.account.address, mfa: true });
      await bot.lifecycle.leaver(operator(day(-25, now)), { address: going.account.address });
      const before = bot.connector.calls.length;
      await bot.lifecycle.sweep(operator(now, 'schedule'), { dryRun: false });
      const deadline = Date.now() + 10_000;
      const digest = () =>
        bot.connector.calls
          .slice(before)
          .find(
            (c) =>
              c.method === 'POST' && c.conversationId === CHANNEL_X && card(c).includes('lose access soon'),
          );
      while (!digest() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const content = card(digest());
      expect(content).toContain(`"data":{"nhsmail":"digest_remind","address":"${idle.account.address}"}`);
      expect(content).toContain(
        `"data":{"nhsmail":"digest_accept_joiner","address":"${going.account.address}","org":"RXX"}`,
      );

      const r = await submit(MGR_X, CHANNEL_X, 'digest-x', {
        nhsmail: 'digest_remind',
        address: idle.account.address,
      });
      expect(r.sent.filter((c) => c.method === 'PUT')).toHaveLength(0);
      expect(sentText(r.sent)).toContain(`Reminder queued for ${idle.account.address}`);
      const again = await submit(MGR_X, CHANNEL_X, 'digest-x', {
        nhsmail: 'digest_remind',
        address: idle.account.address,
      });
      expect(sentText(again.sent)).toContain('Refused (REMINDED_RECENTLY)');

      const accept = await submit(LA_X, CHANNEL_X, 'digest-x', {
        nhsmail: 'digest_accept_joiner',
        address: going.account.address,
        org: 'RXX',
      });
      expect(accept.sent.filter((c) => c.method === 'PUT')).toHaveLength(0);
      expect(sentText(accept.sent)).toContain('Joined');
      expect(
        (await bot.lifecycle.status(operator(), { address: going.account.address })).account.status,
      ).toBe('active');
    });
  });
});
