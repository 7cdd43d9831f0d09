import { describe, expect, it } from 'vitest';
import { adoptionReason, decideAdoption } from '../../src/domain/adoption.js';

const NOW = new Date('2026-11-23T09:00:00Z');
const SIGNED_IN = new Date('2026-11-20T08:00:00Z');
const user = (extra: Partial<Parameters<typeof decideAdoption>[0]> = {}) => ({
  userPrincipalName: 'Jane.Doe@NHS.net',
  givenName: ' Jane ',
  surname: 'Doe',
  accountEnabled: true,
  ...extra,
});

describe('adopting a directory user', () => {
  it('makes an enabled user active, the activity clock at the last sign-in, or now if never', () => {
    expect(decideAdoption(user(), SIGNED_IN, NOW)).toEqual({
      kind: 'account',
      account: {
        address: 'jane.doe@nhs.net',
        given: 'Jane',
        family: 'Doe',
        status: 'active',
        firstLoginAt: SIGNED_IN,
        lastActivityAt: SIGNED_IN,
        inactiveSince: null,
      },
    });
    const never = decideAdoption(user(), null, NOW);
    expect(never.kind === 'account' && never.account).toMatchObject({
      lastActivityAt: NOW,
      firstLoginAt: null,
    });
    if (never.kind === 'account') expect(adoptionReason(never.account)).toMatch(/never signed in/);
  });

  it('makes a disabled user inactive from now, its retention clock starting then', () => {
    const d = decideAdoption(user({ accountEnabled: false }), SIGNED_IN, NOW);
    expect(d.kind === 'account' && d.account).toMatchObject({ status: 'inactive', inactiveSince: NOW });
  });

  it('refuses an address outside @nhs.net, no name, and an unknown enabled state, saying why', () => {
    const reasons = [
      user({ userPrincipalName: 'jane@contoso.org' }),
      user({ userPrincipalName: null }),
      user({ givenName: '  ', surname: null }),
      user({ accountEnabled: null }),
    ].map((u) => {
      const d = decideAdoption(u, null, NOW);
      return d.kind === 'refused' ? d.reason : 'adopted';
    });
    expect(reasons[0]).toMatch(/not an @nhs\.net address/);
    expect(reasons[1]).toMatch(/no userPrincipalName/);
    expect(reasons[2]).toMatch(/no given name or surname/);
    expect(reasons[3]).toMatch(/enabled/);
  });
});
