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
  person,
  refusal,
  useService,
} from '../support/service.js';

const register = (
  l: ReturnType<typeof useService>['lifecycle'],
  ctx = operator(),
  overrides: Partial<Parameters<typeof l.registerSite>[1]> = {},
) =>
  l.registerSite(ctx, {
    ods: 'FA123',
    kind: 'pharmacy',
    name: 'High Street Pharmacy',
    dspt: 'standards-met',
    owner: person('Olu', 'Owner'),
    ...overrides,
  });

describeEachEngine('community sites', (ctx) => {
  // NHSmail's published minimums, as DEFAULT_POLICY holds them: no override here.
  const s = useService(ctx);

  describe('registration', () => {
    it('creates the site, its shared mailbox named after kind and ODS code, and a pending owner with the site-owner role', async () => {
      const r = await register(s.lifecycle);
      expect(r.site).toEqual({
        ods: 'FA123',
        name: 'High Street Pharmacy',
        kind: 'pharmacy',
        dspt: 'standards-met',
        cqcLocation: null,
      });
      expect(r.sharedMailbox).toMatchObject({
        address: 'pharmacy.fa123@nhs.net',
        kind: 'shared',
        status: 'active',
      });
      expect(r.owner).toMatchObject({
        address: 'olu.owner@nhs.net',
        status: 'pending',
        org: 'FA123',
        kind: 'person',
      });
      const shown = await s.lifecycle.showSite(as('olu.owner@nhs.net'), { ods: 'FA123' });
      expect(shown).toMatchObject({
        used: 1,
        limit: 10,
        owners: ['olu.owner@nhs.net'],
        canRequestAccounts: true,
      });
    });

    it('requires the sector’s minimum DSPT status, which is policy per sector', async () => {
      const before = await auditCount(s.db);
      const e = await refusal(
        register(s.lifecycle, operator(), { dspt: 'approaching-standards' }),
        'DSPT_TOO_LOW',
      );
      expect(e.message).toContain('Standards Met');
      expect(await auditCount(s.db)).toBe(before);
      await refusal(
        s.lifecycle.status(operator(), { address: 'pharmacy.fa123@nhs.net' }),
        'ACCOUNT_NOT_FOUND',
      );
      // Social care needs only Approaching Standards, as NHSmail publishes.
      const home = await register(s.lifecycle, operator(), {
        ods: 'VN4J1',
        kind: 'care-home',
        name: 'Rose Care Home',
        dspt: 'approaching-standards',
        cqcLocation: '1-101661355',
      });
      expect(home.sharedMailbox.address).toBe('care-home.vn4j1@nhs.net');
    });

    it('is for NAS administrators only, and refuses an ODS code already registered', async () => {
      await grant(s.lifecycle, 'nas@nhs.net', 'nas-admin');
      await refusal(register(s.lifecycle, as('someone@nhs.net')), 'NAS_ONLY');
      await register(s.lifecycle, as('nas@nhs.net'));
      await refusal(register(s.lifecycle, as('nas@nhs.net')), 'ORG_EXISTS');
    });
  });

  describe('sector rules, with NHSmail’s published DSPT minimums', () => {
    const careHome = {
      ods: 'VN4J1',
      kind: 'care-home',
      name: 'Rose Care Home',
      dspt: 'approaching-standards',
      cqcLocation: '1-101661355',
      owner: person('Rita', 'Rowe'),
    } as const;
    const siteAuditReasons = (ods: string) =>
      queryRows<{ reason: string }>(
        s.db.db,
        sql`select reason from audit_log where action = 'site-register' and org = ${ods}`,
      );

    it('registers a care home at Approaching Standards with its CQC location ID, and its owner may request accounts', async () => {
      const r = await s.lifecycle.registerSite(operator(), careHome);
      expect(r.site).toMatchObject({ dspt: 'approaching-standards', cqcLocation: '1-101661355' });
      expect(await siteAuditReasons('VN4J1')).toEqual([
        { reason: 'care-home "Rose Care Home", DSPT approaching-standards, CQC location 1-101661355' },
      ]);
      const shown = await s.lifecycle.showSite(as('rita.rowe@nhs.net'), { ods: 'VN4J1' });
      expect(shown).toMatchObject({
        site: { cqcLocation: '1-101661355' },
        dsptMinimum: 'approaching-standards',
        canRequestAccounts: true,
      });
      const made = await s.lifecycle.requestSiteAccount(as('rita.rowe@nhs.net'), {
        ...person('Cara', 'Carer'),
        site: 'VN4J1',
      });
      expect(made.account).toMatchObject({ org: 'VN4J1', status: 'pending' });
    });

    it('refuses a care home below Approaching Standards, naming the rule and what to do, and changes nothing', async () => {
      const before = await auditCount(s.db);
      for (const dspt of ['standards-not-met', 'not-published'] as const) {
        const e = await refusal(s.lifecycle.registerSite(operator(), { ...careHome, dspt }), 'DSPT_TOO_LOW');
        expect(e.message).toMatch(
          /care-home sites need Approaching Standards or better\. Register once the site's DSPT assessment is published at that level/,
        );
        expect(e.details).toEqual({ dspt, minimum: 'approaching-standards' });
      }
      expect(await auditCount(s.db)).toBe(before);
      await refusal(s.lifecycle.showSite(operator(), { ods: 'VN4J1' }), 'ORG_NOT_FOUND');
    });

    it('stops a care home’s account requests once its DSPT falls below Approaching Standards', async () => {
      await s.lifecycle.registerSite(operator(), careHome);
      await s.lifecycle.updateDspt(operator(), { ods: 'VN4J1', dspt: 'standards-not-met' });
      const e = await refusal(
        s.lifecycle.requestSiteAccount(as('rita.rowe@nhs.net'), {
          ...person('Cara', 'Carer'),
          site: 'VN4J1',
        }),
        'SITE_DSPT_LAPSED',
      );
      expect(e.details).toEqual({
        ods: 'VN4J1',
        dspt: 'standards-not-met',
        minimum: 'approaching-standards',
      });
    });

    it('still refuses a pharmacy or a dental practice at Approaching Standards: they need Standards Met', async () => {
      for (const [kind, ods] of [
        ['pharmacy', 'FA123'],
        ['dental', 'V00123'],
      ] as const) {
        const e = await refusal(
          register(s.lifecycle, operator(), { kind, ods, dspt: 'approaching-standards' }),
          'DSPT_TOO_LOW',
        );
        expect(e.message).toContain(`${kind} sites need Standards Met or better`);
        expect(e.details).toEqual({ dspt: 'approaching-standards', minimum: 'standards-met' });
      }
    });

    it('requires a care home’s CQC location ID in CQC’s format, and refuses one for any other site, changing nothing', async () => {
      const before = await auditCount(s.db);
      const { cqcLocation: _, ...withoutCqc } = careHome;
      const missing = await refusal(
        s.lifecycle.registerSite(operator(), withoutCqc),
        'CQC_LOCATION_REQUIRED',
      );
      expect(missing.message).toMatch(/--cqc-location, "1-" then digits/);
      expect(missing.kind).toBe('invalid');
      await refusal(
        s.lifecycle.registerSite(operator(), { ...careHome, cqcLocation: null }),
        'CQC_LOCATION_REQUIRED',
      );
      const bad = await refusal(
        s.lifecycle.registerSite(operator(), { ...careHome, cqcLocation: '101661355' }),
        'INVALID_CQC_LOCATION',
      );
      expect(bad.message).toContain('"1-" then digits');
      const notTheirs = await refusal(
        register(s.lifecycle, operator(), { cqcLocation: '1-101661355' }),
        'INVALID_CQC_LOCATION',
      );
      expect(notTheirs.message).toContain('Only care homes have a CQC location ID');
      expect(await auditCount(s.db)).toBe(before);
      await refusal(s.lifecycle.showSite(operator(), { ods: 'VN4J1' }), 'ORG_NOT_FOUND');
      await refusal(s.lifecycle.showSite(operator(), { ods: 'FA123' }), 'ORG_NOT_FOUND');
    });
  });

  describe('account requests', () => {
    it('holds the cap of 10 individual accounts, owner and leavers included', async () => {
      await register(s.lifecycle);
      const owner = as('olu.owner@nhs.net');
      const names = ['Ava', 'Ben', 'Cal', 'Dee', 'Eli', 'Fay', 'Gus', 'Hal', 'Ivy'];
      const made: string[] = [];
      for (const given of names) {
        const r = await s.lifecycle.requestSiteAccount(owner, { ...person(given, 'Staff'), site: 'FA123' });
        made.push(r.account.address);
      }
      const e = await refusal(
        s.lifecycle.requestSiteAccount(owner, { ...person('Jo', 'Eleventh'), site: 'FA123' }),
        'SITE_ACCOUNT_LIMIT',
      );
      expect(e.message).toContain('10 of its 10');
      // A leaver still counts until the grace period ends.
      const first = made[0] ?? '';
      await s.lifecycle.firstLogin(operator(), { address: first, mfa: true });
      await s.lifecycle.leaver(owner, { address: first });
      await refusal(
        s.lifecycle.requestSiteAccount(owner, { ...person('Jo', 'Eleventh'), site: 'FA123' }),
        'SITE_ACCOUNT_LIMIT',
      );
      await s.lifecycle.sweep(operator(day(31)), { dryRun: false });
      const freed = await s.lifecycle.requestSiteAccount(as('olu.owner@nhs.net', day(31)), {
        ...person('Jo', 'Eleventh'),
        site: 'FA123',
      });
      expect(freed.account.status).toBe('pending');
    });

    it('refuses new accounts once the site’s DSPT status lapses', async () => {
      await register(s.lifecycle);
      const updated = await s.lifecycle.updateDspt(operator(), { ods: 'FA123', dspt: 'standards-not-met' });
      expect(updated.canRequestAccounts).toBe(false);
      const e = await refusal(
        s.lifecycle.requestSiteAccount(as('olu.owner@nhs.net'), { ...person('New', 'Hire'), site: 'FA123' }),
        'SITE_DSPT_LAPSED',
      );
      expect(e.message).toContain('Standards Not Met');
    });

    it('lets only the site’s owner or NAS request accounts, and only for a site', async () => {
      await register(s.lifecycle);
      await addOrg(s.lifecycle, 'RXX');
      await refusal(
        s.lifecycle.requestSiteAccount(as('stranger@nhs.net'), { ...person('A', 'B'), site: 'FA123' }),
        'NOT_SITE_OWNER',
      );
      await refusal(
        s.lifecycle.requestSiteAccount(operator(), { ...person('A', 'B'), site: 'RXX' }),
        'NOT_A_SITE',
      );
    });

    it('applies the cap to joiners into a site too', async () => {
      await register(s.lifecycle, operator(), { kind: 'dental', ods: 'V00123', name: 'Smile Dental' });
      await addOrg(s.lifecycle, 'RXX');
      for (let i = 0; i < 9; i++) {
        await s.lifecycle.requestSiteAccount(operator(), {
          ...person(`Dent${'abcdefghi'[i]}`, 'Ist'),
          site: 'V00123',
        });
      }
      const address = await activeAccount(s.lifecycle, 'RXX', person('Moving', 'Dentist'));
      await s.lifecycle.leaver(operator(), { address });
      await refusal(s.lifecycle.joiner(operator(), { address, org: 'V00123' }), 'SITE_ACCOUNT_LIMIT');
    });
  });
});
