import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { NotifySms } from '../../adapters/delivery/notify-sms.js';
import { RoutedDelivery } from '../../adapters/delivery/routes.js';
import { createEntraDirectory } from '../../adapters/directory/entra.js';
import { SlackNotifier } from '../../adapters/slack/notifier.js';
import { runText } from '../../src/commands/execute.js';
import { refused } from '../../src/domain/errors.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { londonDayStart } from '../../src/domain/time.js';
import { DEFAULT_DELIVERY, runDelivery } from '../../src/jobs/delivery.js';
import { DEFAULT_DIRECTORY_WORKER, runDirectoryEffects } from '../../src/jobs/directory.js';
import type { RequestContext } from '../../src/service/context.js';
import { readHrCsv, STARTER_COLUMNS } from '../../src/service/hr-feed.js';
import { createLifecycle } from '../../src/service/lifecycle.js';
import { DeliveredNewUsers } from '../../src/service/new-users.js';
import type { CredentialDelivery, CredentialRequest, DeliveryReceipt } from '../../src/service/ports.js';
import { Sealer } from '../../src/service/sealed.js';
import { FakeNotify, NOTIFY_API_KEY, NOTIFY_TEMPLATE } from '../delivery/support/fake-notify.js';
import { FakeSlack } from '../slack/support/fake-slack.js';
import { describeEachEngine, queryRows } from '../support/engines.js';
import {
  addOrg,
  as,
  CapturingDelivery,
  day,
  everyTableAsText,
  grant,
  mobile,
  operator,
  outboxRows,
  person,
  refusal,
  T0,
  TEST_HR_DATA_KEY,
  useService,
} from '../support/service.js';
import { type GraphStandIn, startGraphStandIn } from './support/graph-test-client.js';

const GROUP = '3f0e2a4c-1b7d-4c9e-8a21-5d6f7e8a9b01';
const HELPDESK = 'helpdesk.rxx@nhs.net';
const MOBILE = '07700 900456';
const FULL_MOBILE = '7700900456';

/** The helpdesk person, typing in their Slack channel. */
const fromSlack = (now: Date = T0): RequestContext => ({
  ...as(HELPDESK, now, 'slack'),
  chat: {
    platform: 'slack',
    tenant: 'T0001',
    userId: 'U0HELP',
    channelId: 'C0HELP',
    parseMention: () => null,
  },
});

/** Notify refusing its first `failures` sends, as it does when its service is down. */
class FlakyDelivery implements CredentialDelivery {
  constructor(
    private readonly inner: CredentialDelivery,
    private failures: number,
  ) {}
  async deliver(request: CredentialRequest): Promise<DeliveryReceipt> {
    if (this.failures-- > 0) {
      throw refused(
        'SMS_NOT_SENT',
        `GOV.UK Notify did not send the SMS to ${request.mobile?.masked} (503: service unavailable), so no account was created. Try again later, or use --delivery envelope for a Day 1 envelope.`,
      );
    }
    return this.inner.deliver(request);
  }
}

/**
 * Issue 14: a new account is made in the directory first, and its credential goes only once the
 * directory has the user: the SMS (through the GOV.UK Notify stand-in) carries exactly the
 * password Entra (the Graph stand-in) holds, or the Temporary Access Pass it issued. Whoever
 * asked is told in their chat when it has gone, or why it could not be done.
 */
