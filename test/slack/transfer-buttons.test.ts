import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operator, person } from '../support/service.js';
import type { Recorded } from './support/fake-slack.js';
import { SlackTestBot } from './support/slack-bot.js';

describe('Slack transfer requests with buttons', () => {
  const bot = new SlackTestBot();
  const LA_X = 'U0LAX';
  const LA_Y = 'U0LAY';
  const MANAGER_X = 'U0MGRX';
  const LOCUM = 'U0LOCUM';
  let locum = '';

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
      [MANAGER_X, 'mgr.x@nhs.net'],
      [LOCUM, locum],
    ] as const) {
      bot.slack.emails.set(id, email);
    }
    await bot.command(LA_X, 'subscribe --org RXX', { channel_id: 'C0RXX' });
    await bot.command(LA_Y, 'subscribe --org RYY', { channel_id: 'C0RYY' });
  });
  afterAll(async () => {
    await bot.stop();
  });

  let leaverPost: Recorded | undefined;
  let joinerPost: Recorded | undefined;

  it('posts the request to the home organisation’s channel and the target’s, each with its button', async () => {
    const asked = await bot.command(LOCUM, 'transfer to RYY');
    expect(asked.text).toContain('Transfer of lou.cum@nhs.net from RXX to RYY requested');
    await bot.slack.waitFor((calls) => calls.filter((c) => c.method === 'chat.postMessage').length >= 2);
    const posts = bot.slack.of('chat.postMessage');
    leaverPost = posts.find((p) => p.body.channel === 'C0RXX');
    joinerPost = posts.find((p) => p.body.channel === 'C0RYY');
    expect(JSON.stringify(leaverPost?.body.blocks)).toContain('Mark as leaver');
    expect(JSON.stringify(joinerPost?.body.blocks)).toContain('Accept as joiner');
    expect(String(leaverPost?.body.text)).toContain('lou.cum@nhs.net');
  });

  it('refuses a click by someone without the role, only to them, leaving the message as it was', async () => {
    if (!leaverPost) throw new Error('no post');
    const click = await bot.click(MANAGER_X, leaverPost, 'transfer_mark_leaver');
    expect(click.ack.status).toBe(200);
    expect(click.updates).toHaveLength(0);
    expect(click.answers[0]?.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(JSON.stringify(click.answers[0]?.body.blocks)).toContain('NOT_YOUR_ORGANISATION');
    expect((await bot.lifecycle.status(operator(), { address: locum })).account.status).toBe('active');
  });

  it('marks the leaver when the home administrator clicks, and updates the message to show who acted', async () => {
    if (!leaverPost) throw new Error('no post');
    const click = await bot.click(LA_X, leaverPost, 'transfer_mark_leaver');
    expect(click.updates).toHaveLength(1);
    const update = click.updates[0]?.body;
    expect(update?.channel).toBe('C0RXX');
    expect(update?.ts).toBe((leaverPost.response as { ts: string }).ts);
    const blocks = JSON.stringify(update?.blocks);
    expect(blocks).toContain(`Marked as a leaver by <@${LA_X}>`);
    expect(blocks).not.toContain('"type":"actions"');
    expect((await bot.lifecycle.status(operator(), { address: locum })).account.status).toBe('leaver');
  });

  it('changes nothing on a second click, and a redelivered click counts once', async () => {
    if (!leaverPost) throw new Error('no post');
    const trailBefore = await bot.lifecycle.auditTrail(operator(), { address: locum });
    const again = await bot.click(LA_X, leaverPost, 'transfer_mark_leaver', '1700000400.000001');
    expect(again.updates).toHaveLength(0);
    expect(JSON.stringify(again.answers[0]?.body.blocks)).toContain('ALREADY_LEAVER');
    const redelivered = await bot.click(LA_X, leaverPost, 'transfer_mark_leaver', '1700000400.000001', {
      expectAnswer: false,
    });
    expect(redelivered.ack.status).toBe(200);
    expect(redelivered.answers).toHaveLength(0);
    expect(redelivered.updates).toHaveLength(0);
    expect(await bot.lifecycle.auditTrail(operator(), { address: locum })).toEqual(trailBefore);
  });

  it('completes the move when the target administrator accepts', async () => {
    if (!joinerPost) throw new Error('no post');
    const click = await bot.click(LA_Y, joinerPost, 'transfer_accept_joiner');
    expect(JSON.stringify(click.updates[0]?.body.blocks)).toContain(`Accepted into RYY by <@${LA_Y}>`);
    const status = await bot.lifecycle.status(operator(), { address: locum });
    expect(status.account).toMatchObject({ status: 'active', org: 'RYY' });
  });
});
