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
    await refusal(s.lifecycle.reactivate(as('mgr@nhs.net'), { address }), 'NOT_INACTIVE');
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
