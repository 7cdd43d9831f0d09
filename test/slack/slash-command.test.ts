import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operator, person } from '../support/service.js';
import { postToBot } from './support/fake-slack.js';
import { SIGNING_SECRET, SlackTestBot } from './support/slack-bot.js';

/**
 * Slack end to end: signed, real-shaped payloads POSTed to the running bot's /slack/events, and
 * what the bot sends caught by a stand-in for the Slack Web API and response URLs.
 */
describe('Slack /nhsmail over HTTP', () => {
  const bot = new SlackTestBot();
  const LA = 'U0LOCALADMIN';
  const GUEST = 'U0GUEST';
  const HOLDER = 'U0HOLDER';
  const LOCUM = 'U0LOCUM';
  let jane = '';
  let locum = '';

  beforeAll(async () => {
    await bot.start();
    bot.slack.emails.set(LA, 'Sam.Admin@nhs.net');
    bot.slack.emails.set(GUEST, 'sam@example.org');
    const l = bot.lifecycle;
    await l.addOrganisation(operator(), { ods: 'RXX', name: 'Northtown Hospitals', kind: 'trust' });
    await l.addOrganisation(operator(), { ods: 'RYY', name: 'Southville Trust', kind: 'trust' });
    await l.grantRole(operator(), { address: 'sam.admin@nhs.net', role: 'local-admin', org: 'RXX' });
    const made = await l.provision(operator(), { ...person('Jane', 'Doe'), org: 'RXX' });
    jane = made.account.address;
    await l.firstLogin(operator(), { address: jane, mfa: true });
    bot.slack.emails.set(HOLDER, jane);
    const lou = await l.provision(operator(), { ...person('Lou', 'Cum'), org: 'RXX' });
    locum = lou.account.address;
    await l.firstLogin(operator(), { address: locum, mfa: true });
    bot.slack.emails.set(LOCUM, locum);
  });
  afterAll(async () => {
    await bot.stop();
  });

  it('acknowledges at once and answers ephemerally through the response URL', async () => {
    const r = await bot.command(LA, 'help');
    expect(r.ack.status).toBe(200);
    expect(r.answers).toHaveLength(1);
    expect(r.answers[0]?.body).toMatchObject({ response_type: 'ephemeral' });
    expect(r.text).toContain('leaver ADDRESS');
    // Operator-only commands are not offered in Slack.
    expect(r.text).not.toContain('org add');
    // The actor was read from the Slack profile.
    expect(bot.slack.of('users.info').map((c) => c.body.user)).toContain(LA);
  });

  it('runs a rule with the Slack user’s verified @nhs.net identity, audited as slack', async () => {
    const r = await bot.command(LA, `leaver ${jane}`);
    expect(r.text).toContain('Marked as a leaver');
    const status = await bot.lifecycle.status(operator(), { address: jane });
    expect(status.account.status).toBe('leaver');
    const trail = await bot.lifecycle.auditTrail(operator(), { address: jane });
    expect(trail.at(-1)).toMatchObject({ action: 'leaver', actor: 'sam.admin@nhs.net', platform: 'slack' });
  });

  it('says which rule refused a command and what to do instead, changing nothing', async () => {
    const before = await bot.lifecycle.auditTrail(operator(), { address: jane });
    const r = await bot.command(LA, `joiner ${jane} --org RYY`);
    expect(r.text).toContain('Refused (NOT_YOUR_ORGANISATION)');
    expect(r.text).toContain('RYY');
    const malformed = await bot.command(LA, 'leaver jane@gmail.com');
    expect(malformed.text).toContain('NOT_NHS_NET');
    const operatorOnly = await bot.command(LA, 'sweep');
    expect(operatorOnly.text).toContain('OPERATOR_ONLY');
    const asOperator = await bot.command(LA, `status ${jane} --as x@nhs.net`);
    expect(asOperator.text).toContain('only for operators');
    expect(await bot.lifecycle.auditTrail(operator(), { address: jane })).toEqual(before);
  });

  it('lets a user without an @nhs.net profile ask help and contact only, until an administrator links them', async () => {
    const help = await bot.command(GUEST, 'contact locum');
    expect(help.text).toContain('transfer');
    const status = await bot.command(GUEST, 'status');
    expect(status.text).toContain('IDENTITY_NOT_VERIFIED');
    expect(status.text).toContain('link @you');

    const linked = await bot.command(LA, `link <@${GUEST}|sam> ${jane}`);
    expect(linked.text).toContain(`now acts as ${jane}`);
    // The profile cache still says "not nhs.net", and the link now says who they are.
    const mine = await bot.command(GUEST, 'status');
    expect(mine.text).toContain(`${jane}: leaver`);
  });

  it('refuses to link a chat user to an address holding more than the linker, so nobody becomes NAS', async () => {
    // The red team's reproduction (issue 12): nadia is homed in RXX and holds nas-admin.
    const l = bot.lifecycle;
    const made = await l.provision(operator(), { ...person('Nadia', 'Nas'), org: 'RXX' });
    const nadia = made.account.address;
    await l.grantRole(operator(), { address: nadia, role: 'nas-admin' });
    const ATTACKER = 'U0ATTACKER';
    bot.slack.emails.set(ATTACKER, 'someone@example.org');

    const link = await bot.command(LA, `link <@${ATTACKER}|att> ${nadia}`);
    expect(link.text).toContain('Refused (LINK_BEYOND_YOUR_ROLES)');
    expect(link.text).toContain('Ask NAS or the operator');
    const grant = await bot.command(ATTACKER, 'grant sam.admin@nhs.net nas-admin');
    expect(grant.text).not.toContain('Granted');
    expect(await l.linkedAddress({ platform: 'slack', tenant: 'T0001', userId: ATTACKER })).toBeNull();
    const roles = await bot.database.db.execute(
      sql`select role from roles where address = 'sam.admin@nhs.net'`,
    );
    expect(JSON.stringify(roles)).not.toContain('nas-admin');
  });

  it('posts a subscription in the channel, for the organisation’s administrators only', async () => {
    const r = await bot.command(LA, 'subscribe --org RXX', { channel_id: 'C0ALERTS' });
    expect(r.answers[0]?.body).toMatchObject({ response_type: 'in_channel' });
    expect(r.text).toContain('now receives alerts for Northtown Hospitals (RXX)');
    const list = await bot.command(LA, 'subscriptions', { channel_id: 'C0ALERTS' });
    expect(list.text).toContain('RXX');
    const refused = await bot.command(HOLDER, 'subscribe --org RXX', { channel_id: 'C0OTHER' });
    expect(refused.answers[0]?.body).toMatchObject({ response_type: 'ephemeral' });
    expect(refused.text).toContain('NOT_YOUR_ORGANISATION');
    expect(await bot.lifecycle.subscriptions(operator(), { org: 'RXX' })).toHaveLength(1);
  });

  it('acknowledges before any database work, even while the account row is locked', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked = () => {};
    const lockTaken = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holder = bot.database.db.transaction(async (tx) => {
      await tx.execute(sql`select 1 from accounts where address = ${locum} for update`);
      locked();
      await held;
    });
    await lockTaken;
    const responseUrl = bot.slack.responseUrl();
    const body = new URLSearchParams({
      team_id: 'T0001',
      user_id: LA,
      command: '/nhsmail',
      text: `leaver ${locum}`,
      channel_id: 'C0HELPDESK',
      response_url: responseUrl,
      trigger_id: '1.2.3',
    }).toString();
    const ack = await postToBot(bot.url, body, {
      secret: SIGNING_SECRET,
      contentType: 'application/x-www-form-urlencoded',
    });
    // The ack came back while the database could not yet do the work.
    expect(ack.status).toBe(200);
    expect(bot.slack.calls.some((c) => c.path === new URL(responseUrl).pathname)).toBe(false);
    release();
    await holder;
    await bot.slack.waitFor((calls) => calls.some((c) => c.path === new URL(responseUrl).pathname));
    expect((await bot.lifecycle.status(operator(), { address: locum })).account.status).toBe('leaver');
    // Put the locum back for the tests below.
    await bot.lifecycle.joiner(operator(), { address: locum, org: 'RXX' });
  });

  describe('forged and stale requests', () => {
    const body = () =>
      new URLSearchParams({
        team_id: 'T0001',
        user_id: LA,
        command: '/nhsmail',
        text: `reactivate ${jane}`,
        channel_id: 'C0HELPDESK',
        response_url: bot.slack.responseUrl(),
        trigger_id: '1.2.3',
      }).toString();

    it('refuses a forged signature, an old timestamp and a malformed body, with no effect', async () => {
      const callsBefore = bot.slack.calls.length;
      const forged = await postToBot(bot.url, body(), {
        secret: 'not-the-signing-secret',
        contentType: 'application/x-www-form-urlencoded',
      });
      expect(forged.status).toBe(401);
      const stale = await postToBot(bot.url, body(), {
        secret: SIGNING_SECRET,
        contentType: 'application/x-www-form-urlencoded',
        timestamp: Math.floor(Date.now() / 1000) - 6 * 60,
      });
      expect(stale.status).toBe(401);
      const malformed = await postToBot(bot.url, '{"this is": not json', {
        secret: SIGNING_SECRET,
        contentType: 'application/json',
      });
      expect(malformed.status).toBeGreaterThanOrEqual(400);
      await new Promise((r) => setTimeout(r, 300));
      // Nothing looked the caller up or answered them (background deliveries may run meanwhile).
      const answered = bot.slack.calls
        .slice(callsBefore)
        .filter((c) => c.method === 'users.info' || c.method === 'response_url' || c.method === 'views.open');
      expect(answered).toEqual([]);
      expect((await bot.lifecycle.status(operator(), { address: jane })).account.status).toBe('leaver');
    });
  });

  it('runs a replayed signed slash command once (the same request within Slack’s 5 minutes)', async () => {
    const before = await bot.lifecycle.auditTrail(operator(), { address: locum });
    const payload = new URLSearchParams({
      token: 'x',
      team_id: 'T0001',
      user_id: LA,
      channel_id: 'C0HELPDESK',
      command: '/nhsmail',
      text: `activity <mailto:${locum}|${locum}>`,
      response_url: bot.slack.responseUrl(),
      trigger_id: '13345224609.738474920.replayed',
    }).toString();
    const timestamp = Math.floor(Date.now() / 1000);
    const options = { secret: SIGNING_SECRET, contentType: 'application/x-www-form-urlencoded', timestamp };
    expect((await postToBot(bot.url, payload, options)).status).toBe(200);
    expect((await postToBot(bot.url, payload, options)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 800));
    const after = await bot.lifecycle.auditTrail(operator(), { address: locum });
    expect(after.length - before.length).toBe(1);
  });

  describe('direct messages', () => {
    it('answers plain words in a DM, and a retried event has one effect', async () => {
      const before = bot.slack.of('chat.postMessage').length;
      const first = await bot.directMessage(LOCUM, 'transfer to RYY', 'Ev0TRANSFER1');
      expect(first.status).toBe(200);
      await bot.slack.waitFor(
        (calls) => calls.filter((c) => c.method === 'chat.postMessage').length > before,
      );
      const retry = await bot.directMessage(LOCUM, 'transfer to RYY', 'Ev0TRANSFER1', {
        'x-slack-retry-num': '1',
        'x-slack-retry-reason': 'http_timeout',
      });
      expect(retry.status).toBe(200);
      await new Promise((r) => setTimeout(r, 500));
      const posted = bot.slack
        .of('chat.postMessage')
        .slice(before)
        .filter((c) => c.body.channel === 'D0DIRECT');
      expect(posted).toHaveLength(1);
      expect(JSON.stringify(posted[0]?.body.blocks)).toContain(
        'Transfer of lou.cum@nhs.net from RXX to RYY requested',
      );
      const trail = await bot.lifecycle.auditTrail(operator(), { address: locum });
      expect(trail.filter((r) => r.action === 'transfer-request')).toHaveLength(1);
      expect((await bot.lifecycle.status(operator(), { address: locum })).transfer).toMatchObject({
        to: 'RYY',
      });
    });

    it('answers the same words in a DM as the slash command does', async () => {
      // The answer in the DM channel; the delivery worker may post the holder's own notices meanwhile.
      const answers = () => bot.slack.of('chat.postMessage').filter((c) => c.body.channel === 'D0DIRECT');
      const before = answers().length;
      await bot.directMessage(HOLDER, 'status', 'Ev0STATUS1');
      await bot.slack.waitFor(() => answers().length > before);
      const dm = JSON.stringify(answers().at(-1)?.body.blocks);
      const slash = await bot.command(HOLDER, 'status');
      expect(dm).toContain(`${jane}: leaver`);
      expect(slash.text).toContain(`${jane}: leaver`);
    });
  });
});
