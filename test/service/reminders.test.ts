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

const hours = (n: number, from: Date = T0) => new Date(from.getTime() + n * 3_600_000);

describeEachEngine('reminders', (ctx) => {
  const s = useService(ctx);
  const remindPending = (at: Date, dryRun = false) =>
    s.lifecycle.remindPending(operator(at, 'schedule'), { dryRun });
  const sent = async (kind: string) =>
    (await outboxRows(s.db))
      .filter((r) => r.kind === kind)
      .map((r) => ({ audience: r.audience, payload: r.payload }));

  describe('pending accounts (the schedule)', () => {
    it('reminds holders still pending a day after provisioning, and lists them to their organisation once', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await addOrg(s.lifecycle, 'RYY');
      const old = await s.lifecycle.provision(operator(day(-3)), { ...person('Olu', 'Old'), org: 'RXX' });
      const sms = await s.lifecycle.provision(operator(day(-2)), { ...person('Sam', 'Sms'), org: 'RXX' });
      const other = await s.lifecycle.provision(operator(day(-2)), {
        ...person('Oona', 'Other'),
        org: 'RYY',
      });
      await s.lifecycle.provision(operator(hours(-6)), { ...person('Nia', 'New'), org: 'RXX' });
      await activeAccount(s.lifecycle, 'RXX', person('Ada', 'Active'), day(-5));

      const report = await remindPending(T0);
      expect(report.reminded).toBe(3);
      expect(report.reminders.map((r) => r.address).sort()).toEqual(
        [old.account.address, sms.account.address, other.account.address].sort(),
      );
      const holders = await sent('reminder');
      expect(holders.map((r) => r.audience)).toEqual(
        expect.arrayContaining([
          { type: 'holder', address: old.account.address },
          { type: 'holder', address: other.account.address },
        ]),
      );
      expect(holders[0]?.payload).toMatchObject({ status: 'pending', route: 'envelope' });
      const digests = await sent('pending-digest');
      expect(digests.map((d) => d.audience)).toEqual([
        { type: 'org', ods: 'RXX' },
        { type: 'org', ods: 'RYY' },
      ]);
      // Longest-waiting first.
      const items = (digests[0]?.payload.items ?? []) as Array<{ pendingDays: number }>;
      expect(items.map((item) => item.pendingDays)).toEqual([3, 2]);
    });

    it('reminds each holder once a day at most, however often it runs', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await s.lifecycle.provision(operator(day(-2)), { ...person('Pat', 'Pending'), org: 'RXX' });
      expect((await remindPending(T0)).reminded).toBe(1);
      expect((await remindPending(T0)).reminded).toBe(0);
      expect((await remindPending(hours(19))).reminded).toBe(0);
      expect((await remindPending(hours(24))).reminded).toBe(1);
      expect(await sent('reminder')).toHaveLength(2);
      expect(await sent('pending-digest')).toHaveLength(2);
    });

    it('stops once the first login is recorded', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const made = await s.lifecycle.provision(operator(day(-2)), { ...person('Fay', 'First'), org: 'RXX' });
      await s.lifecycle.firstLogin(operator(day(-1)), { address: made.account.address, mfa: true });
      expect((await remindPending(T0)).reminded).toBe(0);
    });

    it('changes nothing on a dry run, and writes no audit row either way', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await s.lifecycle.provision(operator(day(-2)), { ...person('Dee', 'Dry'), org: 'RXX' });
      const audits = await auditCount(s.db);
      const dry = await remindPending(T0, true);
      expect(dry).toMatchObject({ dryRun: true, reminded: 1 });
      expect(await sent('reminder')).toHaveLength(0);
      expect((await remindPending(T0)).reminded).toBe(1);
      expect(await auditCount(s.db)).toBe(audits);
    });

    it('is the operator’s and the scheduler’s only', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await grant(s.lifecycle, 'la@nhs.net', 'local-admin', 'RXX');
      await refusal(s.lifecycle.remindPending(as('la@nhs.net'), { dryRun: false }), 'OPERATOR_ONLY');
    });
  });

  describe('remind ADDRESS (the digest’s button)', () => {
    it('sends the holder a direct message with their clock, once an hour at most', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await grant(s.lifecycle, 'mgr@nhs.net', 'manager', 'RXX');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Ivy', 'Idle'), day(-25));
      const done = await s.lifecycle.remind(as('mgr@nhs.net'), { address });
      expect(done).toEqual({ address, status: 'active', dueAt: day(5).toISOString() });
      const [reminder] = await sent('reminder');
      expect(reminder).toEqual({
        audience: { type: 'holder', address },
        payload: expect.objectContaining({
          status: 'active',
          dueAt: day(5).toISOString(),
          remindedBy: 'mgr@nhs.net',
        }),
      });
      const again = await refusal(
        s.lifecycle.remind(as('mgr@nhs.net', hours(0.5)), { address }),
        'REMINDED_RECENTLY',
      );
      expect(again.message).toMatch(/once an hour at most/);
      await s.lifecycle.remind(as('mgr@nhs.net', hours(1.1)), { address });
      expect(await sent('reminder')).toHaveLength(2);
    });

    it('tells a leaver how long the grace period lasts', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Lee', 'Leaving'), day(-2));
      await s.lifecycle.leaver(operator(day(-1)), { address });
      expect(await s.lifecycle.remind(operator(), { address })).toMatchObject({
        status: 'leaver',
        dueAt: day(29).toISOString(),
      });
    });

    it('refuses other organisations’ accounts, and accounts past saving, changing nothing', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await addOrg(s.lifecycle, 'RYY');
      await grant(s.lifecycle, 'la.y@nhs.net', 'local-admin', 'RYY');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Xan', 'Ex'), day(-40));
      await refusal(s.lifecycle.remind(as('la.y@nhs.net'), { address }), 'NOT_YOUR_ORGANISATION');
      await s.lifecycle.sweep(operator(T0, 'schedule'), { dryRun: false });
      const inactive = await refusal(s.lifecycle.remind(operator(), { address }), 'NOTHING_TO_REMIND');
      expect(inactive.message).toContain(`reactivate ${address}`);
      await refusal(s.lifecycle.remind(operator(), { address: 'nobody@nhs.net' }), 'ACCOUNT_NOT_FOUND');
      expect(await sent('reminder')).toHaveLength(0);
    });
  });
});
