import { describe, expect, it } from 'vitest';
import { parseRegistration } from '../../src/domain/validation.js';
import { describeEachEngine } from '../support/engines.js';
import {
  activeAccount,
  addOrg,
  as,
  auditCount,
  day,
  everyTableAsText,
  grant,
  mobile,
  operator,
  person,
  refusal,
  useService,
} from '../support/service.js';

describeEachEngine('provisioning', (ctx) => {
  const s = useService(ctx);

  describe('addresses', () => {
    it('makes given.family@nhs.net in lower-case ASCII and appends a number on collision', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const first = await s.lifecycle.provision(operator(), { ...person('José', 'Núñez'), org: 'RXX' });
      const second = await s.lifecycle.provision(operator(), {
        ...person('Jose', 'Nunez', { dob: '1990-01-01' }),
        org: 'RXX',
      });
      const third = await s.lifecycle.provision(operator(), {
        ...person('Jose', 'Nunez', { dob: '1970-06-15' }),
        org: 'RXX',
      });
      expect([first.account.address, second.account.address, third.account.address]).toEqual([
        'jose.nunez@nhs.net',
        'jose.nunez1@nhs.net',
        'jose.nunez2@nhs.net',
      ]);
    });

    it('never reissues an address that ever existed, even once purged, nor one that holds a role', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await grant(s.lifecycle, 'sam.lee@nhs.net', 'manager', 'RXX');
      const made = await s.lifecycle.provision(operator(), { ...person('Sam', 'Lee'), org: 'RXX' });
      expect(made.account.address).toBe('sam.lee1@nhs.net');

      const ann = await activeAccount(s.lifecycle, 'RXX', person('Ann', 'Hill'));
      // Idle 30 days → inactive; 30 more → deleted; 30 more → purged (personal details erased).
      await s.lifecycle.sweep(operator(day(31)), { dryRun: false });
      await s.lifecycle.sweep(operator(day(62)), { dryRun: false });
      await s.lifecycle.sweep(operator(day(93)), { dryRun: false });
      const purged = await s.lifecycle.status(operator(day(93)), { address: ann });
      expect(purged.account).toMatchObject({ status: 'deleted', purged: true, name: null });
      const again = await s.lifecycle.provision(operator(day(94)), { ...person('Ann', 'Hill'), org: 'RXX' });
      expect(again.account.address).toBe('ann.hill1@nhs.net');
    });
  });

  describe('no duplicates', () => {
    it('stops a second account for the same registration number and points to the joiner route', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await addOrg(s.lifecycle, 'RYY');
      const reg = parseRegistration('GMC:1234567');
      await s.lifecycle.provision(operator(), { ...person('Priya', 'Shah', { reg }), org: 'RXX' });
      const before = await auditCount(s.db);
      const e = await refusal(
        s.lifecycle.provision(operator(), { ...person('P', 'Shah-Patel', { reg }), org: 'RYY' }),
        'DUPLICATE_PERSON',
      );
      expect(e.message).toContain('priya.shah@nhs.net');
      expect(e.message).toContain('joiner');
      expect(e.details.matches).toEqual([{ address: 'priya.shah@nhs.net', reasons: ['registration'] }]);
      expect(await auditCount(s.db)).toBe(before);
    });

    it('matches a date of birth with a similar name, and a mobile number, across leavers, inactive and deleted accounts', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const jon = await activeAccount(
        s.lifecycle,
        'RXX',
        person('Jonathan', 'Smith', { dob: '1980-03-04', mobile: mobile('07700 900123') }),
      );
      await s.lifecycle.leaver(operator(), { address: jon });
      await refusal(
        s.lifecycle.provision(operator(day(1)), {
          ...person('Jon', 'Smyth', { dob: '1980-03-04' }),
          org: 'RXX',
        }),
        'DUPLICATE_PERSON',
      );
      // Grace ends → inactive; retention ends → deleted: still found.
      await s.lifecycle.sweep(operator(day(31)), { dryRun: false });
      await s.lifecycle.sweep(operator(day(62)), { dryRun: false });
      expect((await s.lifecycle.status(operator(day(62)), { address: jon })).account.status).toBe('deleted');
      const e = await refusal(
        s.lifecycle.provision(operator(day(62)), {
          ...person('Someone', 'Else', { mobile: mobile('+44 7700 900123') }),
          org: 'RXX',
        }),
        'DUPLICATE_PERSON',
      );
      expect(e.details.matches).toEqual([{ address: jon, reasons: ['mobile'] }]);
    });

    it('does not match a different person born the same day', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await s.lifecycle.provision(operator(), {
        ...person('Amy', 'Jones', { dob: '1980-03-04' }),
        org: 'RXX',
      });
      const other = await s.lifecycle.provision(operator(), {
        ...person('Brian', 'Okafor', { dob: '1980-03-04' }),
        org: 'RXX',
      });
      expect(other.account.status).toBe('pending');
    });

    it('lets only a NAS administrator override a match, with the reason audited', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await grant(s.lifecycle, 'la@nhs.net', 'local-admin', 'RXX');
      await grant(s.lifecycle, 'nas@nhs.net', 'nas-admin');
      const reg = parseRegistration('NMC:12A3456E');
      await s.lifecycle.provision(operator(), { ...person('Kate', 'Brown', { reg }), org: 'RXX' });
      const reason = 'Different nurses confirmed by NMC register lookup';
      await refusal(
        s.lifecycle.provision(as('la@nhs.net'), {
          ...person('Kate', 'Browne', { reg, overrideDuplicate: reason }),
          org: 'RXX',
        }),
        'OVERRIDE_NOT_ALLOWED',
      );
      const made = await s.lifecycle.provision(as('nas@nhs.net'), {
        ...person('Kate', 'Browne', { reg, overrideDuplicate: reason }),
        org: 'RXX',
      });
      expect(made.duplicateOverride).toEqual({ reason, matches: ['kate.brown@nhs.net'] });
      const trail = await s.lifecycle.auditTrail(operator(), { address: made.account.address });
      expect(trail).toHaveLength(1);
      expect(trail[0]).toMatchObject({
        actor: 'nas@nhs.net',
        action: 'provision',
        from: null,
        to: 'pending',
      });
      expect(trail[0]?.reason).toContain(reason);
    });
  });

  describe('temporary credentials', () => {
    it('delivers the password through the port and stores only the route and a masked mobile', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const made = await s.lifecycle.provision(operator(), {
        ...person('Lee', 'Chan', { mobile: mobile('07700 900456'), delivery: undefined }),
        org: 'RXX',
      });
      expect(made.delivery).toEqual({ route: 'sms', recipient: '07*** ***456', state: 'sent' });
      expect(made.account.mobile).toBe('07*** ***456');
      const sent = s.delivery.sent[0];
      expect(sent?.route).toBe('sms');
      expect(sent?.temporaryPassword).toMatch(/^.{16}$/);
      const stored = await everyTableAsText(s.db);
      expect(stored).not.toContain(sent?.temporaryPassword);
      expect(stored).not.toContain('7700900456');
      expect(stored).not.toContain('07700 900456');
      expect(stored).toContain('07*** ***456');
    });

    it('needs a mobile number for SMS delivery, and creates nothing without one', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await refusal(
        s.lifecycle.provision(operator(), { ...person('No', 'Phone', { delivery: 'sms' }), org: 'RXX' }),
        'MOBILE_REQUIRED',
      );
      expect(s.delivery.sent).toHaveLength(0);
      expect(await auditCount(s.db)).toBe(1); // only the org add
    });

    it('creates no account when delivery fails', async () => {
      await addOrg(s.lifecycle, 'RXX');
      const failing = {
        deliver: async () => {
          throw new Error('SMS gateway down');
        },
      };
      const { createLifecycle } = await import('../../src/service/lifecycle.js');
      const broken = await createLifecycle({ db: s.db.db, policy: s.lifecycle.policy, delivery: failing });
      await expect(broken.provision(operator(), { ...person('Max', 'Power'), org: 'RXX' })).rejects.toThrow(
        'SMS gateway down',
      );
      await refusal(s.lifecycle.status(operator(), { address: 'max.power@nhs.net' }), 'ACCOUNT_NOT_FOUND');
    });
  });

  describe('who may provision', () => {
    it('lets a local administrator provision into their own organisation only', async () => {
      await addOrg(s.lifecycle, 'RXX');
      await addOrg(s.lifecycle, 'RYY');
      await grant(s.lifecycle, 'la@nhs.net', 'local-admin', 'RXX');
      const ok = await s.lifecycle.provision(as('la@nhs.net'), { ...person('Ok', 'Person'), org: 'RXX' });
      expect(ok.account.status).toBe('pending');
      const e = await refusal(
        s.lifecycle.provision(as('la@nhs.net'), { ...person('Not', 'Mine'), org: 'RYY' }),
        'NOT_YOUR_ORGANISATION',
      );
      expect(e.message).toContain('RYY');
      await refusal(
        s.lifecycle.provision(as('nobody@nhs.net'), { ...person('A', 'B'), org: 'RXX' }),
        'NOT_YOUR_ORGANISATION',
      );
    });

    it('refuses an organisation the bot does not know', async () => {
      await refusal(s.lifecycle.provision(operator(), { ...person('A', 'B'), org: 'RZZ' }), 'ORG_NOT_FOUND');
    });
  });
});
