import { describe, expect, it } from 'vitest';
import { runText } from '../../src/commands/execute.js';
import { describeEachEngine } from '../support/engines.js';
import { as, auditCount, operator, useService } from '../support/service.js';

const OWNER = '--owner-given Rita --owner-family Rowe';
const careHome = (extra: string) =>
  `site register --ods VN4J1 --kind care-home --name "Rose Care Home" --dspt approaching-standards ${extra} ${OWNER}`;

/** Issue 16, point 4: the sector rules as the CLI and the chats reach them, with the default policy. */
describeEachEngine('site register and site show, per sector', (ctx) => {
  const s = useService(ctx);

  describe('a care home', () => {
    it('registers at Approaching Standards with its CQC location ID, shown in text and in --json', async () => {
      const registered = await runText(s.lifecycle, operator(), careHome('--cqc-location 1-101661355'));
      expect(registered.error).toBeUndefined();
      expect(registered.text).toContain(
        'Registered Rose Care Home (VN4J1), care-home, CQC location 1-101661355.',
      );

      const shown = await runText(s.lifecycle, as('rita.rowe@nhs.net'), 'site show VN4J1');
      expect(shown.text).toContain(
        'Rose Care Home (VN4J1), care-home, CQC location 1-101661355: DSPT Approaching Standards (needs Approaching Standards).',
      );
      expect(shown.text).toContain('Accounts: 1 of 10 used.');
      const json = JSON.parse(JSON.stringify(shown.data)) as {
        site: { cqcLocation: string | null };
        dsptMinimum: string;
        canRequestAccounts: boolean;
      };
      expect(json).toMatchObject({
        site: { cqcLocation: '1-101661355' },
        dsptMinimum: 'approaching-standards',
        canRequestAccounts: true,
      });

      const requested = await runText(
        s.lifecycle,
        as('rita.rowe@nhs.net'),
        'site request-account --site VN4J1 --given Cara --family Carer',
      );
      expect(requested.ok).toBe(true);
    });

    it('is malformed without its CQC location ID, or with one not in CQC’s format, and nothing is made', async () => {
      const before = await auditCount(s.db);
      const missing = await runText(s.lifecycle, operator(), careHome(''));
      expect(missing).toMatchObject({ ok: false, exitCode: 2, error: { code: 'CQC_LOCATION_REQUIRED' } });
      expect(missing.text).toMatch(/--cqc-location, "1-" then digits/);
      const bad = await runText(s.lifecycle, operator(), careHome('--cqc-location 101661355'));
      expect(bad).toMatchObject({ ok: false, exitCode: 2, error: { code: 'INVALID_CQC_LOCATION' } });
      expect(bad.text).toContain('"101661355" is not a CQC location ID. Write it as "1-" then digits');
      expect(await auditCount(s.db)).toBe(before);
      const shown = await runText(s.lifecycle, operator(), 'site show VN4J1');
      expect(shown.error?.code).toBe('ORG_NOT_FOUND');
    });

    it('is refused below Approaching Standards, with the rule and what to do', async () => {
      const refused = await runText(
        s.lifecycle,
        operator(),
        `site register --ods VN4J1 --kind care-home --name "Rose Care Home" --dspt standards-not-met --cqc-location 1-101661355 ${OWNER}`,
      );
      expect(refused).toMatchObject({ ok: false, exitCode: 1, error: { code: 'DSPT_TOO_LOW' } });
      expect(refused.text).toContain('care-home sites need Approaching Standards or better');
      expect(refused.text).toContain('Register once the site');
    });
  });

  describe('a pharmacy or a dental practice', () => {
    it('is still refused at Approaching Standards, and may not give a CQC location ID', async () => {
      for (const [kind, ods] of [
        ['pharmacy', 'FA123'],
        ['dental', 'V00123'],
      ] as const) {
        const low = await runText(
          s.lifecycle,
          operator(),
          `site register --ods ${ods} --kind ${kind} --name X --dspt approaching-standards ${OWNER}`,
        );
        expect(low).toMatchObject({ ok: false, exitCode: 1, error: { code: 'DSPT_TOO_LOW' } });
        expect(low.text).toContain(`${kind} sites need Standards Met or better`);
        const cqc = await runText(
          s.lifecycle,
          operator(),
          `site register --ods ${ods} --kind ${kind} --name X --dspt standards-met --cqc-location 1-101661355 ${OWNER}`,
        );
        expect(cqc).toMatchObject({ ok: false, exitCode: 2, error: { code: 'INVALID_CQC_LOCATION' } });
        expect(cqc.text).toContain('Only care homes have a CQC location ID');
      }
      const registered = await runText(
        s.lifecycle,
        operator(),
        `site register --ods FA123 --kind pharmacy --name "High Street Pharmacy" --dspt standards-met ${OWNER}`,
      );
      expect(registered.text).toContain('Registered High Street Pharmacy (FA123), pharmacy.');
      const shown = await runText(s.lifecycle, operator(), 'site show FA123');
      expect(shown.text).toContain('High Street Pharmacy (FA123), pharmacy: DSPT Standards Met');
    });
  });
});
