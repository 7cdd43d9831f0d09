import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SlackNotifier } from '../../adapters/slack/notifier.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { DEFAULT_DELIVERY, runDelivery } from '../../src/jobs/delivery.js';
import { createLogger } from '../../src/logger.js';
import type { RequestContext } from '../../src/service/context.js';
import { createLifecycle, type Lifecycle } from '../../src/service/lifecycle.js';
import { failedDeliveries } from '../../src/service/notifications.js';
import { FakeSlack } from '../slack/support/fake-slack.js';
import { createTestDatabase, type TestDatabase } from '../support/engines.js';
import {
  activeAccount,
  as,
  CapturingDelivery,
  day,
  grant,
  operator,
  person,
  T0,
} from '../support/service.js';

/**
 * Where notifications go beyond an organisation's own channels: the NAS GP-locum team's
 * mailbox audience (its organisation's channels), holders' own leaver requests, pending-account
 * lists, and the operators' channel when something is parked.
 */
describe('notification routing', () => {
  const slack = new FakeSlack();
  let test: TestDatabase;
  let lifecycle: Lifecycle;
  const logger = createLogger({ level: 'silent' });
  const notifier = () => new SlackNotifier('xoxb-test', slack.apiUrl);
  const posted = () => slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.refused);
  const postedTo = (channel: string) => posted().filter((c) => c.body.channel === channel);

  const inChannel = (channelId: string): RequestContext => ({
    ...operator(),
    platform: 'slack',
    chat: { platform: 'slack', tenant: 'T0001', userId: 'U0OP', channelId, parseMention: () => null },
  });

  /** Runs worker passes on a virtual clock a minute apart (so no gate or backoff holds anything). */
  async function deliverAll(options = DEFAULT_DELIVERY, passes = 30): Promise<void> {
    let virtual = T0.getTime();
    for (let i = 0; i < passes; i++) {
      await runDelivery(test.database.db, [notifier()], logger, () => new Date(virtual), options);
      virtual += 60_000;
    }
  }

  beforeAll(async () => {
    await slack.start();
    test = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await test.close();
    await slack.stop();
  });
  beforeEach(async () => {
    await test.reset();
    slack.calls.length = 0;
    slack.postMessageChaos = null;
    lifecycle = await createLifecycle({
      db: test.database.db,
      policy: DEFAULT_POLICY,
      delivery: new CapturingDelivery(),
    });
    await lifecycle.addOrganisation(operator(), { ods: 'RXX', name: 'X', kind: 'trust' });
    await lifecycle.addOrganisation(operator(), { ods: 'RYY', name: 'Y', kind: 'trust' });
    await lifecycle.addOrganisation(operator(), { ods: 'Y0LOC', name: 'GP locums', kind: 'gp-locum' });
    await lifecycle.subscribe(inChannel('C0X'), { org: 'RXX' });
    await lifecycle.subscribe(inChannel('C0Y'), { org: 'RYY' });
    await lifecycle.subscribe(inChannel('C0NAS'), { org: 'Y0LOC' });
  });

  it('sends a GP locum’s transfer to the NAS GP-locum team’s channel, and a holder’s leaver request with its button', async () => {
    const locum = await activeAccount(lifecycle, 'Y0LOC', person('Gina', 'Locum'));
    await lifecycle.requestTransfer(operator(), { address: locum, to: 'RYY' });
    const staff = await activeAccount(lifecycle, 'RXX', person('Sid', 'Staff'));
    await lifecycle.leaver(as(staff), { address: staff });
    await deliverAll();

    const nas = postedTo('C0NAS');
    expect(nas).toHaveLength(1);
    expect(String(nas[0]?.body.text)).toContain(`${locum} is moving from Y0LOC to RYY`);
    expect(postedTo('C0Y').map((c) => String(c.body.text))).toEqual([
      expect.stringContaining(`${locum} is moving from Y0LOC to RYY`),
    ]);
    const request = postedTo('C0X');
    expect(request).toHaveLength(1);
    expect(String(request[0]?.body.text)).toContain(`${staff} asks to leave RXX`);
    expect(JSON.stringify(request[0]?.body.blocks)).toContain('transfer_mark_leaver');
  });

  it('posts one list of pending accounts per organisation, and reminds each holder', async () => {
    const pending = await lifecycle.provision(operator(day(-2)), { ...person('Pam', 'Pending'), org: 'RXX' });
    slack.emails.set('U0PAM', pending.account.address);
    await lifecycle.remindPending(operator(T0, 'schedule'), { dryRun: false });
    await deliverAll();
    const list = postedTo('C0X');
    expect(list).toHaveLength(1);
    expect(String(list[0]?.body.text)).toBe('1 account in RXX is still waiting for a first login');
    expect(JSON.stringify(list[0]?.body.blocks)).toContain('pending 2 days');
    const dm = postedTo('U0PAM');
    expect(dm).toHaveLength(1);
    expect(String(dm[0]?.body.text)).toContain(
      'Sign in at https://portal.nhs.net with the temporary password in your Day 1 letter',
    );
  });

  it('puts "Remind" on digest lines about inactivity and "Accept as joiner" on leavers', async () => {
    await grant(lifecycle, 'la@nhs.net', 'local-admin', 'RXX');
    const idle = await activeAccount(lifecycle, 'RXX', person('Ian', 'Idle'), day(-25));
    const going = await activeAccount(lifecycle, 'RXX', person('Gus', 'Going'), day(-26));
    await lifecycle.leaver(operator(day(-25)), { address: going });
    await lifecycle.sweep(operator(T0, 'schedule'), { dryRun: false });
    await deliverAll();
    const [digest] = postedTo('C0X');
    const blocks = (digest?.body.blocks ?? []) as Array<{
      text?: { text: string };
      accessory?: { action_id: string; value: string };
    }>;
    const line = (address: string) => blocks.find((b) => b.text?.text.includes(address));
    expect(line(idle)?.accessory).toMatchObject({
      action_id: 'digest_remind',
      value: JSON.stringify({ address: idle }),
    });
    expect(line(going)?.accessory).toMatchObject({ action_id: 'transfer_accept_joiner' });
  });

  it('tells the operators’ channel once when a notification is parked, and never about its own failure', async () => {
    const staff = await activeAccount(lifecycle, 'RXX', person('Sid', 'Staff'));
    await lifecycle.leaver(as(staff), { address: staff });
    slack.postMessageChaos = (_n, body) =>
      body.channel === 'C0X' ? 'channel_not_found' : body.channel === 'C0GONE' ? 'channel_not_found' : 'ok';
    await deliverAll({ ...DEFAULT_DELIVERY, operators: { platform: 'slack', channelId: 'C0OPS' } });
    const line = postedTo('C0OPS');
    expect(line).toHaveLength(1);
    expect(String(line[0]?.body.text)).toContain(
      'A notification could not be delivered and is parked as failed: leaver-request to slack:T0001:C0X after 1 attempt (channel_not_found)',
    );

    // The operators' channel itself gone: its line is parked too, and nothing loops.
    slack.calls.length = 0;
    const other = await activeAccount(lifecycle, 'RXX', person('Ola', 'Other'));
    await lifecycle.leaver(as(other), { address: other });
    await deliverAll({ ...DEFAULT_DELIVERY, operators: { platform: 'slack', channelId: 'C0GONE' } });
    expect(posted()).toHaveLength(0);
    const failed = await failedDeliveries(test.database.db);
    expect(failed.map((f) => [f.kind, f.target])).toEqual([
      ['delivery-failed', 'slack::C0GONE'],
      ['leaver-request', 'slack:T0001:C0X'],
      ['leaver-request', 'slack:T0001:C0X'],
    ]);
  });
});
