import { describe, expect, it } from 'vitest';
import {
  DSPT_STATUSES,
  type DsptStatus,
  dsptMeets,
  isSiteKind,
  ORG_KINDS,
  SITE_KINDS,
} from '../../src/domain/organisation.js';
import { DEFAULT_POLICY, mfaRequired, type Policy } from '../../src/domain/policy.js';

describe('DEFAULT_POLICY', () => {
  it('has the defaults of DESIGN.md section 2', () => {
    expect(DEFAULT_POLICY.graceDays).toBe(30);
    expect(DEFAULT_POLICY.inactivityDays).toBe(30);
    expect(DEFAULT_POLICY.warningDays).toEqual([7, 3, 1]);
    expect(DEFAULT_POLICY.retentionDays).toBe(30);
    expect(DEFAULT_POLICY.restoreDays).toBe(30);
    expect(DEFAULT_POLICY.siteAccountLimit).toBe(10);
    expect(DEFAULT_POLICY.mfaExemptSectors).toEqual([]);
  });

  it('requires Approaching Standards of care homes and Standards Met of every other sector, as NHSmail publishes', () => {
    expect(Object.keys(DEFAULT_POLICY.dsptMinimum).sort()).toEqual([...ORG_KINDS].sort());
    expect(DEFAULT_POLICY.dsptMinimum['care-home']).toBe('approaching-standards');
    for (const kind of ORG_KINDS.filter((k) => k !== 'care-home'))
      expect(DEFAULT_POLICY.dsptMinimum[kind], kind).toBe('standards-met');
  });
});

describe('mfaRequired', () => {
  it('requires MFA in every sector by default', () => {
    for (const kind of ORG_KINDS) expect(mfaRequired(DEFAULT_POLICY, kind)).toBe(true);
  });

  it('exempts exactly the sectors the policy names', () => {
    const policy: Policy = { ...DEFAULT_POLICY, mfaExemptSectors: ['care-home', 'dental'] };
    expect(mfaRequired(policy, 'care-home')).toBe(false);
    expect(mfaRequired(policy, 'dental')).toBe(false);
    expect(mfaRequired(policy, 'pharmacy')).toBe(true);
    expect(mfaRequired(policy, 'trust')).toBe(true);
  });
});

describe('dsptMeets', () => {
  /** Best first, as the DSPT publishes them: written out here, not read from the code. */
  const ORDER: DsptStatus[] = [
    'standards-exceeded',
    'standards-met',
    'approaching-standards',
    'standards-not-met',
    'not-published',
  ];

  it('knows the five published statuses', () => {
    expect([...DSPT_STATUSES].sort()).toEqual([...ORDER].sort());
  });

  it('lets Standards Exceeded and Standards Met meet a Standards Met minimum', () => {
    expect(dsptMeets('standards-exceeded', 'standards-met')).toBe(true);
    expect(dsptMeets('standards-met', 'standards-met')).toBe(true);
  });

  it('does not let Approaching Standards, Not Met or Not Published meet Standards Met', () => {
    expect(dsptMeets('approaching-standards', 'standards-met')).toBe(false);
    expect(dsptMeets('standards-not-met', 'standards-met')).toBe(false);
    expect(dsptMeets('not-published', 'standards-met')).toBe(false);
  });

  it('lets Approaching Standards meet an Approaching Standards minimum (social care), and no worse', () => {
    expect(dsptMeets('approaching-standards', 'approaching-standards')).toBe(true);
    expect(dsptMeets('standards-met', 'approaching-standards')).toBe(true);
    expect(dsptMeets('standards-not-met', 'approaching-standards')).toBe(false);
  });

  it('never lets a missing status meet any minimum', () => {
    for (const minimum of ORDER) expect(dsptMeets(null, minimum)).toBe(false);
  });

  it('meets a minimum exactly when the status is as good or better, for every pair', () => {
    for (const [si, status] of ORDER.entries()) {
      for (const [mi, minimum] of ORDER.entries()) {
        expect(dsptMeets(status, minimum), `${status} vs ${minimum}`).toBe(si <= mi);
      }
    }
  });
});

describe('site kinds', () => {
  it('treats pharmacies, dental practices and care homes as community sites, and nothing else', () => {
    expect([...SITE_KINDS].sort()).toEqual(['care-home', 'dental', 'pharmacy']);
    for (const kind of ORG_KINDS) {
      expect(isSiteKind(kind), kind).toBe(['pharmacy', 'dental', 'care-home'].includes(kind));
    }
  });
});