describeEachEngine('new users through the directory', (ctx) => {
  const s = useService(ctx, {}, { directoryEffects: true });
  const notify = new FakeNotify();
  let graph: GraphStandIn;

  beforeAll(async () => {
    await notify.start();
    graph = await startGraphStandIn({ now: () => T0 });
  });
  afterAll(async () => {
    await graph?.close();
    await notify.stop();
  });
  beforeEach(async () => {
    graph.graph.reset();
    graph.graph.addGroup(GROUP, 'RXX staff');
    notify.sms.length = 0;
    notify.failWith = null;
    await addOrg(s.lifecycle, 'RXX');
    await s.lifecycle.setDirectoryGroup(operator(), { ods: 'RXX', group: GROUP });
    await grant(s.lifecycle, HELPDESK, 'local-admin', 'RXX');
  });

  const sms = () =>
    new NotifySms({ apiKey: NOTIFY_API_KEY, smsTemplateId: NOTIFY_TEMPLATE, baseUrl: notify.url });
  const entra = () => createEntraDirectory({ client: graph.client, graphOrigin: graph.graph.url });
  const newUsers = (delivery: CredentialDelivery, credential: 'password' | 'tap' = 'password') =>
    new DeliveredNewUsers({
      delivery,
      sealer: new Sealer(TEST_HR_DATA_KEY),
      credential,
      tapLifetimeMinutes: 480,
    });
  const work = (users: DeliveredNewUsers, at: Date = T0) =>
    runDirectoryEffects(
      s.db.db,
      entra(),
      pino({ level: 'silent' }),
      () => at,
      DEFAULT_DIRECTORY_WORKER,
      users,
    );
  const sentPasswords = () =>
    notify.sms.map((m) => (m.personalisation as Record<string, string>).temporary_password);
  const delivery = async (address: string) => {
    const [row] = await queryRows<{
      sent_at: unknown;
      mobile_sealed: string | null;
      recipient: string | null;
    }>(
      s.db.db,
      sql`select d.sent_at, d.mobile_sealed, d.recipient from credential_deliveries d
          join accounts a on a.id = d.account_id where a.address = ${address}`,
    );
    return row;
  };
  const told = async (kind: string) => (await outboxRows(s.db)).filter((r) => r.kind === kind);

  it('waits for the directory, then texts exactly the password Entra holds, and tells the helpdesk where they asked', async () => {
    const made = await s.lifecycle.provision(fromSlack(), {
      ...person('Jane', 'Doe', { mobile: mobile(MOBILE), delivery: 'sms' }),
      org: 'RXX',
    });
    const address = made.account.address;
    expect(made.delivery).toEqual({ route: 'sms', recipient: '07*** ***456', state: 'waiting' });
    // Nothing has gone yet, and the mobile number waits sealed: never in the clear in any table.
    expect(notify.sms).toEqual([]);
    expect(graph.graph.user(address)).toBeUndefined();
    expect((await delivery(address))?.mobile_sealed).toMatch(/^v1\./);
    expect(await everyTableAsText(s.db)).not.toContain(FULL_MOBILE);

    expect(await work(newUsers(sms()))).toMatchObject({ applied: 1 });
    const user = graph.graph.user(address);
    expect(user).toMatchObject({
      userPrincipalName: address,
      givenName: 'Jane',
      surname: 'Doe',
      accountEnabled: true,
    });
    expect(graph.graph.membersOf(GROUP)).toEqual([user?.id]);
    expect(notify.sms).toHaveLength(1);
    expect(notify.sms[0]).toMatchObject({ phone_number: '+447700900456', reference: address });
    // Compared, never printed: a failure must not show a password.
    const same = sentPasswords()[0] === graph.graph.passwordOf(address);
    expect(same, 'the SMS carries the password set in the directory').toBe(true);

    // Sent: the mobile number erased, the route recorded, audited, and the helpdesk told in Slack.
    expect(await delivery(address)).toMatchObject({ mobile_sealed: null, recipient: '07*** ***456' });
    expect((await delivery(address))?.sent_at).not.toBeNull();
    const ready = await told('account-ready');
    expect(ready.map((r) => [r.audience, r.payload])).toEqual([
      [
        { type: 'conversation', platform: 'slack', tenant: 'T0001', channelId: 'C0HELP' },
        { address, org: 'RXX', route: 'sms', recipient: '07*** ***456', credential: 'password' },
      ],
    ]);
    const trail = await s.lifecycle.auditTrail(operator(), { address });
    expect(trail.map((e) => e.action)).toContain('credential-sent');
    expect((await s.lifecycle.status(operator(), { address })).directory).toEqual({
      state: 'in-step',
      group: GROUP,
    });
    const everything = await everyTableAsText(s.db);
    expect(everything).not.toContain(FULL_MOBILE);
    expect(everything.includes(String(sentPasswords()[0])), 'the password is in no table').toBe(false);
  });

  it('the helpdesk’s Slack channel, where they asked, gets the line once the credential has gone', async () => {
    const slack = new FakeSlack();
    await slack.start();
    try {
      const made = await s.lifecycle.provision(fromSlack(), {
        ...person('Jane', 'Doe', { mobile: mobile(MOBILE), delivery: 'sms' }),
        org: 'RXX',
      });
      await work(newUsers(sms()));
      await runDelivery(
        s.db.db,
        [new SlackNotifier('xoxb-test', slack.apiUrl)],
        pino({ level: 'silent' }),
        () => T0,
        {
          ...DEFAULT_DELIVERY,
          operators: { platform: 'slack', channelId: 'C0OPS' },
        },
      );
      const posts = slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.refused);
      expect(posts.map((c) => [c.body.channel, c.body.text])).toEqual([
        [
          'C0HELP',
          `${made.account.address} (RXX) now exists in the directory, and its temporary password was sent by SMS to 07*** ***456. The account stays pending until the holder's first login.`,
        ],
      ]);
    } finally {
      await slack.stop();
    }
  });

  it('when Notify fails, the user stays made and the retry texts the new password it sets', async () => {
    const made = await s.lifecycle.provision(fromSlack(), {
      ...person('Jane', 'Doe', { mobile: mobile(MOBILE), delivery: 'sms' }),
      org: 'RXX',
    });
    const address = made.account.address;
    const users = newUsers(new FlakyDelivery(sms(), 1));
    expect(await work(users)).toMatchObject({ applied: 0, retried: 1 });
    expect(notify.sms).toEqual([]);
    // The user is made and in its group: the retry resumes there, setting only a new password.
    const [effect] = await queryRows<{ step: number }>(s.db.db, sql`select step from directory_effects`);
    expect(effect?.step).toBe(2);
    const firstPassword = graph.graph.passwordOf(address);
    expect(firstPassword).toBeDefined();
    const status = await s.lifecycle.status(operator(), { address });
    expect(status.directory).toMatchObject({ state: 'waiting' });
    const lastError = (status.directory as { lastError?: string }).lastError ?? '';
    expect(lastError).toContain('The directory has the user, but its credential could not be delivered');
    expect(lastError).not.toContain('no account was created');

    // After the backoff: the user the bot made is adopted, given a new password, and that one is sent.
    expect(await work(users, day(1))).toMatchObject({ applied: 1 });
    expect(notify.sms).toHaveLength(1);
    const same = sentPasswords()[0] === graph.graph.passwordOf(address);
    expect(same, 'the SMS carries the password the directory now has').toBe(true);
    expect(graph.graph.passwordOf(address) === firstPassword, 'the undelivered one was replaced').toBe(false);
    expect(await told('account-ready')).toHaveLength(1);
  });

  it('a taken address parks as a conflict: nothing sent, the helpdesk and the operators told why', async () => {
    // Someone made jane.doe@nhs.net by hand in Entra; the bot was not asked about addresses.
    await graph.client.api('/users').post({
      accountEnabled: true,
      displayName: 'Jane Doe (by hand)',
      mailNickname: 'jane.doe',
      userPrincipalName: 'jane.doe@nhs.net',
      passwordProfile: { password: 'Hand-made-1!', forceChangePasswordNextSignIn: true },
    });
    const made = await s.lifecycle.provision(fromSlack(), {
      ...person('Jane', 'Doe', { mobile: mobile(MOBILE), delivery: 'sms' }),
      org: 'RXX',
    });
    expect(made.account.address).toBe('jane.doe@nhs.net');
    expect(await work(newUsers(sms()))).toMatchObject({ conflicts: 1 });
    expect(notify.sms).toEqual([]);
    expect(graph.graph.passwordOf('jane.doe@nhs.net') === 'Hand-made-1!', 'nothing overwritten').toBe(true);

    const notMade = await told('account-not-made');
    expect(notMade.map((r) => r.audience)).toEqual([
      { type: 'conversation', platform: 'slack', tenant: 'T0001', channelId: 'C0HELP' },
    ]);
    expect(notMade[0]?.payload).toMatchObject({ address: 'jane.doe@nhs.net', org: 'RXX', state: 'conflict' });
    const parked = await told('directory-parked');
    expect(parked.map((r) => [r.audience, r.payload.kind, r.payload.state])).toEqual([
      [{ type: 'operators' }, 'create-user', 'conflict'],
    ]);
    expect((await s.lifecycle.status(operator(), { address: 'jane.doe@nhs.net' })).directory).toMatchObject({
      state: 'conflict',
    });
  });

  it('with DIRECTORY_CREDENTIAL=tap: the pass Entra issued, usable from the start date, is what the envelope carries', async () => {
    const letters = new CapturingDelivery();
    const made = await s.lifecycle.provision(operator(), {
      ...person('Sam', 'Starter', { delivery: 'envelope', employeeId: 'E1234', startsOn: '2026-11-30' }),
      org: 'RXX',
    });
    const address = made.account.address;
    expect(made.delivery.state).toBe('waiting');
    expect(await work(newUsers(letters, 'tap'))).toMatchObject({ applied: 1 });
    const user = graph.graph.user(address);
    expect(user).toMatchObject({ employeeId: 'E1234', companyName: 'RXX organisation' });
    const tap = graph.graph.tapOf(String(user?.id));
    expect(tap).toMatchObject({
      startDateTime: new Date(londonDayStart('2026-11-30').getTime() + 7 * 3_600_000).toISOString(),
      lifetimeInMinutes: 480,
    });
    expect(letters.sent).toHaveLength(1);
    expect(letters.sent[0]).toMatchObject({ address, route: 'envelope', credential: 'tap' });
    const same = letters.sent[0]?.temporaryPassword === tap?.temporaryAccessPass;
    expect(same, 'the letter carries the pass Entra issued').toBe(true);
    // From the command line, the organisation's channels hear of it.
    const ready = await told('account-ready');
    expect(ready.map((r) => [r.audience, r.payload.credential, r.payload.route])).toEqual([
      [{ type: 'org', ods: 'RXX' }, 'tap', 'envelope'],
    ]);
  });
});

