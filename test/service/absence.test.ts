import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { runText } from '../../src/commands/execute.js';
import { holderText } from '../../src/commands/holder-messages.js';
import { loadConfig } from '../../src/config.js';
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

/**
 * Issue 16, points 1 and 2: NHSmail's "Disabled" status for a long absence (kept 18 months, out of
 * the activity rule), and pending accounts that lapse when their first login never comes.
 */
const ADMIN = 'ada.admin@nhs.net';
const MANAGER = 'max.manager@nhs.net';

describeEachEngine('disabled accounts (long absence)', (ctx) => {
  const s = useService(ctx);
  const sweep = (at: Date) => s.lifecycle.sweep(operator(at, 'schedule'), { dryRun: false });
  const statusOf = async (address: string, at: Date = T0) =>
    (await s.lifecycle.status(operator(at), { address })).account;
  const holderWarnings = async (address: string) =>
    (await outboxRows(s.db))
      .filter((r) => r.kind === 'warning' && r.audience.address === address)
      .map((r) => [r.payload.clock, r.payload.thresholdDays]);

  async function setUp(): Promise<string> {
    await addOrg(s.lifecycle, 'RXX');
    await addOrg(s.lifecycle, 'RYY');
    await grant(s.lifecycle, ADMIN, 'local-admin', 'RXX');
    await grant(s.lifecycle, MANAGER, 'manager', 'RXX');
    return activeAccount(s.lifecycle, 'RXX', person('Mae', 'Away'));
  }

  it('a local administrator disables it: out of the activity rule, and deleted 548 days later', async () => {
    const away = await setUp();
    const result = await s.lifecycle.disable(as(ADMIN), {
      address: away,
      reason: 'maternity leave',
      until: day(300),
    });
    expect(result).toMatchObject({
      outcome: 'disabled',
      updated: false,
      account: {
        status: 'disabled',
        disabledAt: T0.toISOString(),
        disabledReason: 'maternity leave',
        disabledUntil: day(300).toISOString(),
        deleteAfter: day(548).toISOString(),
        activityExpiresAt: null,
      },
    });
    const trail = await s.lifecycle.auditTrail(operator(), { address: away });
    expect(trail.at(-1)).toMatchObject({ actor: ADMIN, action: 'disable', from: 'active', to: 'disabled' });
    expect(trail.at(-1)?.reason).toContain('maternity leave');
    const notice = (await outboxRows(s.db)).find((r) => r.kind === 'status-change');
    expect(notice).toMatchObject({
      audience: { type: 'holder', address: away },
      payload: { to: 'disabled' },
    });

    // The 30-day rule would have made it inactive on day 30; disabled, it stays.
    expect((await sweep(day(200))).counts.inactivity).toBe(0);
    expect((await statusOf(away, day(200))).status).toBe('disabled');
    expect((await sweep(day(547))).counts['disabled-ended']).toBe(0);
    const ended = await sweep(day(548));
    expect(ended.counts['disabled-ended']).toBe(1);
    expect(ended.changes).toMatchObject([
      {
        address: away,
        org: 'RXX',
        step: 'disabled-ended',
        from: 'disabled',
        to: 'deleted',
      },
    ]);
    expect(await statusOf(away, day(548))).toMatchObject({
      status: 'deleted',
      deletedAt: day(548).toISOString(),
      restoreUntil: day(578).toISOString(),
      disabledAt: null,
      disabledReason: null,
    });
    expect((await s.lifecycle.auditTrail(operator(), { address: away })).at(-1)).toMatchObject({
      action: 'disabled-ended',
      from: 'disabled',
      to: 'deleted',
    });
    // The usual restore window follows: NAS can still bring it back.
    expect((await s.lifecycle.reactivate(operator(day(560)), { address: away })).status).toBe('active');
  });

  it('warns the holder and the channels 30, 7 and 1 days before deletion and before the return date, once each', async () => {
    const away = await setUp();
    await s.lifecycle.disable(as(ADMIN), { address: away, reason: 'career break', until: day(100) });
    for (const d of [69, 70, 70, 93, 99, 99, 517, 518, 541, 547, 547]) await sweep(day(d));
    expect(await holderWarnings(away)).toEqual([
      ['disabled-until', 30],
      ['disabled-until', 7],
      ['disabled-until', 1],
      ['disabled', 30],
      ['disabled', 7],
      ['disabled', 1],
    ]);
    const digests = (await outboxRows(s.db)).filter((r) => r.kind === 'digest');
    expect(digests).toHaveLength(6);
    expect(digests.map((d) => (d.payload.items as Array<{ clock: string }>)[0]?.clock)).toEqual([
      'disabled-until',
      'disabled-until',
      'disabled-until',
      'disabled',
      'disabled',
      'disabled',
    ]);
  });

  it('expiring shows the disabled deadline and the return date as their own reasons', async () => {
    const away = await setUp();
    await s.lifecycle.disable(as(ADMIN), { address: away, reason: 'long sickness', until: day(545) });
    const rows = await s.lifecycle.expiring(as(MANAGER, day(540)), { org: 'RXX', within: 10 });
    expect(rows).toEqual([
      {
        address: away,
        status: 'disabled',
        org: 'RXX',
        reason: 'disabled-until',
        dueAt: day(545).toISOString(),
      },
      { address: away, status: 'disabled', org: 'RXX', reason: 'disabled', dueAt: day(548).toISOString() },
    ]);
    const text = await runText(s.lifecycle, as(MANAGER, day(540)), 'expiring --org RXX --within 10');
    expect(text.text).toContain(`${away} (RXX, disabled): disabled: deleted unless enabled`);
  });

  it('enable makes it active again with a fresh activity clock', async () => {
    const away = await setUp();
    await s.lifecycle.disable(as(ADMIN), { address: away, reason: 'secondment', until: null });
    const back = await s.lifecycle.enable(as(ADMIN, day(250)), { address: away });
    expect(back).toMatchObject({
      status: 'active',
      lastActivityAt: day(250).toISOString(),
      activityExpiresAt: day(280).toISOString(),
      disabledAt: null,
      disabledReason: null,
      disabledUntil: null,
    });
    expect((await s.lifecycle.auditTrail(operator(), { address: away })).at(-1)).toMatchObject({
      action: 'enable',
      from: 'disabled',
      to: 'active',
    });
    expect((await sweep(day(279))).counts.inactivity).toBe(0);
    expect((await sweep(day(280))).counts.inactivity).toBe(1);
  });

  it('disabling again changes the reason and return date, never the 18-month clock', async () => {
    const away = await setUp();
    await s.lifecycle.disable(as(ADMIN), { address: away, reason: 'maternity leave', until: day(200) });
    const again = await s.lifecycle.disable(as(ADMIN, day(150)), {
      address: away,
      reason: 'maternity leave, extended',
      until: day(300),
    });
    expect(again).toMatchObject({
      outcome: 'disabled',
      updated: true,
      account: {
        disabledAt: T0.toISOString(),
        deleteAfter: day(548).toISOString(),
        disabledUntil: day(300).toISOString(),
      },
    });
    expect((await s.lifecycle.auditTrail(operator(), { address: away })).at(-1)).toMatchObject({
      action: 'disable-update',
      from: 'disabled',
      to: 'disabled',
    });
    await refusal(
      s.lifecycle.disable(as(ADMIN, day(151)), {
        address: away,
        reason: 'maternity leave, extended',
        until: day(300),
      }),
      'ALREADY_DISABLED',
    );
  });

  it('refuses what the rules do not allow, naming the rule, and changes nothing', async () => {
    const away = await setUp();
    const fresh = (await s.lifecycle.provision(operator(), { ...person('Nia', 'New'), org: 'RXX' })).account
      .address;
    await grant(s.lifecycle, 'other.manager@nhs.net', 'manager', 'RYY');
    const before = await auditCount(s.db);
    const disable = (who: string, address: string, until: Date | null = null) =>
      s.lifecycle.disable(as(who), { address, reason: 'sickness', until });
    expect((await refusal(disable(ADMIN, fresh), 'NOT_ACTIVE')).message).toContain('never signed in');
    expect((await refusal(disable(ADMIN, away, day(-1)), 'INVALID_UNTIL')).message).toContain(
      'not in the future',
    );
    expect((await refusal(disable(ADMIN, away, day(549)), 'INVALID_UNTIL')).message).toContain('deleted');
    await refusal(disable(away, away), 'NOT_YOUR_ORGANISATION');
    await refusal(disable('other.manager@nhs.net', away), 'NOT_YOUR_ORGANISATION');
    await refusal(s.lifecycle.enable(as(ADMIN), { address: away }), 'NOT_DISABLED');
    await refusal(s.lifecycle.enable(as(MANAGER), { address: away }), 'NOT_YOUR_ORGANISATION');
    // A manager's request that could never be carried out is refused now, not posted.
    await refusal(disable(MANAGER, fresh), 'NOT_ACTIVE');
    expect(await auditCount(s.db)).toBe(before);
    expect((await statusOf(away)).status).toBe('active');
    expect((await outboxRows(s.db)).filter((r) => r.kind === 'disable-request')).toEqual([]);
  });

  it('a manager asks: the local administrators get the request in their channels, and nothing changes yet', async () => {
    const away = await setUp();
    const asked = await s.lifecycle.disable(as(MANAGER), {
      address: away,
      reason: 'long sickness',
      until: day(90),
    });
    expect(asked).toMatchObject({ outcome: 'requested', account: { status: 'active' } });
    expect((await statusOf(away)).status).toBe('active');
    const requests = (await outboxRows(s.db)).filter((r) => r.kind === 'disable-request');
    expect(requests).toEqual([
      {
        kind: 'disable-request',
        audience: { type: 'org', ods: 'RXX' },
        payload: {
          address: away,
          org: 'RXX',
          reason: 'long sickness',
          until: day(90).toISOString(),
          requestedBy: MANAGER,
        },
        payload_version: 1,
      },
    ]);
    expect((await s.lifecycle.auditTrail(operator(), { address: away })).at(-1)).toMatchObject({
      actor: MANAGER,
      action: 'disable-request',
      from: 'active',
      to: 'active',
    });
  });

  it('a manager deciding a request (its Disable button) is refused, and asks nothing again', async () => {
    const away = await setUp();
    const before = await auditCount(s.db);
    const outboxBefore = (await outboxRows(s.db)).length;
    await refusal(
      s.lifecycle.disable(
        { ...as(MANAGER), deciding: true },
        { address: away, reason: 'long sickness', until: day(90) },
      ),
      'NOT_YOUR_ORGANISATION',
    );
    expect((await statusOf(away)).status).toBe('active');
    expect(await auditCount(s.db)).toBe(before);
    expect((await outboxRows(s.db)).length).toBe(outboxBefore);
    const done = await s.lifecycle.disable(
      { ...as(ADMIN), deciding: true },
      { address: away, reason: 'long sickness', until: day(90) },
    );
    expect(done).toMatchObject({ outcome: 'disabled', account: { status: 'disabled' } });
  });

  it('a leaver and a joiner work from disabled as from active', async () => {
    const away = await setUp();
    await s.lifecycle.disable(as(ADMIN), { address: away, reason: 'career break', until: null });
    const left = await s.lifecycle.leaver(as(ADMIN, day(10)), { address: away });
    expect(left).toMatchObject({
      outcome: 'leaver',
      account: {
        status: 'leaver',
        graceExpiresAt: day(40).toISOString(),
        disabledAt: null,
        disabledReason: null,
      },
    });
    const joined = await s.lifecycle.joiner(operator(day(20)), { address: away, org: 'RYY' });
    expect(joined).toMatchObject({ outcome: 'joined', account: { status: 'active', org: 'RYY' } });
  });

  /** A pharmacy's owner, signed in once and then disabled: the site's own place is free. */
  async function disabledSiteOwner(): Promise<string> {
    await addOrg(s.lifecycle, 'RXX');
    const site = await s.lifecycle.registerSite(operator(), {
      ods: 'FA123',
      kind: 'pharmacy',
      name: 'Corner Pharmacy',
      dspt: 'standards-met',
      owner: person('Owen', 'Owner'),
    });
    const owner = site.owner.address;
    await s.lifecycle.firstLogin(operator(), { address: owner, mfa: true });
    await s.lifecycle.disable(operator(), { address: owner, reason: 'long sickness', until: null });
    return owner;
  }

  it('a site account that comes back needs a free place, as a disabled one holds none', async () => {
    const owner = await disabledSiteOwner();
    // Fill the site's places while the owner is away (the owner's own place is free now).
    for (let i = 0; i < 10; i++) {
      await s.lifecycle.requestSiteAccount(operator(), {
        site: 'FA123',
        ...person('Staff', `Member${String.fromCharCode(97 + i)}`),
      });
    }
    await refusal(s.lifecycle.enable(operator(), { address: owner }), 'SITE_ACCOUNT_LIMIT');
    // Marked a leaver, it would hold a place again: refused alike, and nothing changes.
    await refusal(s.lifecycle.leaver(operator(), { address: owner }), 'SITE_ACCOUNT_LIMIT');
    expect((await statusOf(owner)).status).toBe('disabled');
  });

  it('a returning holder is enabled even when the site’s DSPT has lapsed: no new account is made', async () => {
    const owner = await disabledSiteOwner();
    await s.lifecycle.updateDspt(operator(), { ods: 'FA123', dspt: 'standards-not-met' });
    expect((await s.lifecycle.enable(operator(day(10)), { address: owner })).status).toBe('active');
  });

  it('a request’s button never overwrites an absence recorded since; typing disable does', async () => {
    const away = await setUp();
    await s.lifecycle.disable(as(ADMIN), { address: away, reason: 'maternity leave', until: day(300) });
    const clicked = { ...as(ADMIN, day(1)), deciding: true };
    const e = await refusal(
      s.lifecycle.disable(clicked, { address: away, reason: 'long sickness', until: null }),
      'ALREADY_DISABLED',
    );
    expect(e.message).toContain('maternity leave');
    expect(await statusOf(away)).toMatchObject({
      disabledReason: 'maternity leave',
      disabledUntil: day(300).toISOString(),
    });
  });

  it('an HR leaving date stands through disable and enable, and the sweep marks the leaver from disabled', async () => {
    const away = await setUp();
    await s.db.db.execute(
      sql`update accounts set leaves_at = ${day(100).toISOString()} where address = ${away}`,
    );
    await s.lifecycle.disable(as(ADMIN), { address: away, reason: 'long sickness', until: null });
    expect((await statusOf(away)).leavesAt).toBe(day(100).toISOString());
    await s.lifecycle.enable(as(ADMIN, day(20)), { address: away });
    expect((await statusOf(away, day(20))).leavesAt).toBe(day(100).toISOString());
    await s.lifecycle.disable(as(ADMIN, day(30)), { address: away, reason: 'long sickness', until: null });
    const report = await sweep(day(100));
    expect(report.counts['hr-leavers']).toBe(1);
    expect(await statusOf(away, day(100))).toMatchObject({ status: 'leaver', disabledAt: null });
  });

  it('expiring drops a return date once it has passed (nothing changes on it), keeping the deletion', async () => {
    const away = await setUp();
    await s.lifecycle.disable(as(ADMIN), { address: away, reason: 'long sickness', until: day(20) });
    const rows = await s.lifecycle.expiring(as(MANAGER, day(25)), { org: 'RXX', within: 600 });
    expect(rows.map((r) => r.reason)).toEqual(['disabled']);
  });

  it('over the command line: disable and enable, and bad input changes nothing', async () => {
    const away = await setUp();
    const before = await auditCount(s.db);
    for (const [line, code] of [
      [`disable ${away}`, 'MISSING_OPTION'],
      [`disable ${away} --reason ""`, 'MISSING_OPTION'],
      [`disable ${away} --reason ${'x'.repeat(201)}`, 'INVALID_REASON'],
      [`disable ${away} --reason sickness --until 2027-02-30`, 'INVALID_DATE'],
      [`disable ${away} --reason sickness --until next-week`, 'INVALID_DATE'],
      ['disable not-an-address --reason sickness', 'INVALID_ADDRESS'],
    ] as const) {
      const reply = await runText(s.lifecycle, as(ADMIN), line);
      expect(reply.ok, line).toBe(false);
      expect(reply.error?.code, line).toBe(code);
    }
    expect(await auditCount(s.db)).toBe(before);
    const done = await runText(
      s.lifecycle,
      as(ADMIN),
      `disable ${away} --reason "maternity leave" --until ${day(200).toISOString().slice(0, 10)}`,
    );
    expect(done.ok).toBe(true);
    expect(done.text).toContain(`Disabled.\n${away}: disabled`);
    expect(done.text).toContain('maternity leave');
    expect(done.text).toContain(`Kept until ${day(548).toISOString().slice(0, 10)}`);
    const asked = await runText(
      s.lifecycle,
      as(MANAGER),
      `disable ${away} --reason "maternity leave, longer"`,
    );
    expect(asked.text).toContain('Asked the local administrators of RXX organisation (RXX)');
    const enabled = await runText(s.lifecycle, as(ADMIN, day(30)), `enable ${away}`);
    expect(enabled.ok).toBe(true);
    expect(enabled.data).toMatchObject({ status: 'active', lastActivityAt: day(30).toISOString() });
  });
});

