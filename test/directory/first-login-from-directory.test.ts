import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { GraphSignInPoller } from '../../adapters/graph/poller.js';
import { graphSignInJob } from '../../adapters/graph/schedule.js';
import { runText } from '../../src/commands/execute.js';
import { isDomainError } from '../../src/domain/errors.js';
import { trustingTransport } from '../graph/support/trusting-transport.js';
import { describeEachEngine, queryRows } from '../support/engines.js';
import { addOrg, day, operator, person, T0, useService } from '../support/service.js';
import { type GraphStandIn, startGraphStandIn } from './support/graph-test-client.js';

/**
 * Issue 15, point 2: a pending account turns active on its own once the directory (the Graph
 * stand-in, over HTTPS) shows a successful sign-in since the account was made and MFA registered;
 * for an MFA-exempt sector the sign-in alone. Audited with platform `directory`, by the scheduler.
 */

type AuditRow = { action: string; platform: string; actor: string; reason: string; to_status: string };

describeEachEngine('first logins read from the directory', (ctx) => {
  // Care homes are exempt from MFA here, as MFA_EXEMPT_SECTORS=care-home would make them.
  const s = useService(ctx, { mfaExemptSectors: ['care-home'] });
  let g: GraphStandIn;
  const silent = pino({ level: 'silent' });

  beforeAll(async () => {
    g = await startGraphStandIn({ now: () => T0 });
  });
  afterAll(async () => {
    await g?.close();
  });

  /** A pending account made three days ago, and its user in the directory. */
  let jane: string;
  let carer: string;
  beforeEach(async () => {
    g.graph.reset();
    await addOrg(s.lifecycle, 'RXX');
    await addOrg(s.lifecycle, 'VCH01', 'care-home', 'standards-met');
    jane = (await s.lifecycle.provision(operator(day(-3)), { ...person('Jane', 'Doe'), org: 'RXX' })).account
      .address;
    carer = (await s.lifecycle.provision(operator(day(-3)), { ...person('Cara', 'Home'), org: 'VCH01' }))
      .account.address;
    g.graph.seedUsers(
      [jane, carer].map((upn) => ({
        userPrincipalName: upn,
        accountEnabled: true,
        displayName: upn,
        mailNickname: upn.split('@')[0]?.replaceAll('.', ''),
      })),
    );
  });

  const poller = () =>
    new GraphSignInPoller(g.config, {
      lifecycle: s.lifecycle,
      logger: silent,
      transport: trustingTransport(g.tls.cert),
    });
  const run = (now = T0) => poller().run({ kind: 'scheduler' }, now);
  const statusOf = async (address: string) => s.lifecycle.status(operator(), { address });
  const auditOf = (address: string) =>
    queryRows<AuditRow>(
      s.db.db,
      sql`select action, platform::text as platform, actor, reason, to_status::text as to_status
          from audit_log where address = ${address} and action = 'first-login'`,
    );
  const mfaAsked = () => g.graph.requests.filter((r) => r.path.includes('userRegistrationDetails')).length;

  it('waits for MFA after the sign-in, then makes the account active, audited as the directory', async () => {
    g.graph.setSignIn(jane, day(-1));
    const first = await run();
    expect(first.firstLogins).toBe(0);
    expect(first.awaitingMfa).toEqual([jane]);
    expect((await statusOf(jane)).account.status).toBe('pending');
    expect(await auditOf(jane)).toEqual([]);

    g.graph.setMfaRegistered(jane);
    const second = await run();
    expect(second.firstLogins).toBe(1);
    expect(second.awaitingMfaCount).toBe(0);
    const { account } = await statusOf(jane);
    expect(account.status).toBe('active');
    // The first login and the activity clock start when the person signed in, not when the bot saw it.
    expect(account.firstLoginAt).toBe(day(-1).toISOString());
    expect(account.lastActivityAt).toBe(day(-1).toISOString());
    expect(await auditOf(jane)).toEqual([
      {
        action: 'first-login',
        platform: 'directory',
        actor: 'scheduler',
        reason: `signed in at ${day(-1).toISOString()} (directory) and MFA registered`,
        to_status: 'active',
      },
    ]);
    // The bot learnt which directory user the account is.
    const [row] = await queryRows<{ directory_id: string | null }>(
      s.db.db,
      sql`select directory_id from accounts where address = ${jane}`,
    );
    expect(row?.directory_id).toBe(String(g.graph.user(jane)?.id));

    // Again: nothing more happens.
    const third = await run(day(1));
    expect(third.firstLogins).toBe(0);
    expect(await auditOf(jane)).toHaveLength(1);
  });

  it('takes the sign-in alone for a sector exempt from MFA, without asking the MFA report', async () => {
    g.graph.setSignIn(carer, day(-2));
    const report = await run();
    expect(report.firstLogins).toBe(1);
    expect(mfaAsked()).toBe(0);
    expect((await statusOf(carer)).account.status).toBe('active');
    expect((await auditOf(carer))[0]?.reason).toBe(
      `signed in at ${day(-2).toISOString()} (directory); MFA exempt for care-home`,
    );
  });

  it('ignores a sign-in from before the account was made, and a failed attempt since', async () => {
    // Someone signed in as this address before the bot made the account: not this person's first login.
    g.graph.setSignIn(jane, day(-5));
    g.graph.setMfaRegistered(jane);
    expect((await run()).firstLogins).toBe(0);
    // An attempt since then, but no success: Graph's lastSuccessfulSignInDateTime is what counts.
    const user = g.graph.user(jane);
    if (!user) throw new Error('no user');
    user.signInActivity = {
      lastSignInDateTime: day(-1).toISOString(),
      lastNonInteractiveSignInDateTime: null,
      lastSuccessfulSignInDateTime: day(-5).toISOString(),
    };
    expect((await run()).firstLogins).toBe(0);
    expect((await statusOf(jane)).account.status).toBe('pending');
  });

  it('asks the MFA report only about pending accounts that signed in, by id, as Graph filters it', async () => {
    g.graph.setSignIn(jane, day(-1));
    g.graph.setSignIn(carer, day(-1));
    await run();
    const asked = g.graph.requests.filter((r) => r.path.includes('userRegistrationDetails'));
    expect(asked).toHaveLength(1);
    expect(decodeURIComponent(asked[0]?.query ?? '')).toBe(`$filter=id eq '${g.graph.user(jane)?.id}'`);
  });

  it('says on a pending account whether the directory is watched, and why not without the licence', async () => {
    // Before any Graph run: nothing to say.
    expect((await statusOf(jane)).firstLogin).toBeNull();
    await run();
    const watched = await runText(s.lifecycle, operator(), `status ${jane}`);
    expect(watched.text).toContain(
      `First login: watched in the directory (last looked ${T0.toISOString()}): it becomes active on its own`,
    );

    g.graph.setPremium(false);
    g.graph.setSignIn(jane, day(-1));
    let code: string | undefined;
    try {
      await run(day(1));
    } catch (e) {
      code = isDomainError(e) ? e.code : String(e);
    }
    expect(code).toBe('GRAPH_LICENCE_REQUIRED');
    const status = await statusOf(jane);
    expect(status.account.status).toBe('pending');
    expect(status.firstLogin).toMatchObject({ state: 'unreadable', checkedAt: day(1).toISOString() });
    const text = (await runText(s.lifecycle, operator(), `status ${jane}`)).text;
    expect(text).toContain('it needs Microsoft Entra ID P1 or P2');
    expect(text).toContain(`first-login ${jane} --mfa`);
    // An active account has no first login to wait for.
    g.graph.setPremium(true);
    g.graph.setMfaRegistered(jane);
    await run(day(1));
    expect((await statusOf(jane)).firstLogin).toBeNull();
  });

  it('runs inside the one scheduled Graph job', async () => {
    g.graph.setSignIn(jane, day(-1));
    g.graph.setMfaRegistered(jane);
    const job = graphSignInJob(g.config, {
      lifecycle: s.lifecycle,
      logger: silent,
      transport: trustingTransport(g.tls.cert),
      clock: () => T0,
    });
    if (!job) throw new Error('no job');
    expect(await job.run()).toMatchObject({ firstLogins: 1 });
    expect((await statusOf(jane)).account.status).toBe('active');
  });

  it('never takes another directory user’s sign-in: an account tied to another object, a mail-only match, a creation in flight', async () => {
    g.graph.setSignIn(jane, day(-1));
    g.graph.setMfaRegistered(jane);
    // Tied to another directory object: this user's sign-in is not this account's.
    await s.db.db.execute(sql`update accounts set directory_id = 'another-object' where address = ${jane}`);
    expect((await run()).firstLogins).toBe(0);
    expect((await statusOf(jane)).account.status).toBe('pending');

    // Its creation parked as a conflict: whoever holds the address is someone else until adopted.
    await s.db.db.execute(sql`update accounts set directory_id = null where address = ${jane}`);
    await s.db.db.execute(sql`
      insert into directory_effects (account_id, kind, payload, state, available_at, created_at)
      select id, 'create-user', '{}'::jsonb, 'conflict', ${T0.toISOString()}::timestamptz, ${T0.toISOString()}::timestamptz
      from accounts where address = ${jane}`);
    expect((await run()).firstLogins).toBe(0);
    expect((await statusOf(jane)).account.status).toBe('pending');

    // A user whose mail is the address but whose principal name is not: not the account's own user.
    const [other] = g.graph.seedUsers([
      {
        userPrincipalName: 'cara.home_x@contoso.onmicrosoft.com',
        mail: carer,
        accountEnabled: true,
        displayName: 'Someone Else',
        mailNickname: 'carahomex',
      },
    ]);
    g.graph.setSignIn(String(other), day(-1));
    const report = await run();
    expect(report.firstLogins).toBe(0);
    expect((await statusOf(carer)).account.status).toBe('pending');
  });

  it('records activity for the whole page even when checking its first logins fails', async () => {
    const busy = (await s.lifecycle.provision(operator(day(-40)), { ...person('Busy', 'Bee'), org: 'RXX' }))
      .account.address;
    await s.lifecycle.firstLogin(operator(day(-40)), { address: busy, mfa: true });
    g.graph.seedUsers([
      { userPrincipalName: busy, accountEnabled: true, displayName: busy, mailNickname: 'busybee' },
    ]);
    g.graph.setSignIn(busy, day(-1));
    g.graph.setSignIn(jane, day(-1));
    const failing = new GraphSignInPoller(g.config, {
      lifecycle: {
        ...s.lifecycle,
        recordDirectoryFirstLogins: async () => {
          throw new Error('database went away');
        },
      },
      logger: silent,
      transport: trustingTransport(g.tls.cert),
    });
    const report = await failing.run({ kind: 'scheduler' }, T0);
    expect(report.recorded).toBe(1);
    expect((await statusOf(busy)).account.lastActivityAt).toBe(day(-1).toISOString());
  });

  it('keeps "MFA cannot be read" until a read succeeds, not just until a run that did not need it', async () => {
    const unreadable = {
      state: 'mfa-unreadable' as const,
      checkedAt: T0.toISOString(),
      reason: 'no licence.',
    };
    await s.lifecycle.noteFirstLoginWatch(unreadable);
    await s.lifecycle.noteFirstLoginWatch({ state: 'watching', checkedAt: day(1).toISOString() });
    expect((await statusOf(jane)).firstLogin).toEqual({ ...unreadable, checkedAt: day(1).toISOString() });
    await s.lifecycle.noteFirstLoginWatch(
      { state: 'watching', checkedAt: day(2).toISOString() },
      { mfaRead: true },
    );
    expect((await statusOf(jane)).firstLogin).toEqual({ state: 'watching', checkedAt: day(2).toISOString() });
  });
});