describeEachEngine('HR starters through the directory', (ctx) => {
  const s = useService(ctx, {}, { directoryEffects: true });

  it('queue their user with the employee number, and keep the start date for a pass and the mobile sealed', async () => {
    await addOrg(s.lifecycle, 'RXX');
    const csv = [
      'employee_number,given_name,family_name,date_of_birth,mobile,org_ods,start_date',
      'E1001,Ada,Okafor,1990-01-02,07700 900111,RXX,2026-11-25',
      'E1002,Ben,Stone,1985-03-04,07700 900222,RXX,2026-12-10',
    ].join('\n');
    const report = await s.lifecycle.importStarters(operator(), {
      records: readHrCsv(csv, STARTER_COLUMNS),
      dryRun: false,
    });
    expect(report).toMatchObject({ created: 1, scheduled: 1, errors: [] });
    // Ben's day comes: the sweep provisions him, through the directory too.
    await s.lifecycle.sweep(operator(day(12), 'schedule'), { dryRun: false });
    const queued = await queryRows<{ payload: Record<string, unknown>; starts_on: string; sealed: boolean }>(
      s.db.db,
      sql`select e.payload, d.starts_on::text as starts_on, d.mobile_sealed like 'v1.%' as sealed
          from directory_effects e join credential_deliveries d on d.effect_id = e.id order by e.id`,
    );
    expect(queued).toEqual([
      {
        payload: expect.objectContaining({ kind: 'create-user', given: 'Ada', employeeId: 'E1001' }),
        starts_on: '2026-11-25',
        sealed: true,
      },
      {
        payload: expect.objectContaining({ kind: 'create-user', given: 'Ben', employeeId: 'E1002' }),
        starts_on: '2026-12-10',
        sealed: true,
      },
    ]);
    const everything = await everyTableAsText(s.db);
    expect(everything).not.toContain('7700900111');
    expect(everything).not.toContain('7700900222');
  });
});