describeEachEngine('disable and enable with a directory', (ctx) => {
  const s = useService(ctx, {}, { directoryEffects: true });

  it('set accountEnabled through the directory effects disable and enable', async () => {
    await addOrg(s.lifecycle, 'RXX');
    const away = await activeAccount(s.lifecycle, 'RXX', person('Mae', 'Away'));
    await s.lifecycle.disable(operator(), { address: away, reason: 'maternity leave', until: null });
    await s.lifecycle.enable(operator(day(100)), { address: away });
    const effects = await queryRows<{ kind: string }>(
      s.db.db,
      sql`select e.kind from directory_effects e join accounts a on a.id = e.account_id
          where a.address = ${away} order by e.id`,
    );
    expect(effects.map((e) => e.kind)).toEqual(['create-user', 'disable', 'enable']);
  });
});

describeEachEngine('pending accounts expire', (ctx) => {
  const s = useService(ctx);
  const sweep = (at: Date) => s.lifecycle.sweep(operator(at, 'schedule'), { dryRun: false });

  it('inactive 30 days after creation without a first login, warned 7, 3 and 1 days before, once each', async () => {
    await addOrg(s.lifecycle, 'RXX');
    await grant(s.lifecycle, MANAGER, 'manager', 'RXX');
    const fresh = (await s.lifecycle.provision(operator(), { ...person('Nia', 'New'), org: 'RXX' })).account;
    expect(fresh.pendingExpiresAt).toBe(day(30).toISOString());
    const used = (await s.lifecycle.provision(operator(), { ...person('Uma', 'Used'), org: 'RXX' })).account
      .address;
    await s.lifecycle.firstLogin(operator(day(2)), { address: used, mfa: true });

    expect(await s.lifecycle.expiring(as(MANAGER, day(22)), { org: 'RXX', within: 8 })).toEqual([
      {
        address: fresh.address,
        status: 'pending',
        org: 'RXX',
        reason: 'pending',
        dueAt: day(30).toISOString(),
      },
    ]);
    for (const d of [22, 23, 23, 27, 29, 29]) await sweep(day(d));
    const warned = (await outboxRows(s.db)).filter(
      (r) => r.kind === 'warning' && r.payload.address === fresh.address,
    );
    expect(warned.map((r) => [r.payload.address, r.payload.clock, r.payload.thresholdDays])).toEqual([
      [fresh.address, 'pending', 7],
      [fresh.address, 'pending', 3],
      [fresh.address, 'pending', 1],
    ]);
    const digests = (await outboxRows(s.db)).filter((r) => r.kind === 'digest');
    expect(digests.map((d) => d.audience)).toEqual([
      { type: 'org', ods: 'RXX' },
      { type: 'org', ods: 'RXX' },
      { type: 'org', ods: 'RXX' },
    ]);

    expect((await sweep(day(29))).counts['pending-expired']).toBe(0);
    const report = await sweep(day(30));
    expect(report.counts['pending-expired']).toBe(1);
    expect((await s.lifecycle.status(operator(day(30)), { address: fresh.address })).account).toMatchObject({
      status: 'inactive',
      inactiveSince: day(30).toISOString(),
    });
    expect((await s.lifecycle.status(operator(day(30)), { address: used })).account.status).toBe('active');
    expect((await s.lifecycle.auditTrail(operator(), { address: fresh.address })).at(-1)).toMatchObject({
      actor: 'operator',
      platform: 'schedule',
      action: 'pending-expired',
      from: 'pending',
      to: 'inactive',
      reason: 'first login not completed within 30 days of creation',
    });
    const notice = (await outboxRows(s.db)).filter((r) => r.kind === 'status-change');
    expect(notice.map((r) => [r.audience.address, r.payload.to])).toEqual([[fresh.address, 'inactive']]);
    // Idempotent: the next run changes nothing more.
    expect((await sweep(day(30))).counts['pending-expired']).toBe(0);
  });

  it('counts from the making: a joiner still pending keeps its date, and a reactivation makes it active', async () => {
    await addOrg(s.lifecycle, 'RXX');
    await addOrg(s.lifecycle, 'RYY');
    const fresh = (await s.lifecycle.provision(operator(), { ...person('Nia', 'New'), org: 'RXX' })).account
      .address;
    await s.lifecycle.leaver(operator(day(5)), { address: fresh });
    const joined = await s.lifecycle.joiner(operator(day(10)), { address: fresh, org: 'RYY' });
    expect(joined.account).toMatchObject({ status: 'pending', pendingExpiresAt: day(30).toISOString() });
    expect((await sweep(day(30))).counts['pending-expired']).toBe(1);
    // DESIGN: inactive → active by reactivate, the activity clock restarted.
    const back = await s.lifecycle.reactivate(operator(day(35)), { address: fresh });
    expect(back).toMatchObject({ status: 'active', activityExpiresAt: day(65).toISOString() });
  });
});

