import { describe, expect, it } from 'vitest';
import { CONTACT_CATEGORIES, categoryForOrgKind, contactFor } from '../../src/domain/contact.js';
import { ORG_KINDS } from '../../src/domain/organisation.js';
import { addDays, daysLeft, isoDate } from '../../src/domain/time.js';

describe('contactFor (DESIGN.md "Account holders and their routes")', () => {
  it('sends trust and ICB staff to their helpdesk or Local Administrator', () => {
    expect(contactFor('trust').who).toMatch(/IT helpdesk or Local Administrator/);
    expect(contactFor('icb').who).toMatch(/IT helpdesk or Local Administrator/);
    expect(contactFor('trust').route).toMatch(/onboarding.*HR/);
  });

  it('sends locums and agency staff to the IT of the organisation they join, then NAS', () => {
    for (const category of ['locum', 'agency'] as const) {
      expect(contactFor(category).who).toMatch(/organisation you are joining.*NAS/);
      expect(contactFor(category).route).toMatch(/one account for life/);
    }
  });

  it('sends freelance GP locums to the NAS GP-locum team at locumadmin@nhs.net', () => {
    expect(contactFor('gp-locum')).toEqual({
      category: 'gp-locum',
      who: expect.stringContaining('locumadmin@nhs.net'),
      route: expect.stringMatching(/centrally by NAS/),
    });
  });

  it('sends pharmacy and dental staff to the NAS admin team, site first', () => {
    for (const category of ['pharmacy', 'dental'] as const) {
      expect(contactFor(category).who).toMatch(/NAS admin team/);
      expect(contactFor(category).route).toMatch(/registers as a site first/);
    }
  });

  it("sends care-home staff to the home's registered manager and NAS", () => {
    expect(contactFor('care-home').who).toMatch(/registered manager.*NAS/);
  });

  it('answers for every category', () => {
    for (const category of CONTACT_CATEGORIES) {
      const answer = contactFor(category);
      expect(answer.category).toBe(category);
      expect(answer.who.length).toBeGreaterThan(0);
      expect(answer.route.length).toBeGreaterThan(0);
    }
  });
});

describe('categoryForOrgKind', () => {
  it.each([
    ['trust', 'trust'],
    ['gp-practice', 'trust'],
    ['icb', 'icb'],
    ['gp-locum', 'gp-locum'],
    ['pharmacy', 'pharmacy'],
    ['dental', 'dental'],
    ['care-home', 'care-home'],
  ] as const)('an account homed in a %s is answered as %s', (kind, category) => {
    expect(categoryForOrgKind(kind)).toBe(category);
  });

  it('covers every organisation kind', () => {
    for (const kind of ORG_KINDS) expect(CONTACT_CATEGORIES).toContain(categoryForOrgKind(kind));
  });
});

describe('time', () => {
  const now = new Date('2026-11-23T12:00:00Z');

  it('adds whole days', () => {
    expect(addDays(now, 30).toISOString()).toBe('2026-12-23T12:00:00.000Z');
    expect(addDays(now, -1).toISOString()).toBe('2026-11-22T12:00:00.000Z');
  });

  it('rounds days left up, and reaches 0 when due', () => {
    expect(daysLeft(now, addDays(now, 7))).toBe(7);
    expect(daysLeft(now, new Date('2026-11-23T16:48:00Z'))).toBe(1);
    expect(daysLeft(now, now)).toBe(0);
    expect(daysLeft(now, addDays(now, -2))).toBe(-2);
  });

  it('formats the UTC calendar date', () => {
    expect(isoDate(new Date('2026-11-23T23:59:59Z'))).toBe('2026-11-23');
  });
});
