import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkMessage } from '../support/block-kit.js';
import { operator, person } from '../support/service.js';
import type { Recorded } from './support/fake-slack.js';
import { SlackTestBot } from './support/slack-bot.js';

/**
 * Issue 16, long absence, end to end in Slack: a manager who types `disable` asks the home
 * organisation's local administrators, whose subscribed channel gets the request with a "Disable"
 * button; the click runs `disable` as whoever clicked: a local administrator succeeds (the message
 * says who did it), the manager is refused. A local administrator typing `disable` just disables.
 */
describe('Slack: a manager’s disable request', () => {
  const bot = new SlackTestBot();
  const LA_X = 'U0LAX';
  const MANAGER_X = 'U0MGRX';
  // The bot runs on the real clock: seed at it, and ask for a return date ~200 days after it.
  const now = new Date();
  const seed = () => operator(new Date());
  const until = new Date(now.getTime() + 200 * 86_400_000).toISOString().slice(0, 10);
  let mia = '';
  let ned = '';
  let request: Recorded | undefined;

  beforeAll(async () => {
    await bot.start();
    const l = bot.lifecycle;
    await l.addOrganisation(seed(), { ods: 'RXX', name: 'Northtown Hospitals', kind: 'trust' });
    await l.addOrganisation(seed(), { ods: 'RYY', name: 'Southville Trust', kind: 'trust' });
    await l.grantRole(seed(), { address: 'la.x@nhs.net', role: 'local-admin', org: 'RXX' });
    await l.grantRole(seed(), { address: 'la.y@nhs.net', role: 'local-admin', org: 'RYY' });
    await l.grantRole(seed(), { address: 'mgr.x@nhs.net', role: 'manager', org: 'RXX' });
    const active = async (given: string, family: string) => {
      const made = await l.provision(seed(), { ...person(given, family), org: 'RXX' });
      await l.firstLogin(seed(), { address: made.account.address, mfa: true });
      return made.account.address;
    };
    mia = await active('Mia', 'Mother');
    ned = await active('Ned', 'Nurse');
    bot.slack.emails.set(LA_X, 'la.x@nhs.net');
    bot.slack.emails.set('U0LAY', 'la.y@nhs.net');
    bot.slack.emails.set(MANAGER_X, 'mgr.x@nhs.net');
    await bot.command(LA_X, 'subscribe --org RXX', { channel_id: 'C0RXX' });
    await bot.command('U0LAY', 'subscribe --org RYY', { channel_id: 'C0RYY' });
  });
  afterAll(async () => {
    await bot.stop();
  });

  it('asks the local administrators when a manager types disable, leaving the account active', async () => {
    const asked = await bot.command(MANAGER_X, `disable ${mia} --reason "maternity leave" --until ${until}`);
    expect(asked.text).toContain(
      `Asked the local administrators of Northtown Hospitals (RXX) to disable ${mia}`,
    );
    expect((await bot.lifecycle.status(seed(), { address: mia })).account).toMatchObject({
      status: 'active',
      disabledReason: null,
      disabledUntil: null,
    });
  });

  it('posts the request with its Disable button to the organisation’s channel only', async () => {
    await bot.slack.waitFor((calls) =>
      calls.some((c) => c.method === 'chat.postMessage' && c.body.channel === 'C0RXX'),
    );
    const posts = bot.slack.of('chat.postMessage');
    request = posts.find((p) => p.body.channel === 'C0RXX');
    if (!request) throw new Error('no request posted');
    expect(request.refused).toBeUndefined();
    expect(checkMessage(request.body)).toEqual([]);
    expect(String(request.body.text)).toContain(
      `asks for ${mia} to be disabled for a long absence (maternity leave, due back ${until})`,
    );
    const buttons = (
      request.body.blocks as Array<{ type: string; elements?: Array<Record<string, unknown>> }>
    )
      .filter((b) => b.type === 'actions')
      .flatMap((b) => b.elements ?? []);
    expect(buttons).toHaveLength(1);
    expect(buttons[0]).toMatchObject({
      type: 'button',
      action_id: 'disable_request_disable',
      text: { text: 'Disable' },
    });
    const value = JSON.parse(String(buttons[0]?.value)) as Record<string, unknown>;
    expect(value).toEqual({ address: mia, reason: 'maternity leave', until: expect.any(String) });
    expect(String(value.until).slice(0, 10)).toBe(until);
    expect(posts.filter((p) => p.body.channel === 'C0RYY')).toHaveLength(0);
  });

  it('refuses the manager’s own click, only to them, changing nothing', async () => {
    if (!request) throw new Error('no request posted');
    const click = await bot.click(MANAGER_X, request, 'disable_request_disable');
    expect(click.ack.status).toBe(200);
    expect(click.updates).toHaveLength(0);
    expect(click.answers[0]?.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(JSON.stringify(click.answers[0]?.body.blocks)).toContain('NOT_YOUR_ORGANISATION');
    expect((await bot.lifecycle.status(seed(), { address: mia })).account).toMatchObject({
      status: 'active',
      disabledReason: null,
    });
  });

  it('disables the account when a local administrator clicks, and updates the message to say who', async () => {
    if (!request) throw new Error('no request posted');
    const click = await bot.click(LA_X, request, 'disable_request_disable', '1700000600.000001');
    expect(click.answers).toHaveLength(0);
    expect(click.updates).toHaveLength(1);
    const update = click.updates[0];
    expect(update?.refused).toBeUndefined();
    expect(update?.body.channel).toBe('C0RXX');
    expect(update?.body.ts).toBe((request.response as { ts: string }).ts);
    const blocks = JSON.stringify(update?.body.blocks);
    expect(blocks).toContain(`Disabled by <@${LA_X}>`);
    expect(blocks).not.toContain('"type":"actions"');
    const account = (await bot.lifecycle.status(seed(), { address: mia })).account;
    expect(account).toMatchObject({ status: 'disabled', disabledReason: 'maternity leave' });
    expect(account.disabledUntil?.slice(0, 10)).toBe(until);
    const trail = (await bot.lifecycle.auditTrail(seed(), { address: mia })).filter((r) =>
      r.action.startsWith('disable'),
    );
    expect(trail.map((r) => [r.action, r.actor, r.platform, r.from, r.to])).toEqual([
      ['disable-request', expect.stringContaining('mgr.x@nhs.net'), 'slack', 'active', 'active'],
      ['disable', expect.stringContaining('la.x@nhs.net'), 'slack', 'active', 'disabled'],
    ]);
  });

  it('disables directly when a local administrator types disable', async () => {
    const done = await bot.command(LA_X, `disable ${ned} --reason "long sickness"`);
    expect(done.text).toContain('Disabled');
    expect(done.text).not.toContain('Asked');
    expect((await bot.lifecycle.status(seed(), { address: ned })).account).toMatchObject({
      status: 'disabled',
      disabledReason: 'long sickness',
      disabledUntil: null,
    });
  });
});
