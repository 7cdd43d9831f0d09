import { describe, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import {
  activeAccount,
  addOrg,
  as,
  auditCount,
  day,
  grant,
  operator,
  outboxRows,
  person,
  refusal,
  T0,
  useService,
} from '../support/service.js';

describeEachEngine('lifecycle rules', (ctx) => {
  const s = useService(ctx, { mfaExemptSectors: ['care-home'] });

  describe('first login', () => {
    it('makes a pending account active only with MFA registered, unless the sector is exempt', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await addOrg(s.lifecycle, 'VCH01', 'care-home', 'standards-met');
      const trust = await s.lifecycle.provision(operator(), { ...person('Tom', 'Reed'), org: 'RXX' });
      const home = await s.lifecycle.provision(operator(), { ...person('Cara', 'Home'), org: 'VCH01' });

      const e = await refusal(
        s.lifecycle.firstLogin(operator(), { address: trust.account.address, mfa: false }),
        'MFA_REQUIRED',
      );
      expect(e.message).toContain('--mfa');
      expect((await s.lifecycle.status(operator(), { address: trust.account.address })).account.status).toBe(
        'pending',
      );

      const active = await s.lifecycle.firstLogin(operator(day(1)), {
        address: trust.account.address,
        mfa: true,
      });
      expect(active).toMatchObject({
        status: 'active',
        mfaRegistered: true,
        lastActivityAt: day(1).toISOString(),
      });
      const exempt = await s.lifecycle.firstLogin(operator(), { address: home.account.address, mfa: false });
      expect(exempt.status).toBe('active');
    });

    it('is never taken on the holder’s own word', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const made = await s.lifecycle.provision(operator(), { ...person('Self', 'Starter'), org: 'RXX' });
      await grant(s.lifecycle, made.account.address, 'local-admin', 'RXX');
      await refusal(
        s.lifecycle.firstLogin(as(made.account.address), { address: made.account.address, mfa: true }),
        'FIRST_LOGIN_NOT_SELF',
      );
    });

    it('refuses an account that is not pending', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Ann', 'Other'));
      await refusal(s.lifecycle.firstLogin(operator(), { address, mfa: true }), 'NOT_PENDING');
    });
  });

  describe('leaver and joiner', () => {
    it('starts a 30-day grace window; a joiner within it moves the same account to the new organisation', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await addOrg(s.lifecycle, 'RYY');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Jane', 'Doe'));
      const left = await s.lifecycle.leaver(operator(day(1)), { address });
      expect(left.outcome).toBe('leaver');
      expect(left.account).toMatchObject({
        status: 'leaver',
        org: 'RXX',
        graceExpiresAt: day(31).toISOString(),
      });

      const joined = await s.lifecycle.joiner(operator(day(30)), { address, org: 'RYY' });
      expect(joined.outcome).toBe('joined');
      expect(joined.account).toMatchObject({
        address,
        status: 'active',
        org: 'RYY',
        graceExpiresAt: null,
        lastActivityAt: day(30).toISOString(),
      });
    });

    it('refuses a joiner once the grace window has ended, even before the sweep has run', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await addOrg(s.lifecycle, 'RYY');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Late', 'Joiner'));
      await s.lifecycle.leaver(operator(), { address });
      const before = await auditCount(s.db);
      const e = await refusal(
        s.lifecycle.joiner(operator(day(30)), { address, org: 'RYY' }),
        'GRACE_EXPIRED',
      );
      expect(e.message).toContain('reactivate');
      expect(await auditCount(s.db)).toBe(before);
      await s.lifecycle.sweep(operator(day(30)), { dryRun: false });
      await refusal(s.lifecycle.joiner(operator(day(31)), { address, org: 'RYY' }), 'GRACE_EXPIRED');
    });

    it('allows only leavers to join, and lets the old home undo a leaver', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await addOrg(s.lifecycle, 'RYY');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Still', 'Here'));
      const e = await refusal(s.lifecycle.joiner(operator(), { address, org: 'RYY' }), 'NOT_A_LEAVER');
      expect(e.message).toContain(`leaver ${address}`);
      await s.lifecycle.leaver(operator(), { address });
      await refusal(s.lifecycle.leaver(operator(), { address }), 'ALREADY_LEAVER');
      const undone = await s.lifecycle.joiner(operator(day(2)), { address, org: 'RXX' });
      expect(undone.account).toMatchObject({ status: 'active', org: 'RXX' });
    });

    it('keeps the first-login state through leaver and joiner: a never-used account joins as pending', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await addOrg(s.lifecycle, 'RYY');
      // The holder is also a local administrator of their own organisation: they may not record
      // their own first login, so leaver then joiner must not do it for them either.
      const made = await s.lifecycle.provision(operator(), { ...person('Nev', 'Used'), org: 'RXX' });
      const address = made.account.address;
      await grant(s.lifecycle, address, 'local-admin', 'RXX');
      await refusal(s.lifecycle.firstLogin(as(address), { address, mfa: true }), 'FIRST_LOGIN_NOT_SELF');
      await s.lifecycle.leaver(as(address), { address });
      // Marking the leaver revoked their local-admin role (issue 16): they cannot take themselves back.
      await refusal(
        s.lifecycle.joiner(as(address, day(1)), { address, org: 'RXX' }),
        'NOT_YOUR_ORGANISATION',
      );
      const back = await s.lifecycle.joiner(operator(day(1)), { address, org: 'RXX' });
      expect(back.account).toMatchObject({ status: 'pending', org: 'RXX', firstLoginAt: null });
      await s.lifecycle.leaver(operator(day(2)), { address });
      const moved = await s.lifecycle.joiner(operator(day(3)), { address, org: 'RYY' });
      expect(moved.account).toMatchObject({ status: 'pending', org: 'RYY', firstLoginAt: null });
      const trail = await s.lifecycle.auditTrail(operator(), { address });
      expect(trail.filter((r) => r.action === 'joiner').map((r) => [r.from, r.to])).toEqual([
        ['leaver', 'pending'],
        ['leaver', 'pending'],
      ]);
      // The first login, recorded by someone else, is what makes it active.
      const active = await s.lifecycle.firstLogin(operator(day(4)), { address, mfa: true });
      expect(active.status).toBe('active');
    });

    it('lets only the joining organisation’s administrators accept a joiner, and the home’s mark a leaver', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await addOrg(s.lifecycle, 'RYY');
      await grant(s.lifecycle, 'la.x@nhs.net', 'local-admin', 'RXX');
      await grant(s.lifecycle, 'la.y@nhs.net', 'local-admin', 'RYY');
      await grant(s.lifecycle, 'mgr.x@nhs.net', 'manager', 'RXX');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Moving', 'On'));
      await refusal(s.lifecycle.leaver(as('la.y@nhs.net'), { address }), 'NOT_YOUR_ORGANISATION');
      await refusal(s.lifecycle.leaver(as('mgr.x@nhs.net'), { address }), 'NOT_YOUR_ORGANISATION');
      await s.lifecycle.leaver(as('la.x@nhs.net'), { address });
      await refusal(s.lifecycle.joiner(as('la.x@nhs.net'), { address, org: 'RYY' }), 'NOT_YOUR_ORGANISATION');
      const joined = await s.lifecycle.joiner(as('la.y@nhs.net', day(3)), { address, org: 'RYY' });
      expect(joined.account.org).toBe('RYY');
      const trail = await s.lifecycle.auditTrail(operator(), { address });
      expect(trail.map((r) => [r.action, r.from, r.to, r.actor])).toEqual([
        ['provision', null, 'pending', 'operator'],
        ['first-login', 'pending', 'active', 'operator'],
        ['leaver', 'active', 'leaver', 'la.x@nhs.net'],
        ['joiner', 'leaver', 'active', 'la.y@nhs.net'],
      ]);
    });

    it('turns a holder’s own leaver into a request to their organisation', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Quit', 'Ting'));
      const asked = await s.lifecycle.leaver(as(address), { address });
      expect(asked).toMatchObject({ outcome: 'requested', account: { status: 'active' } });
      const rows = await outboxRows(s.db);
      expect(rows.at(-1)).toMatchObject({ kind: 'leaver-request', audience: { type: 'org', ods: 'RXX' } });
    });
  });

  describe('activity', () => {
    it('restarts the 30-day clock from the latest login or sent email', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Busy', 'Bee'));
      const after = await s.lifecycle.recordActivity(operator(day(20)), { address, at: day(19) });
      expect(after).toMatchObject({
        lastActivityAt: day(19).toISOString(),
        activityExpiresAt: day(49).toISOString(),
      });
      // An older report does not wind the clock back.
      const older = await s.lifecycle.recordActivity(operator(day(20)), { address, at: day(5) });
      expect(older.lastActivityAt).toBe(day(19).toISOString());
      await s.lifecycle.sweep(operator(day(40)), { dryRun: false });
      expect((await s.lifecycle.status(operator(day(40)), { address })).account.status).toBe('active');
    });

    it('refuses activity in the future, on pending accounts and on inactive ones', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Time', 'Traveller'));
      await refusal(s.lifecycle.recordActivity(operator(), { address, at: day(1) }), 'FUTURE_TIME');
      const pending = await s.lifecycle.provision(operator(), { ...person('Not', 'Yet'), org: 'RXX' });
      await refusal(
        s.lifecycle.recordActivity(operator(), { address: pending.account.address }),
        'FIRST_LOGIN_NEEDED',
      );
      await s.lifecycle.sweep(operator(day(30)), { dryRun: false });
      await refusal(s.lifecycle.recordActivity(operator(day(30)), { address }), 'NOT_ACTIVE');
    });
  });

  describe('reactivate and restore', () => {
    it('reactivates an inactive account within retention and restarts its activity clock', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await grant(s.lifecycle, 'la@nhs.net', 'local-admin', 'RXX');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Idle', 'Ian'));
      await s.lifecycle.sweep(operator(day(30)), { dryRun: false });
      expect((await s.lifecycle.status(operator(day(30)), { address })).account).toMatchObject({
        status: 'inactive',
        deleteAfter: day(60).toISOString(),
      });
      const back = await s.lifecycle.reactivate(as('la@nhs.net', day(59)), { address });
      expect(back).toMatchObject({
        status: 'active',
        lastActivityAt: day(59).toISOString(),
        inactiveSince: null,
      });
    });

    it('refuses after retention; only NAS restores a deleted account, within the restore window', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await grant(s.lifecycle, 'la@nhs.net', 'local-admin', 'RXX');
      await grant(s.lifecycle, 'nas@nhs.net', 'nas-admin');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Gone', 'Girl'));
      await s.lifecycle.sweep(operator(day(30)), { dryRun: false });
      await refusal(s.lifecycle.reactivate(as('la@nhs.net', day(60)), { address }), 'RETENTION_ENDED');
      await s.lifecycle.sweep(operator(day(60)), { dryRun: false });
      expect((await s.lifecycle.status(operator(day(60)), { address })).account.status).toBe('deleted');
      await refusal(s.lifecycle.reactivate(as('la@nhs.net', day(61)), { address }), 'NAS_ONLY');
      await refusal(s.lifecycle.reactivate(as('nas@nhs.net', day(90)), { address }), 'RESTORE_WINDOW_ENDED');
      const restored = await s.lifecycle.reactivate(as('nas@nhs.net', day(89)), { address });
      expect(restored).toMatchObject({
        status: 'active',
        lastActivityAt: day(89).toISOString(),
        deletedAt: null,
      });
      const trail = await s.lifecycle.auditTrail(operator(), { address });
      expect(trail.at(-1)).toMatchObject({
        action: 'restore',
        from: 'deleted',
        to: 'active',
        actor: 'nas@nhs.net',
      });
    });

    it('cannot bring back a purged account', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Long', 'Gone'));
      await s.lifecycle.sweep(operator(day(30)), { dryRun: false });
      await s.lifecycle.sweep(operator(day(60)), { dryRun: false });
      await s.lifecycle.sweep(operator(day(90)), { dryRun: false });
      await refusal(s.lifecycle.reactivate(operator(day(91)), { address }), 'PURGED');
    });

    it('has nothing to reactivate on an active account', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Fine', 'Thanks'));
      await refusal(s.lifecycle.reactivate(operator(), { address }), 'NOT_INACTIVE');
    });
  });

  describe('status, audit and contact', () => {
    it('shows a holder their own account and audit, but not other people’s', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const mine = await activeAccount(s.lifecycle, 'RXX', person('Me', 'Myself'));
      const theirs = await activeAccount(s.lifecycle, 'RXX', person('Them', 'Else'));
      expect((await s.lifecycle.status(as(mine), {})).account.address).toBe(mine);
      expect(await s.lifecycle.auditTrail(as(mine), {})).toHaveLength(2);
      await refusal(s.lifecycle.status(as(mine), { address: theirs }), 'NOT_YOUR_ORGANISATION');
      await refusal(s.lifecycle.auditTrail(as(mine), { address: theirs }), 'NOT_YOUR_ORGANISATION');
    });

    it('keeps the audit trail oldest first with actor, platform, statuses and reason; refusals write nothing', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Audit', 'Me'));
      await s.lifecycle.leaver(operator(day(1), 'slack'), { address });
      await refusal(s.lifecycle.leaver(operator(day(2), 'teams'), { address }), 'ALREADY_LEAVER');
      const trail = await s.lifecycle.auditTrail(operator(), { address });
      expect(trail).toHaveLength(3);
      expect(trail[2]).toMatchObject({
        at: day(1).toISOString(),
        actor: 'operator',
        platform: 'slack',
        action: 'leaver',
        from: 'active',
        to: 'leaver',
      });
      expect(trail[2]?.reason).toContain('grace');
    });

    it('answers who to contact for the asker’s own case, naming their administrators', async () => {
      await addOrg(s.lifecycle, 'GPL01', 'gp-locum');
      await addOrg(s.lifecycle, 'RXX');
      await grant(s.lifecycle, 'la@nhs.net', 'local-admin', 'RXX');
      const locum = await activeAccount(s.lifecycle, 'GPL01', person('Gee', 'Pee'));
      const staff = await activeAccount(s.lifecycle, 'RXX', person('Staff', 'Member'));
      expect((await s.lifecycle.contact(as(locum), {})).who).toContain('locumadmin@nhs.net');
      const mine = await s.lifecycle.contact(as(staff), {});
      expect(mine).toMatchObject({ category: 'trust', org: 'RXX', localAdmins: ['la@nhs.net'] });
      expect((await s.lifecycle.contact(as('stranger@nhs.net'), { category: 'pharmacy' })).who).toContain(
        'NAS',
      );
      await refusal(s.lifecycle.contact(as('stranger@nhs.net'), {}), 'CATEGORY_REQUIRED');
    });
  });

  describe('GP locums', () => {
    it('are acted on by NAS administrators only, and their requests go to the NAS GP-locum team', async () => {
      await addOrg(s.lifecycle, 'GPL01', 'gp-locum');
      await refusal(grant(s.lifecycle, 'la@nhs.net', 'local-admin', 'GPL01'), 'NAS_ONLY');
      await refusal(grant(s.lifecycle, 'mgr@nhs.net', 'manager', 'GPL01'), 'NAS_ONLY');
      await grant(s.lifecycle, 'nas@nhs.net', 'nas-admin');
      await addOrg(s.lifecycle, 'RXX');
      await grant(s.lifecycle, 'la@nhs.net', 'local-admin', 'RXX');
      const locum = await activeAccount(s.lifecycle, 'GPL01', person('Free', 'Lance'));
      const e = await refusal(
        s.lifecycle.leaver(as('la@nhs.net'), { address: locum }),
        'NOT_YOUR_ORGANISATION',
      );
      expect(e.message).toContain('locumadmin@nhs.net');
      await refusal(
        s.lifecycle.provision(as('la@nhs.net'), { ...person('New', 'Locum'), org: 'GPL01' }),
        'NOT_YOUR_ORGANISATION',
      );

      await s.lifecycle.requestTransfer(as(locum), { to: 'RXX' });
      const asked = await s.lifecycle.leaver(as(locum), { address: locum });
      expect(asked).toMatchObject({ outcome: 'requested' });
      const rows = await outboxRows(s.db);
      expect(
        rows.filter((r) => r.audience.type === 'mailbox').map((r) => [r.kind, r.audience.address]),
      ).toEqual([
        ['transfer-leaver', 'locumadmin@nhs.net'],
        ['leaver-request', 'locumadmin@nhs.net'],
      ]);
      const done = await s.lifecycle.leaver(as('nas@nhs.net'), { address: locum });
      expect(done.outcome).toBe('leaver');
    });
  });

  it('uses the injected clock for every rule', async () => {
    await addOrg(s.lifecycle, 'RXX');
    const address = await activeAccount(
      s.lifecycle,
      'RXX',
      person('Clock', 'Work'),
      new Date('2020-01-01T00:00:00Z'),
    );
    const status = await s.lifecycle.status(operator(T0), { address });
    expect(status.account.activityExpiresAt).toBe('2020-01-31T00:00:00.000Z');
  });
});
