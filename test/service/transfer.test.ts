import { describe, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import {
  activeAccount,
  addOrg,
  as,
  day,
  grant,
  operator,
  outboxRows,
  person,
  refusal,
  useService,
} from '../support/service.js';

describeEachEngine('transfer requests', (ctx) => {
  const s = useService(ctx);

  const setUp = async () => {
    await addOrg(s.lifecycle, 'RXX');
    await addOrg(s.lifecycle, 'RYY');
    await grant(s.lifecycle, 'la.x@nhs.net', 'local-admin', 'RXX');
    await grant(s.lifecycle, 'la.y@nhs.net', 'local-admin', 'RYY');
    return activeAccount(s.lifecycle, 'RXX', person('Lou', 'Cum'));
  };

  it('asks the home organisation to mark the leaver and the target to accept, with the clock', async () => {
    const locum = await setUp();
    const r = await s.lifecycle.requestTransfer(as(locum), { to: 'RYY' });
    expect(r).toMatchObject({ from: 'RXX', to: 'RYY', graceDays: 30 });
    const rows = await outboxRows(s.db);
    expect(rows.map((row) => [row.kind, row.audience])).toEqual([
      ['transfer-leaver', { type: 'org', ods: 'RXX' }],
      ['transfer-joiner', { type: 'org', ods: 'RYY' }],
    ]);
    const status = await s.lifecycle.status(as(locum), {});
    expect(status.transfer).toMatchObject({ to: 'RYY', leaverDone: false, accepted: false });
  });

  it('completes when the leaver comes first and the target accepts', async () => {
    const locum = await setUp();
    await s.lifecycle.requestTransfer(as(locum), { to: 'RYY' });
    await s.lifecycle.leaver(as('la.x@nhs.net', day(1)), { address: locum });
    const joined = await s.lifecycle.joiner(as('la.y@nhs.net', day(2)), { address: locum, org: 'RYY' });
    expect(joined).toMatchObject({ outcome: 'joined', account: { status: 'active', org: 'RYY' } });
    expect((await s.lifecycle.status(as(locum), {})).transfer).toBeNull();
  });

  it('completes when the target accepts first and the leaver follows', async () => {
    const locum = await setUp();
    await s.lifecycle.requestTransfer(as(locum), { to: 'RYY' });
    const accepted = await s.lifecycle.joiner(as('la.y@nhs.net', day(1)), { address: locum, org: 'RYY' });
    expect(accepted).toMatchObject({
      outcome: 'accepted',
      waitingFor: 'RXX',
      account: { status: 'active', org: 'RXX' },
    });
    const left = await s.lifecycle.leaver(as('la.x@nhs.net', day(2)), { address: locum });
    expect(left).toMatchObject({
      outcome: 'leaver',
      transferCompleted: { to: 'RYY' },
      account: { status: 'active', org: 'RYY' },
    });
    const actions = (await s.lifecycle.auditTrail(operator(), { address: locum })).map((row) => row.action);
    expect(actions).toEqual([
      'provision',
      'first-login',
      'transfer-request',
      'transfer-accepted',
      'leaver',
      'joiner',
    ]);
  });

  it('is asked by the holder or the home organisation’s administrators only', async () => {
    const locum = await setUp();
    await refusal(
      s.lifecycle.requestTransfer(as('la.y@nhs.net'), { address: locum, to: 'RYY' }),
      'NOT_YOUR_ORGANISATION',
    );
    const byAdmin = await s.lifecycle.requestTransfer(as('la.x@nhs.net'), { address: locum, to: 'RYY' });
    expect(byAdmin.to).toBe('RYY');
    await refusal(s.lifecycle.requestTransfer(as(locum), { to: 'RXX' }), 'SAME_ORGANISATION');
    const again = await s.lifecycle.requestTransfer(as(locum), { to: 'RYY' });
    expect(again.superseded).toBe('RYY');
  });

  it('lapses with the account: an accepted transfer does not complete after the account went inactive', async () => {
    const locum = await setUp();
    await s.lifecycle.requestTransfer(as(locum), { to: 'RYY' });
    await s.lifecycle.joiner(as('la.y@nhs.net', day(1)), { address: locum, org: 'RYY' });
    await s.lifecycle.sweep(operator(day(31)), { dryRun: false });
    await s.lifecycle.reactivate(as('la.x@nhs.net', day(32)), { address: locum });
    const left = await s.lifecycle.leaver(as('la.x@nhs.net', day(33)), { address: locum });
    expect(left).toMatchObject({
      outcome: 'leaver',
      transferCompleted: null,
      account: { status: 'leaver', org: 'RXX' },
    });
  });

  describe('refusals', () => {
    it('needs no request for a leaver, and refuses an unknown target', async () => {
      const locum = await setUp();
      await refusal(s.lifecycle.requestTransfer(as(locum), { to: 'RZZ' }), 'ORG_NOT_FOUND');
      await s.lifecycle.leaver(operator(), { address: locum });
      const e = await refusal(s.lifecycle.requestTransfer(as(locum), { to: 'RYY' }), 'ALREADY_LEAVER');
      expect(e.message).toContain(`joiner ${locum} --org RYY`);
    });
  });
});
