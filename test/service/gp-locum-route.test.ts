import { describe, expect, it } from 'vitest';
import { runText } from '../../src/commands/execute.js';
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

/**
 * Issue 16, point 5: an employee who becomes a freelance GP locum is marked a leaver for the
 * GP-locum route; the NAS GP-locum team then joins the account to the GP-locum organisation
 * within the grace period, or grace ends as for any leaver.
 */
describeEachEngine('the employee → freelance GP locum route (leaver --gp-locum)', (ctx) => {
  const s = useService(ctx);
  const LA = 'la.x@nhs.net';
  const NAS = 'nas.team@nhs.net';

  const setUp = async () => {
    await addOrg(s.lifecycle, 'RXX');
    await addOrg(s.lifecycle, 'Y0LOC', 'gp-locum');
    await grant(s.lifecycle, LA, 'local-admin', 'RXX');
    await grant(s.lifecycle, NAS, 'nas-admin');
    return activeAccount(s.lifecycle, 'RXX', person('Gina', 'Doctor'));
  };

  it('marks the leaver, records the route as a transfer to the GP-locum organisation, and tells the team and the holder', async () => {
    const gina = await setUp();
    const r = await s.lifecycle.leaver(as(LA), { address: gina, gpLocum: true });
    expect(r).toMatchObject({
      outcome: 'leaver',
      account: { status: 'leaver', org: 'RXX', graceExpiresAt: day(30).toISOString() },
      gpLocum: { org: 'Y0LOC', mailbox: 'locumadmin@nhs.net' },
    });
    const rows = (await outboxRows(s.db)).filter(
      (row) => row.kind === 'leaver' || row.kind === 'gp-locum-claim',
    );
    expect(rows.map((row) => [row.kind, row.audience, row.payload])).toEqual([
      [
        'leaver',
        { type: 'holder', address: gina },
        {
          address: gina,
          org: 'RXX',
          graceExpiresAt: day(30).toISOString(),
          gpLocum: { org: 'Y0LOC', mailbox: 'locumadmin@nhs.net' },
        },
      ],
      [
        'gp-locum-claim',
        { type: 'mailbox', address: 'locumadmin@nhs.net', ods: 'Y0LOC' },
        {
          address: gina,
          from: 'RXX',
          to: 'Y0LOC',
          markedBy: LA,
          daysLeft: 30,
          graceExpiresAt: day(30).toISOString(),
        },
      ],
    ]);
    const trail = await s.lifecycle.auditTrail(operator(), { address: gina });
    expect(trail.find((row) => row.action === 'leaver')?.reason).toContain(
      'for the GP-locum route: the NAS GP-locum team (locumadmin@nhs.net) is asked to join them to Y0LOC by 2026-12-23',
    );
    const status = await s.lifecycle.status(as(gina), {});
    expect(status.transfer).toMatchObject({ to: 'Y0LOC', leaverDone: true, accepted: false });
  });

  it('a NAS administrator accepts it as a normal joiner into the GP-locum organisation; a local administrator cannot', async () => {
    const gina = await setUp();
    await s.lifecycle.leaver(as(LA), { address: gina, gpLocum: true });
    await refusal(
      s.lifecycle.joiner(as(LA, day(3)), { address: gina, org: 'Y0LOC' }),
      'NOT_YOUR_ORGANISATION',
    );
    const joined = await s.lifecycle.joiner(as(NAS, day(3)), { address: gina, org: 'Y0LOC' });
    expect(joined).toMatchObject({
      outcome: 'joined',
      from: 'RXX',
      account: { status: 'active', org: 'Y0LOC' },
    });
    // The route's transfer request is complete: nothing left open.
    expect((await s.lifecycle.status(as(gina), {})).transfer).toBeNull();
  });

  it('ends as any leaver when grace runs out: inactive, and the route closed', async () => {
    const gina = await setUp();
    await s.lifecycle.leaver(as(LA), { address: gina, gpLocum: true });
    await s.lifecycle.sweep(operator(day(30)), { dryRun: false });
    const after = await s.lifecycle.status(operator(day(30)), { address: gina });
    expect(after).toMatchObject({ account: { status: 'inactive', org: 'RXX' }, transfer: null });
    await refusal(s.lifecycle.joiner(as(NAS, day(31)), { address: gina, org: 'Y0LOC' }), 'GRACE_EXPIRED');
  });

  it('replaces a transfer request open to another organisation', async () => {
    const gina = await setUp();
    await addOrg(s.lifecycle, 'RYY');
    await s.lifecycle.requestTransfer(as(gina), { to: 'RYY' });
    await s.lifecycle.leaver(as(LA, day(1)), { address: gina, gpLocum: true });
    expect((await s.lifecycle.status(as(gina), {})).transfer).toMatchObject({
      to: 'Y0LOC',
      leaverDone: true,
    });
  });

  it('completes at once a transfer to the GP-locum organisation NAS had already accepted, with no claim', async () => {
    const gina = await setUp();
    await s.lifecycle.requestTransfer(as(gina), { to: 'Y0LOC' });
    await s.lifecycle.joiner(as(NAS, day(1)), { address: gina, org: 'Y0LOC' });
    const r = await s.lifecycle.leaver(as(LA, day(2)), { address: gina, gpLocum: true });
    expect(r).toMatchObject({
      transferCompleted: { to: 'Y0LOC' },
      gpLocum: null,
      account: { status: 'active', org: 'Y0LOC' },
    });
    expect((await outboxRows(s.db)).map((row) => row.kind)).not.toContain('gp-locum-claim');
  });

  it('refuses, changing nothing, when no GP-locum organisation is registered', async () => {
    await addOrg(s.lifecycle, 'RXX');
    await grant(s.lifecycle, LA, 'local-admin', 'RXX');
    const gina = await activeAccount(s.lifecycle, 'RXX', person('Gina', 'Doctor'));
    const before = await auditCount(s.db);
    const e = await refusal(s.lifecycle.leaver(as(LA), { address: gina, gpLocum: true }), 'NO_GP_LOCUM_ORG');
    expect(e.message).toContain('--kind gp-locum');
    expect(await auditCount(s.db)).toBe(before);
    expect((await s.lifecycle.status(as(gina), {})).account.status).toBe('active');
  });

  it('refuses when more than one GP-locum organisation is registered', async () => {
    const gina = await setUp();
    await addOrg(s.lifecycle, 'Y0LC2', 'gp-locum');
    const e = await refusal(s.lifecycle.leaver(as(LA), { address: gina, gpLocum: true }), 'NO_GP_LOCUM_ORG');
    expect(e.message).toContain('Y0LOC');
    expect(e.message).toContain('Y0LC2');
  });

  it('refuses an account already homed in the GP-locum organisation, and a shared mailbox', async () => {
    await setUp();
    const locum = await activeAccount(s.lifecycle, 'Y0LOC', person('Fran', 'Lance'));
    await refusal(s.lifecycle.leaver(as(NAS), { address: locum, gpLocum: true }), 'ALREADY_GP_LOCUM');
    const site = await s.lifecycle.registerSite(operator(), {
      ods: 'FA123',
      kind: 'pharmacy',
      name: 'High Street Pharmacy',
      dspt: 'standards-met',
      owner: person('Site', 'Owner'),
    });
    const before = await auditCount(s.db);
    await refusal(
      s.lifecycle.leaver(operator(), { address: site.sharedMailbox.address, gpLocum: true }),
      'SHARED_MAILBOX',
    );
    expect(await auditCount(s.db)).toBe(before);
  });

  it('is not the holder’s to choose: their own --gp-locum is refused, a plain request still goes', async () => {
    const gina = await setUp();
    await refusal(s.lifecycle.leaver(as(gina), { address: gina, gpLocum: true }), 'NOT_YOUR_ORGANISATION');
    expect(await s.lifecycle.leaver(as(gina), { address: gina })).toMatchObject({ outcome: 'requested' });
  });

  describe('on the command line', () => {
    it('says who was asked and by when, and --json carries gpLocum', async () => {
      const gina = await setUp();
      const reply = await runText(s.lifecycle, as(LA), `leaver ${gina} --gp-locum`);
      expect(reply.ok).toBe(true);
      expect(reply.text).toContain(
        'Marked as a leaver for the GP-locum route. The NAS GP-locum team (locumadmin@nhs.net) is asked to join them to Y0LOC before the grace period ends on 2026-12-23',
      );
      expect(reply.data).toMatchObject({
        status: 'leaver',
        gpLocum: { org: 'Y0LOC', mailbox: 'locumadmin@nhs.net' },
      });
      const joined = await runText(s.lifecycle, as(NAS, day(2)), `joiner ${gina} --org Y0LOC`);
      expect(joined.ok).toBe(true);
      expect(joined.data).toMatchObject({ status: 'active', org: 'Y0LOC' });
    });

    it('a plain leaver carries gpLocum: null', async () => {
      const gina = await setUp();
      const reply = await runText(s.lifecycle, as(LA), `leaver ${gina}`);
      expect(reply.data).toMatchObject({ gpLocum: null });
      expect(reply.text).not.toContain('GP-locum');
    });

    it('refuses with the rule and what to do when no GP-locum organisation exists', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const gina = await activeAccount(s.lifecycle, 'RXX', person('Gina', 'Doctor'));
      const reply = await runText(s.lifecycle, operator(T0), `leaver ${gina} --gp-locum`);
      expect(reply).toMatchObject({ ok: false, exitCode: 1, error: { code: 'NO_GP_LOCUM_ORG' } });
      expect(reply.text).toContain('org add --ods ODS --name NAME --kind gp-locum');
    });

    it('contact gp-locum and help leaver explain the route', async () => {
      const contact = await runText(s.lifecycle, operator(), 'contact gp-locum');
      expect(contact.text).toContain('leaver ADDRESS --gp-locum');
      expect(contact.text).toContain('email locumadmin@nhs.net before your grace period ends');
      const help = await runText(s.lifecycle, operator(), 'help leaver');
      expect(help.text).toContain('leaver ADDRESS [--gp-locum]');
      expect(help.text).toContain('locumadmin@nhs.net');
    });
  });
});
