import { expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import {
  activeAccount,
  addOrg,
  as,
  grant,
  operator,
  person,
  refusal,
  useService,
} from '../support/service.js';

describeEachEngine('roles and organisations', (ctx) => {
  const s = useService(ctx);

  it('lets a local administrator make managers of their own organisation, and nothing more', async () => {
    await addOrg(s.lifecycle, 'RXX');
    await addOrg(s.lifecycle, 'RYY');
    await grant(s.lifecycle, 'la@nhs.net', 'local-admin', 'RXX');
    const made = await s.lifecycle.grantRole(as('la@nhs.net'), {
      address: 'mgr@nhs.net',
      role: 'manager',
      org: 'RXX',
    });
    expect(made).toEqual({ address: 'mgr@nhs.net', role: 'manager', org: 'RXX', changed: true });
    const again = await s.lifecycle.grantRole(as('la@nhs.net'), {
      address: 'mgr@nhs.net',
      role: 'manager',
      org: 'RXX',
    });
    expect(again.changed).toBe(false);
    await refusal(
      s.lifecycle.grantRole(as('la@nhs.net'), { address: 'x@nhs.net', role: 'manager', org: 'RYY' }),
      'GRANT_NOT_ALLOWED',
    );
    await refusal(
      s.lifecycle.grantRole(as('la@nhs.net'), { address: 'x@nhs.net', role: 'local-admin', org: 'RXX' }),
      'GRANT_NOT_ALLOWED',
    );
    await refusal(
      s.lifecycle.grantRole(as('la@nhs.net'), { address: 'x@nhs.net', role: 'nas-admin' }),
      'GRANT_NOT_ALLOWED',
    );
    const revoked = await s.lifecycle.revokeRole(as('la@nhs.net'), {
      address: 'mgr@nhs.net',
      role: 'manager',
      org: 'RXX',
    });
    expect(revoked.changed).toBe(true);
    const trail = (await s.db.db.query.auditLog.findMany()).map((r) => r.action);
    expect(trail.filter((a) => a === 'grant' || a === 'revoke')).toEqual(['grant', 'grant', 'revoke']);
  });

  it('checks the shape of a grant: nas-admin is national, others need an organisation, site-owner a site', async () => {
    await addOrg(s.lifecycle, 'RXX');
    await refusal(
      s.lifecycle.grantRole(operator(), { address: 'n@nhs.net', role: 'nas-admin', org: 'RXX' }),
      'ORG_NOT_EXPECTED',
    );
    await refusal(
      s.lifecycle.grantRole(operator(), { address: 'n@nhs.net', role: 'manager' }),
      'ORG_REQUIRED',
    );
    await refusal(
      s.lifecycle.grantRole(operator(), { address: 'n@nhs.net', role: 'site-owner', org: 'RXX' }),
      'NOT_A_SITE',
    );
    await refusal(
      s.lifecycle.grantRole(operator(), { address: 'n@nhs.net', role: 'manager', org: 'RZZ' }),
      'ORG_NOT_FOUND',
    );
  });

  it('lets a manager see their organisation’s accounts but change nothing', async () => {
    await addOrg(s.lifecycle, 'RXX');
    await grant(s.lifecycle, 'mgr@nhs.net', 'manager', 'RXX');
    const address = await activeAccount(s.lifecycle, 'RXX', person('Seen', 'NotTouched'));
    expect((await s.lifecycle.status(as('mgr@nhs.net'), { address })).account.status).toBe('active');
    expect(await s.lifecycle.auditTrail(as('mgr@nhs.net'), { address })).toHaveLength(2);
    await refusal(s.lifecycle.leaver(as('mgr@nhs.net'), { address }), 'NOT_YOUR_ORGANISATION');
    await refusal(s.lifecycle.reactivate(as('mgr@nhs.net'), { address }), 'NOT_YOUR_ORGANISATION');
    await refusal(s.lifecycle.recordActivity(as('mgr@nhs.net'), { address }), 'NOT_YOUR_ORGANISATION');
  });

  it('keeps organisations for the operator, and DSPT updates for NAS and the operator', async () => {
    await grant(s.lifecycle, 'nas@nhs.net', 'nas-admin');
    await refusal(
      s.lifecycle.addOrganisation(as('nas@nhs.net'), { ods: 'RXX', name: 'X', kind: 'trust' }),
      'OPERATOR_ONLY',
    );
    await addOrg(s.lifecycle, 'RXX');
    await refusal(
      s.lifecycle.addOrganisation(operator(), { ods: 'RXX', name: 'X', kind: 'trust' }),
      'ORG_EXISTS',
    );
    await refusal(
      s.lifecycle.updateDspt(as('someone@nhs.net'), { ods: 'RXX', dspt: 'standards-met' }),
      'NAS_ONLY',
    );
    const updated = await s.lifecycle.updateDspt(as('nas@nhs.net'), {
      ods: 'RXX',
      dspt: 'standards-exceeded',
    });
    expect(updated).toMatchObject({ dspt: 'standards-exceeded', previous: null, canRequestAccounts: null });
  });
});

describeEachEngine('refusals tell only what the asker may see', (ctx) => {
  const s = useService(ctx);

  it('never names the home, name or status of an account of an organisation the asker cannot see', async () => {
    await addOrg(s.lifecycle, 'RXX');
    await addOrg(s.lifecycle, 'RYY');
    await grant(s.lifecycle, 'la.x@nhs.net', 'local-admin', 'RXX');
    const active = await activeAccount(s.lifecycle, 'RYY', person('Act', 'Ive'));
    const inactive = await activeAccount(s.lifecycle, 'RYY', person('Ina', 'Ctive'));
    // 53 days on: both active accounts lapsed; one is brought back, so there is one of each status
    // (the pending one made after the sweep, as a pending account lapses after 30 days too).
    const later = new Date('2027-01-15T10:00:00Z');
    await s.lifecycle.sweep(operator(new Date('2027-01-15T09:00:00Z')), { dryRun: false });
    const made = await s.lifecycle.provision(operator(later), { ...person('Pen', 'Ding'), org: 'RYY' });
    const pending = made.account.address;
    await s.lifecycle.reactivate(operator(later), { address: active });
    expect((await s.lifecycle.status(operator(later), { address: inactive })).account.status).toBe(
      'inactive',
    );
    expect((await s.lifecycle.status(operator(later), { address: pending })).account.status).toBe('pending');
    const la = (now?: Date) => as('la.x@nhs.net', now);

    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['status', () => s.lifecycle.status(la(), { address: active })],
      ['audit', () => s.lifecycle.auditTrail(la(), { address: active })],
      ['leaver', () => s.lifecycle.leaver(la(), { address: active })],
      ['first-login', () => s.lifecycle.firstLogin(la(), { address: pending, mfa: true })],
      ['activity', () => s.lifecycle.recordActivity(la(later), { address: active })],
      ['reactivate (inactive)', () => s.lifecycle.reactivate(la(later), { address: inactive })],
      ['reactivate (pending)', () => s.lifecycle.reactivate(la(later), { address: pending })],
      ['remind', () => s.lifecycle.remind(la(), { address: active })],
      ['transfer', () => s.lifecycle.requestTransfer(la(), { address: active, to: 'RXX' })],
      ['joiner (not a leaver)', () => s.lifecycle.joiner(la(), { address: active, org: 'RXX' })],
      ['joiner (inactive)', () => s.lifecycle.joiner(la(later), { address: inactive, org: 'RXX' })],
    ];
    for (const [what, attempt] of attempts) {
      const e = await attempt().then(
        () => {
          throw new Error(`${what} was allowed`);
        },
        (err: unknown) => err as Error & { code: string; details?: unknown },
      );
      const told = `${e.message} ${JSON.stringify(e.details ?? {})}`;
      for (const secret of [
        'RYY',
        'RYY organisation',
        ' is active',
        ' is inactive',
        ' is pending',
        'became active',
      ]) {
        expect(told, `${what}: ${told}`).not.toContain(secret);
      }
    }
  });
});