describeEachEngine('provision’s reply with a directory', (ctx) => {
  const s = useService(ctx, {}, { directoryEffects: true });

  it('says the account is being made in the directory and the password goes once it is', async () => {
    await addOrg(s.lifecycle, 'RXX');
    const reply = await runText(s.lifecycle, operator(), [
      'provision',
      '--given',
      'Jane',
      '--family',
      'Doe',
      '--org',
      'RXX',
      '--mobile',
      MOBILE,
    ]);
    expect(reply.text).toContain(
      'Created jane.doe@nhs.net (pending) in RXX organisation (RXX); it is being made in the directory.',
    );
    expect(reply.text).toContain(
      'The temporary password goes by SMS to 07*** ***456 once the directory has the account; you will be told here when it has gone.',
    );
    expect(reply.data).toMatchObject({
      delivery: { route: 'sms', recipient: '07*** ***456', state: 'waiting' },
    });
  });
});

describeEachEngine('new users through the directory, with no SMS set up', (ctx) => {
  it('refuses an SMS when it is asked for, not once the directory has the user', async () => {
    const letters = new CapturingDelivery();
    const lifecycle = await createLifecycle({
      db: ctx.db.db,
      policy: DEFAULT_POLICY,
      delivery: new RoutedDelivery({ envelope: letters }),
      directoryEffects: true,
      hrDataKey: TEST_HR_DATA_KEY,
    });
    await addOrg(lifecycle, 'RXX');
    const error = await refusal(
      lifecycle.provision(operator(), {
        ...person('Jane', 'Doe', { mobile: mobile(MOBILE), delivery: 'sms' }),
        org: 'RXX',
      }),
      'DELIVERY_UNAVAILABLE',
    );
    expect(error.message).toContain('--delivery envelope');
    const [row] = await queryRows<{ n: number }>(
      ctx.db.db,
      sql`select count(*)::int as n from directory_effects`,
    );
    expect(row?.n).toBe(0);
  });
});

describeEachEngine('new users through the directory, without HR_DATA_KEY', (ctx) => {
  const s = useService(ctx, {}, { directoryEffects: true, hrDataKey: null });

  it('refuses an SMS, which would need the mobile number kept, and changes nothing', async () => {
    await addOrg(s.lifecycle, 'RXX');
    const error = await refusal(
      s.lifecycle.provision(operator(), {
        ...person('Jane', 'Doe', { mobile: mobile(MOBILE), delivery: 'sms' }),
        org: 'RXX',
      }),
      'CANNOT_KEEP_MOBILE',
    );
    expect(error.message).toContain('--delivery envelope');
    const [row] = await queryRows<{ n: number }>(s.db.db, sql`select count(*)::int as n from accounts`);
    expect(row?.n).toBe(0);
    // An envelope needs nothing kept.
    const made = await s.lifecycle.provision(operator(), { ...person('Jane', 'Doe'), org: 'RXX' });
    expect(made.delivery.state).toBe('waiting');
  });
});
