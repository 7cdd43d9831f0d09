import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import {
  checkHrCsv,
  type HrRecord,
  LEAVER_COLUMNS,
  readHrCsv,
  STARTER_COLUMNS,
} from '../../src/service/hr-feed.js';
import { createLifecycle } from '../../src/service/lifecycle.js';
import { describeEachEngine, queryRows } from '../support/engines.js';
import {
  activeAccount,
  addOrg,
  as,
  auditCount,
  day,
  everyTableAsText,
  grant,
  operator,
  outboxRows,
  person,
  refusal,
  T0,
  useService,
} from '../support/service.js';

const fixture = (name: string) => path.join(import.meta.dirname, '..', 'fixtures', 'hr', name);
const starters = () => readHrCsv(createReadStream(fixture('starters-messy.csv')), STARTER_COLUMNS);
const leavers = (csv: string) => readHrCsv(csv, LEAVER_COLUMNS);

async function collect(records: AsyncIterable<HrRecord>): Promise<HrRecord[]> {
  const all: HrRecord[] = [];
  for await (const r of records) all.push(r);
  return all;
}

describe('reading HR files', () => {
  it('takes BOM, CRLF, any column order and case, quoted commas and quotes, and skips blank lines', async () => {
    const rows = await collect(starters());
    expect(rows.map((r) => r.row)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(rows[0]?.fields).toMatchObject({
      employee_number: 'E1001',
      given_name: 'Ada',
      family_name: 'Okafor',
      'job title': 'Nurse, Band 5',
      start_date: '2026-11-26',
    });
    expect(rows[3]?.fields['job title']).toBe('Registrar, "acute" medicine');
  });

  it('refuses a file whose header lacks a required column, naming it (exit 2 on the CLI)', async () => {
    const wrong = readHrCsv(readFileSync(fixture('starters-wrong-layout.csv'), 'utf8'), STARTER_COLUMNS);
    const e = await refusal(collect(wrong), 'FILE_LAYOUT');
    expect(e.kind).toBe('invalid');
    expect(e.message).toContain(
      'no employee_number, given_name, family_name, date_of_birth, mobile, org_ods, start_date columns',
    );
    await refusal(collect(readHrCsv('leaving_date\n2026-12-01\n', LEAVER_COLUMNS)), 'FILE_LAYOUT');
    await refusal(
      collect(readHrCsv('employee_number,leaving_date\n"E1,2026\n', LEAVER_COLUMNS)),
      'FILE_LAYOUT',
    );
  });
});

describe('checking an HR file whole before anything is applied (issue 12)', () => {
  const header = 'employee_number,leaving_date\n';

  it('refuses an empty file as empty, and takes a header alone as a file of no rows', async () => {
    for (const csv of ['', '\r\n\r\n', '\ufeff']) {
      const e = await refusal(checkHrCsv(csv, LEAVER_COLUMNS, '"leavers.csv"'), 'FILE_EMPTY');
      expect(e.kind).toBe('invalid');
      expect(e.message).toBe(
        '"leavers.csv" is empty: expected a header line naming the columns leaving_date, employee_number, address, then a row per person. Export it from HR again. Nothing was imported.',
      );
    }
    expect(await checkHrCsv(header, LEAVER_COLUMNS)).toBe(0);
    await refusal(collect(readHrCsv('', STARTER_COLUMNS)), 'FILE_EMPTY');
  });

  it('refuses a file that stops being CSV part-way, naming the line, after reading all of it', async () => {
    const csv = `${header}E1,2026-12-01\nE2,2026-12-02\n"E3,2026-12-03\n`;
    const e = await refusal(checkHrCsv(csv, LEAVER_COLUMNS, '"leavers.csv"'), 'FILE_LAYOUT');
    expect(e.message).toMatch(/^"leavers\.csv" could not be read as CSV \(Quote Not Closed: .* at line 4\)/);
    expect(e.message).toMatch(/Nothing was imported\.$/);
    expect(await checkHrCsv(`${header}E1,2026-12-01\nE2,2026-12-02\n`, LEAVER_COLUMNS)).toBe(2);
  });
});

describeEachEngine('the HR feed', (ctx) => {
  const s = useService(ctx);
  const importStarters = (at: Date = T0, dryRun = false, who = operator(at)) =>
    s.lifecycle.importStarters({ ...who, now: at }, { records: starters(), dryRun });
  const sweep = (at: Date) =>
    s.lifecycle.sweep({ actor: { kind: 'scheduler' }, platform: 'schedule', now: at }, { dryRun: false });
  const starterRows = () =>
    queryRows<{
      employee_number: string;
      state: string;
      address: string | null;
      mobile_sealed: string | null;
    }>(
      ctx.db.db,
      sql`select employee_number, state, address, mobile_sealed from hr_starters order by employee_number`,
    );

  async function seedOrgs() {
    await addOrg(s.lifecycle, 'RXX');
    await addOrg(s.lifecycle, 'RYY');
    // Dev Patel already has an account (a locum who worked here before), same GMC number.
    await activeAccount(
      s.lifecycle,
      'RYY',
      person('Devendra', 'Patel', { reg: { body: 'GMC', number: '7654321' } }),
    );
  }

  describe('starters', () => {
    it('creates what starts soon, schedules the rest, reports duplicates and bad rows, and goes on', async () => {
      await seedOrgs();
      const report = await importStarters();
      expect(report).toMatchObject({ rows: 7, created: 2, scheduled: 1, existing: 1 });
      expect(report.createdAddresses).toEqual(['ada.okafor@nhs.net', 'gus.ward@nhs.net']);
      expect(report.duplicates).toEqual([
        { row: 5, employeeNumber: 'E1004', address: 'devendra.patel@nhs.net' },
      ]);
      expect(report.errors.map((e) => e.row)).toEqual([4, 7]);
      expect(report.errors[0]?.message).toContain('"01/12/2026" is not a start_date');
      expect(report.errors[1]?.message).toContain('HR_DATA_KEY');
      expect((await s.lifecycle.status(operator(), { address: 'ada.okafor@nhs.net' })).account.status).toBe(
        'pending',
      );
      expect(s.delivery.sent.map((d) => d.address)).toEqual([
        'devendra.patel@nhs.net',
        'ada.okafor@nhs.net',
        'gus.ward@nhs.net',
      ]);
      // Ben starts on 2027-01-04: remembered, to be made five days before.
      expect(await starterRows()).toEqual([
        {
          employee_number: 'E1001',
          state: 'provisioned',
          address: 'ada.okafor@nhs.net',
          mobile_sealed: null,
        },
        { employee_number: 'E1002', state: 'scheduled', address: null, mobile_sealed: null },
        { employee_number: 'E2001', state: 'provisioned', address: 'gus.ward@nhs.net', mobile_sealed: null },
      ]);
      const trail = await s.lifecycle.auditTrail(operator(), { address: 'ada.okafor@nhs.net' });
      expect(trail[0]).toMatchObject({ action: 'provision', actor: 'operator', to: 'pending' });
    });

    it('tells each organisation’s channels what the import did for it, once per import', async () => {
      await seedOrgs();
      await importStarters();
      const summaries = (await outboxRows(s.db)).filter((r) => r.kind === 'hr-import');
      expect(summaries.map((r) => r.audience)).toEqual([
        { type: 'org', ods: 'RXX' },
        { type: 'org', ods: 'RYY' },
      ]);
      expect(summaries[0]?.payload).toMatchObject({
        file: 'starters',
        org: 'RXX',
        created: 1,
        scheduled: 1,
        duplicates: ['devendra.patel@nhs.net'],
        errors: 2,
      });
    });

    it('creates nothing twice when the same file (or an overlapping extract) comes again', async () => {
      await seedOrgs();
      await importStarters();
      const audits = await auditCount(s.db);
      const again = await importStarters(day(1));
      expect(again).toMatchObject({ created: 0, scheduled: 0, existing: 4 });
      expect(again.duplicates).toHaveLength(1);
      expect(await auditCount(s.db)).toBe(audits);
      expect(s.delivery.sent).toHaveLength(3);
    });

    it('provisions a scheduled starter on its day, exactly once, however often the sweep runs', async () => {
      await seedOrgs();
      await importStarters();
      // 2027-01-04 minus the 5-day lead: made on 2026-12-30 (an English day).
      expect((await sweep(new Date('2026-12-29T23:00:00Z'))).counts['hr-starters']).toBe(0);
      const onTheDay = new Date('2026-12-30T05:00:00Z');
      const [first, second] = [await sweep(onTheDay), await sweep(onTheDay)];
      expect(first.counts['hr-starters']).toBe(1);
      expect(second.counts['hr-starters']).toBe(0);
      expect((await sweep(day(1, onTheDay))).counts['hr-starters']).toBe(0);
      const ben = await s.lifecycle.status(operator(onTheDay), { address: 'ben.hughes@nhs.net' });
      expect(ben.account).toMatchObject({ status: 'pending', org: 'RXX' });
      const trail = await s.lifecycle.auditTrail(operator(), { address: 'ben.hughes@nhs.net' });
      expect(trail).toEqual([
        expect.objectContaining({ action: 'provision', actor: 'scheduler', platform: 'schedule' }),
      ]);
      expect((await starterRows()).find((r) => r.employee_number === 'E1002')?.state).toBe('provisioned');
    });

    it('keeps a waiting SMS starter’s mobile sealed under HR_DATA_KEY, and erases it once used', async () => {
      const l = await createLifecycle({
        db: ctx.db.db,
        policy: DEFAULT_POLICY,
        delivery: s.delivery,
        hrDataKey: Buffer.alloc(32, 7),
      });
      await seedOrgs();
      const report = await l.importStarters(operator(), { records: starters(), dryRun: false });
      expect(report.errors.map((e) => e.row)).toEqual([4]);
      expect(report.scheduled).toBe(2);
      const eve = (await starterRows()).find((r) => r.employee_number === 'E1005');
      expect(eve?.mobile_sealed).toMatch(/^v1\./);
      expect(await everyTableAsText(ctx.db)).not.toContain('7700900555');
      await l.sweep(operator(new Date('2027-01-27T06:00:00Z'), 'schedule'), { dryRun: false });
      const sent = s.delivery.sent.find((d) => d.address === 'eve.jones@nhs.net');
      expect(sent).toMatchObject({ route: 'sms', mobile: { e164: '+447700900555' } });
      expect((await starterRows()).find((r) => r.employee_number === 'E1005')?.mobile_sealed).toBeNull();
    });

    it('changes nothing on a dry run, but reports what it would do', async () => {
      await seedOrgs();
      const audits = await auditCount(s.db);
      const dry = await importStarters(T0, true);
      expect(dry).toMatchObject({ dryRun: true, created: 2, scheduled: 1, existing: 1 });
      expect(await auditCount(s.db)).toBe(audits);
      expect(await starterRows()).toEqual([]);
      expect(s.delivery.sent.map((d) => d.address)).toEqual(['devendra.patel@nhs.net']);
    });

    it('runs as its actor: rows for organisations they do not administer are refused, the rest go through', async () => {
      await seedOrgs();
      await grant(s.lifecycle, 'la.y@nhs.net', 'local-admin', 'RYY');
      const report = await importStarters(T0, false, as('la.y@nhs.net'));
      expect(report.created).toBe(1);
      expect(report.createdAddresses).toEqual(['gus.ward@nhs.net']);
      expect(
        report.errors.filter((e) => e.message.includes('RXX is not one of them')).map((e) => e.row),
      ).toEqual([2, 3, 5, 6, 7]);
    });
  });

  describe('leavers', () => {
    async function staff() {
      await seedOrgs();
      await importStarters();
      await s.lifecycle.firstLogin(operator(), { address: 'ada.okafor@nhs.net', mfa: true });
      return activeAccount(s.lifecycle, 'RXX', person('Lou', 'Later'));
    }

    it('marks today’s leavers now, schedules future ones, and reports rows it cannot place', async () => {
      const lou = await staff();
      const csv = readFileSync(fixture('leavers-messy.csv'), 'utf8').replace('ben.hughes@nhs.net', lou);
      const report = await s.lifecycle.importLeavers(operator(), { records: leavers(csv), dryRun: false });
      expect(report).toMatchObject({ rows: 4, marked: 1, scheduled: 1, existing: 0 });
      expect(report.errors.map((e) => [e.row, e.message.slice(0, 40)])).toEqual([
        [4, 'Employee number E9999 was never imported'],
        [5, expect.stringContaining('not-an-address')],
      ]);
      expect((await s.lifecycle.status(operator(), { address: 'ada.okafor@nhs.net' })).account.status).toBe(
        'leaver',
      );
      const louNow = await s.lifecycle.status(operator(), { address: lou });
      expect(louNow.account).toMatchObject({ status: 'active', leavesAt: '2026-12-31T00:00:00.000Z' });
      const again = await s.lifecycle.importLeavers(operator(), { records: leavers(csv), dryRun: false });
      expect(again).toMatchObject({ marked: 0, scheduled: 0, existing: 2 });
    });

    it('takes effect on the leaving date, once, with the grace period starting that day', async () => {
      const lou = await staff();
      await s.lifecycle.importLeavers(operator(), {
        records: leavers(`address,leaving_date\n${lou},2026-12-03\n`),
        dryRun: false,
      });
      expect((await sweep(new Date('2026-12-02T05:00:00Z'))).counts['hr-leavers']).toBe(0);
      const onTheDay = new Date('2026-12-03T05:00:00Z');
      expect((await sweep(onTheDay)).counts['hr-leavers']).toBe(1);
      expect((await sweep(onTheDay)).counts['hr-leavers']).toBe(0);
      const after = (await s.lifecycle.status(operator(onTheDay), { address: lou })).account;
      expect(after).toMatchObject({
        status: 'leaver',
        leavesAt: null,
        graceExpiresAt: '2027-01-02T00:00:00.000Z',
      });
      const trail = await s.lifecycle.auditTrail(operator(), { address: lou });
      expect(trail.map((r) => [r.action, r.actor])).toEqual([
        ['provision', 'operator'],
        ['first-login', 'operator'],
        ['leaver-scheduled', 'operator'],
        ['leaver', 'scheduler'],
      ]);
    });

    it('refuses rows the importer may not act on, and files no leaver request for their own address', async () => {
      const lou = await staff();
      const report = await s.lifecycle.importLeavers(as(lou), {
        records: leavers(`address,leaving_date\n${lou},2026-11-01\n${lou},2026-12-03\n`),
        dryRun: false,
      });
      expect(report).toMatchObject({ marked: 0, scheduled: 0 });
      expect(report.errors.map((e) => e.row)).toEqual([2, 3]);
      expect(report.errors[0]?.message).toContain('You may import leavers for organisations you administer');
      expect((await outboxRows(s.db)).filter((r) => r.kind === 'leaver-request')).toEqual([]);
      expect((await s.lifecycle.status(operator(), { address: lou })).account).toMatchObject({
        status: 'active',
        leavesAt: null,
      });
    });

    it('drops a leaving date that a joiner or an earlier leaver overtook', async () => {
      const lou = await staff();
      await s.lifecycle.importLeavers(operator(), {
        records: leavers(`address,leaving_date\n${lou},2026-12-03\n`),
        dryRun: false,
      });
      await s.lifecycle.leaver(operator(day(1)), { address: lou });
      await s.lifecycle.joiner(operator(day(2)), { address: lou, org: 'RYY' });
      expect((await s.lifecycle.status(operator(day(2)), { address: lou })).account.leavesAt).toBeNull();
      expect((await sweep(new Date('2026-12-04T05:00:00Z'))).counts['hr-leavers']).toBe(0);
      const later = await s.lifecycle.status(operator(new Date('2026-12-04T06:00:00Z')), { address: lou });
      expect(later.account).toMatchObject({ status: 'active', org: 'RYY' });
    });
  });
});