describeEachEngine('pending accounts expire under a shorter PENDING_DAYS', (ctx) => {
  const s = useService(ctx, { pendingDays: 10, warningDays: [2] });

  it('lapse after the configured days, warned on the configured thresholds', async () => {
    await addOrg(s.lifecycle, 'RXX');
    const fresh = (await s.lifecycle.provision(operator(), { ...person('Nia', 'New'), org: 'RXX' })).account
      .address;
    await s.lifecycle.sweep(operator(day(8)), { dryRun: false });
    const warned = (await outboxRows(s.db)).filter((r) => r.kind === 'warning');
    expect(warned.map((r) => [r.payload.clock, r.payload.thresholdDays])).toEqual([['pending', 2]]);
    expect((await s.lifecycle.sweep(operator(day(10)), { dryRun: false })).counts['pending-expired']).toBe(1);
    expect((await s.lifecycle.status(operator(day(10)), { address: fresh })).account.status).toBe('inactive');
  });
});

describe('what the holder and the configuration are told', () => {
  it('a status change names the remedy for the status it reached', () => {
    const text = (to: 'disabled' | 'active' | 'inactive' | 'deleted') =>
      holderText({
        kind: 'status-change',
        payload: { address: 'mae.away@nhs.net', org: 'RXX', from: 'active', to, reason: 'why' },
      });
    expect(text('disabled')).toContain('enable it');
    expect(text('disabled')).not.toContain('reactivate');
    expect(text('active')).not.toContain('reactivate');
    expect(text('inactive')).toContain('reactivate it');
    expect(text('deleted')).toContain('only NAS can restore');
  });

  it('refuses STARTER_LEAD_DAYS at or past PENDING_DAYS: starters would lapse before Day 1', () => {
    expect(() => loadConfig({ STARTER_LEAD_DAYS: '30' })).toThrow(
      /STARTER_LEAD_DAYS 30 must be fewer than PENDING_DAYS 30/,
    );
    expect(() => loadConfig({ STARTER_LEAD_DAYS: '30', PENDING_DAYS: '45' })).not.toThrow();
  });
});
