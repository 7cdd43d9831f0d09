import { describe, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
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
