import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import { gpLocumHome } from '../../src/domain/gp-locum.js';
import type { Organisation } from '../../src/domain/organisation.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { addDays } from '../../src/domain/time.js';
import { type AccountFacts, decideLeaver } from '../../src/domain/transitions.js';

const now = new Date('2026-06-15T09:00:00Z');
const policy = DEFAULT_POLICY;
const home: Organisation = { ods: 'RXX', name: 'Home Trust', kind: 'trust', dspt: 'standards-met' };
const locums: Organisation = { ods: 'Y0LOC', name: 'GP Locums', kind: 'gp-locum', dspt: 'standards-met' };
const route = { org: locums, markedBy: 'la.x@nhs.net' };

const account = (extra: Partial<AccountFacts> = {}): AccountFacts => ({
  address: 'gina.doctor@nhs.net',
  homeOrg: 'RXX',
  kind: 'person',
  status: 'active',
  firstLoginAt: addDays(now, -40),
  leavesAt: null,
  statusChangedAt: addDays(now, -5),
  graceExpiresAt: null,
  lastActivityAt: addDays(now, -5),
  inactiveSince: null,
  deletedAt: null,
  purgedAt: null,
  createdAt: addDays(now, -400),
  disabledAt: null,
  disabledReason: null,
  disabledUntil: null,
  ...extra,
});

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
  return undefined;
};

describe('the GP-locum route, decided', () => {
  it('needs exactly one GP-locum organisation', () => {
    expect(gpLocumHome([locums], 'x@nhs.net')).toBe(locums);
    expect(codeOf(() => gpLocumHome([], 'x@nhs.net'))).toBe('NO_GP_LOCUM_ORG');
    expect(codeOf(() => gpLocumHome([locums, { ...locums, ods: 'Y0LC2' }], 'x@nhs.net'))).toBe(
      'NO_GP_LOCUM_ORG',
    );
  });

  it('a leaver for the route: the same transition, the holder told whom to email, the team sent a claim', () => {
    const plain = decideLeaver(account(), { now, policy, home });
    const d = decideLeaver(account(), { now, policy, home, gpLocum: route });
    expect({ ...d, audit: undefined, notifications: undefined }).toEqual({
      ...plain,
      audit: undefined,
      notifications: undefined,
    });
    const ends = addDays(now, policy.graceDays).toISOString();
    expect(d.notifications).toEqual([
      {
        kind: 'leaver',
        audience: { type: 'holder', address: 'gina.doctor@nhs.net' },
        payload: {
          address: 'gina.doctor@nhs.net',
          org: 'RXX',
          graceExpiresAt: ends,
          gpLocum: { org: 'Y0LOC', mailbox: 'locumadmin@nhs.net' },
        },
      },
      {
        kind: 'gp-locum-claim',
        audience: { type: 'mailbox', address: 'locumadmin@nhs.net', ods: 'Y0LOC' },
        payload: {
          address: 'gina.doctor@nhs.net',
          from: 'RXX',
          to: 'Y0LOC',
          markedBy: 'la.x@nhs.net',
          daysLeft: policy.graceDays,
          graceExpiresAt: ends,
        },
      },
    ]);
    expect(d.audit.reason).toContain('for the GP-locum route');
    expect(plain.notifications.map((n) => n.kind)).toEqual(['leaver']);
  });

  it('refuses an account already homed in the GP-locum organisation, and a shared mailbox', () => {
    expect(
      codeOf(() =>
        decideLeaver(account({ homeOrg: 'Y0LOC' }), { now, policy, home: locums, gpLocum: route }),
      ),
    ).toBe('ALREADY_GP_LOCUM');
    expect(
      codeOf(() => decideLeaver(account({ kind: 'shared' }), { now, policy, home, gpLocum: route })),
    ).toBe('SHARED_MAILBOX');
  });
});
