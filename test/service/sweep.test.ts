import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { describeEachEngine, queryRows } from '../support/engines.js';
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

describeEachEngine('sweep', (ctx) => {
  const s = useService(ctx);
  const sweep = (at: Date) => s.lifecycle.sweep(operator(at, 'schedule'), { dryRun: false });
  const statusOf = async (address: string, at: Date = T0) =>
    (await s.lifecycle.status(operator(at), { address })).account;
  const warnings = async () =>
    (await outboxRows(s.db))
      .filter((r) => r.kind === 'warning' && r.audience.type === 'holder')
      .map((r) => [r.payload.address, r.payload.clock, r.payload.thresholdDays]);

  describe('state changes', () => {
    it('makes leavers past grace inactive, and leaves those within grace alone', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const early = await activeAccount(s.lifecycle, 'RXX', person('Early', 'Leaver'));
      const late = await activeAccount(s.lifecycle, 'RXX', person('Late', 'Leaver'));
      await s.lifecycle.leaver(operator(), { address: early });
      await s.lifecycle.leaver(operator(day(5)), { address: late });
      const report = await sweep(day(30));
      expect(report.counts['grace-ended']).toBe(1);
      expect(await statusOf(early, day(30))).toMatchObject({
        status: 'inactive',
        inactiveSince: day(30).toISOString(),
      });
      expect((await statusOf(late, day(30))).status).toBe('leaver');
      const trail = await s.lifecycle.auditTrail(operator(), { address: early });
      expect(trail.at(-1)).toMatchObject({
        actor: 'operator',
        platform: 'schedule',
        action: 'grace-ended',
        from: 'leaver',
        to: 'inactive',
      });
    });

    it('makes accounts idle for 30 days inactive; first login counts as activity; shared mailboxes are exempt', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await s.lifecycle.registerSite(operator(), {
        ods: 'FA123',
        kind: 'pharmacy',
        name: 'Pharmacy',
        dspt: 'standards-met',
        owner: person('Site', 'Owner'),
      });
      const idle = await activeAccount(s.lifecycle, 'RXX', person('Idle', 'Person'));
      const busy = await activeAccount(s.lifecycle, 'RXX', person('Busy', 'Person'));
      await s.lifecycle.recordActivity(operator(day(10)), { address: busy, at: day(10) });
      expect((await sweep(day(29))).counts.inactivity).toBe(0);
      const report = await sweep(day(30));
      // The site's owner never completed a first login: 30 days on, the pending clock ends too.
      expect(report.changes.map((c) => [c.address, c.step])).toEqual([
        [idle, 'inactivity'],
        ['site.owner@nhs.net', 'pending-expired'],
      ]);
      expect((await statusOf(busy, day(30))).status).toBe('active');
      expect((await statusOf('pharmacy.fa123@nhs.net', day(30))).status).toBe('active');
    });

    it('deletes inactive accounts past retention and purges deleted ones past the restore window', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const address = await activeAccount(
        s.lifecycle,
        'RXX',
        person('Fading', 'Away', { dob: '1970-01-01' }),
      );
      await sweep(day(30));
      expect((await sweep(day(59))).counts['retention-ended']).toBe(0);
      expect((await sweep(day(60))).counts['retention-ended']).toBe(1);
      expect(await statusOf(address, day(60))).toMatchObject({
        status: 'deleted',
        restoreUntil: day(90).toISOString(),
      });
      expect((await sweep(day(90))).counts.purge).toBe(1);
      const purged = await statusOf(address, day(90));
      expect(purged).toMatchObject({
        status: 'deleted',
        purged: true,
        name: null,
        mobile: null,
        restoreUntil: null,
      });
      const [row] = await queryRows<{ given: string | null; dob: string | null }>(
        s.db.db,
        sql`select given, dob from accounts where address = ${address}`,
      );
      expect(row).toEqual({ given: null, dob: null });
      expect((await sweep(day(120))).counts.purge).toBe(0);
    });

    it('catches up after missed fires: a sweep works from state, not from the last run', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Missed', 'Fires'));
      await s.lifecycle.leaver(operator(), { address });
      const report = await sweep(day(45));
      expect(report.counts['grace-ended']).toBe(1);
      expect((await statusOf(address, day(45))).status).toBe('inactive');
    });

    it('changes nothing on a dry run, and reports what it would do', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Dry', 'Run'));
      const audits = await auditCount(s.db);
      const report = await s.lifecycle.sweep(operator(day(30)), { dryRun: true });
      expect(report).toMatchObject({ dryRun: true, counts: { inactivity: 1 } });
      expect(await auditCount(s.db)).toBe(audits);
      expect((await statusOf(address, day(30))).status).toBe('active');
      const withWarnings = await s.lifecycle.sweep(operator(day(25)), { dryRun: true });
      expect(withWarnings.counts.warnings).toBe(1);
      expect(await warnings()).toEqual([]);
    });

    it('is the operator’s and the scheduler’s only', async () => {
      await grant(s.lifecycle, 'nas@nhs.net', 'nas-admin');
      await refusal(s.lifecycle.sweep(as('nas@nhs.net'), { dryRun: false }), 'OPERATOR_ONLY');
    });
  });

  describe('warnings', () => {
    it('queues 7, 3 and 1 days before an inactivity window ends, each once however often the sweep runs', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Warned', 'Person'));
      for (const d of [22, 23, 23, 24, 26, 27, 27, 28, 29, 29]) await sweep(day(d));
      expect(await warnings()).toEqual([
        [address, 'inactivity', 7],
        [address, 'inactivity', 3],
        [address, 'inactivity', 1],
      ]);
      // The channels get one digest per run that queued something, not one message per warning.
      const digests = (await outboxRows(s.db)).filter((r) => r.kind === 'digest');
      expect(digests.map((r) => [r.audience.ods, (r.payload.items as unknown[]).length])).toEqual([
        ['RXX', 1],
        ['RXX', 1],
        ['RXX', 1],
      ]);
    });

    it('gathers a run’s warnings for an organisation into one digest, soonest first', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await addOrg(s.lifecycle, 'RYY');
      const later = await activeAccount(s.lifecycle, 'RXX', person('Later', 'One'), day(2));
      const sooner = await activeAccount(s.lifecycle, 'RXX', person('Sooner', 'One'));
      const other = await activeAccount(s.lifecycle, 'RYY', person('Other', 'Org'));
      await sweep(day(26));
      const digests = (await outboxRows(s.db)).filter((r) => r.kind === 'digest');
      expect(digests.map((r) => r.audience)).toEqual([
        { type: 'org', ods: 'RXX' },
        { type: 'org', ods: 'RYY' },
      ]);
      const items = (digests[0]?.payload.items ?? []) as Array<{ address: string; daysLeft: number }>;
      expect(items.map((i) => [i.address, i.daysLeft])).toEqual([
        [sooner, 4],
        [later, 6],
      ]);
      expect(((digests[1]?.payload.items ?? []) as Array<{ address: string }>).map((i) => i.address)).toEqual(
        [other],
      );
      await sweep(day(26));
      expect((await outboxRows(s.db)).filter((r) => r.kind === 'digest')).toHaveLength(2);
    });

    it('never sends a less urgent warning after a more urgent one', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Skipped', 'Days'));
      await s.lifecycle.leaver(operator(), { address });
      // The first sweep in a while runs with 2 days of grace left: only the 3-day warning goes.
      await sweep(day(28));
      await sweep(day(28.5));
      await sweep(day(29.5));
      expect(await warnings()).toEqual([
        [address, 'grace', 3],
        [address, 'grace', 1],
      ]);
    });

    it('warns afresh when a clock restarts', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const address = await activeAccount(s.lifecycle, 'RXX', person('Came', 'Back'));
      await sweep(day(23));
      await s.lifecycle.recordActivity(operator(day(24)), { address });
      await sweep(day(47));
      expect(await warnings()).toEqual([
        [address, 'inactivity', 7],
        [address, 'inactivity', 7],
      ]);
    });
  });

  describe('expiring', () => {
    it('lists what ends within N days, soonest first, for an organisation or for all', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await addOrg(s.lifecycle, 'RYY');
      await grant(s.lifecycle, 'mgr@nhs.net', 'manager', 'RXX');
      const leaver = await activeAccount(s.lifecycle, 'RXX', person('Grace', 'Ending'));
      const idle = await activeAccount(s.lifecycle, 'RXX', person('Idle', 'Soon'), day(-25));
      const elsewhere = await activeAccount(s.lifecycle, 'RYY', person('Other', 'Org'), day(-29));
      await s.lifecycle.leaver(operator(day(-26)), { address: leaver });
      const inactive = await activeAccount(s.lifecycle, 'RXX', person('Near', 'Deletion'), day(-58));
      await sweep(day(-28));

      const rxx = await s.lifecycle.expiring(as('mgr@nhs.net'), { org: 'RXX', within: 7 });
      expect(rxx).toEqual([
        {
          address: inactive,
          status: 'inactive',
          org: 'RXX',
          reason: 'retention',
          dueAt: day(2).toISOString(),
        },
        { address: leaver, status: 'leaver', org: 'RXX', reason: 'grace', dueAt: day(4).toISOString() },
        { address: idle, status: 'active', org: 'RXX', reason: 'inactivity', dueAt: day(5).toISOString() },
      ]);
      const mine = await s.lifecycle.expiring(as('mgr@nhs.net'), { within: 7 });
      expect(mine.map((r) => r.address)).not.toContain(elsewhere);
      const all = await s.lifecycle.expiring(operator(), { within: 3 });
      expect(all.map((r) => r.address)).toEqual([elsewhere, inactive]);
      await refusal(
        s.lifecycle.expiring(as('mgr@nhs.net'), { org: 'RYY', within: 7 }),
        'NOT_YOUR_ORGANISATION',
      );
    });
  });
});
