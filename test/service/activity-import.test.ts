import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localFiles } from '../../adapters/cli/files.js';
import { runText } from '../../src/commands/execute.js';
import { ACTIVITY_SET, parseActivityReport, parseReportDate } from '../../src/service/activity-import.js';
import { expectInvalid } from '../domain/expect-error.js';
import { describeEachEngine, queryRows } from '../support/engines.js';
import {
  activeAccount,
  addOrg,
  as,
  day,
  grant,
  operator,
  person,
  T0,
  useService,
} from '../support/service.js';

describe('reading NHSmail’s mailbox report', () => {
  it('takes the latest of the activity columns, in UK or ISO dates, and reports unreadable rows', () => {
    const csv = [
      'Email Address,Display Name,Last Logon Time,Last Sent Time',
      'Jane.Doe@nhs.net,Jane Doe,20/11/2026 08:15,21/11/2026 17:02',
      'sam.lee@nhs.net,Sam Lee,Never,2026-11-19T10:00:00Z',
      'nobody@gmail.com,Not Ours,20/11/2026 08:15,',
      'kim.park@nhs.net,Kim Park,31/02/2026 10:00,',
      'idle.person@nhs.net,Idle,Never,Never',
    ].join('\n');
    const parsed = parseActivityReport(csv);
    expect(parsed.rows).toBe(5);
    expect(parsed.observations).toEqual([
      { address: 'jane.doe@nhs.net', at: new Date('2026-11-21T17:02:00Z') },
      { address: 'sam.lee@nhs.net', at: new Date('2026-11-19T10:00:00Z') },
    ]);
    expect(parsed.invalid.map((i) => i.row)).toEqual([4, 5]);
    expect(parsed.invalid[1]?.problem).toContain('31/02/2026 10:00');
  });

  it('refuses a report without an address or activity column, saying which columns it has', () => {
    expect(() => parseActivityReport('Name,Size\nJane,10\n')).toThrow('it has: "Name", "Size".');
  });

  it('refuses an empty file, a header of another layout and one line of text, with no rows or with rows (issue 12)', () => {
    for (const csv of ['', '\n\n', '\ufeff']) {
      expectInvalid(
        () => parseActivityReport(csv, '"weekly.csv"'),
        'FILE_EMPTY',
        /^"weekly\.csv" is empty: expected a header line with an address column/,
      );
    }
    // Without rows after it, a wrong header was "0 rows" (exit 0) before.
    expectInvalid(() => parseActivityReport('Name,Size\n'), 'INVALID_REPORT', /it has: "Name", "Size"/);
    expectInvalid(
      () => parseActivityReport('this is not a report at all'),
      'INVALID_REPORT',
      /it has: "this is not a report at all"/,
    );
    // The right header and no rows is a report with nothing in it.
    expect(parseActivityReport('Email Address,Last Logon Time\r\n')).toEqual({
      observations: [],
      invalid: [],
      rows: 0,
    });
    expect(parseReportDate('29/02/2028 12:00')).toEqual(new Date('2028-02-29T12:00:00Z'));
    expect(parseReportDate('29/02/2027')).toBeNull();
  });
});

describeEachEngine('importing activity', (ctx) => {
  const s = useService(ctx);
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-report-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('restarts the clock of active accounts, never winds it back, and lists what disagrees', async () => {
    await addOrg(s.lifecycle, 'RXX');
    const busy = await activeAccount(s.lifecycle, 'RXX', person('Busy', 'Bee'), day(-20));
    const recent = await activeAccount(s.lifecycle, 'RXX', person('Very', 'Recent'), day(-1));
    const pending = (await s.lifecycle.provision(operator(day(-3)), { ...person('Not', 'Yet'), org: 'RXX' }))
      .account.address;
    const lapsed = await activeAccount(s.lifecycle, 'RXX', person('Lap', 'Sed'), day(-40));
    await s.lifecycle.sweep(operator(day(-5)), { dryRun: false });
    const file = path.join(dir, 'report.csv');
    await writeFile(
      file,
      [
        'Email Address,Last Logon Time,Last Sent Time',
        `${busy},20/11/2026 09:00,`,
        `${recent},10/11/2026 09:00,`,
        `${pending},22/11/2026 09:00,`,
        `${lapsed},22/11/2026 10:00,`,
        'stranger@nhs.net,22/11/2026 10:00,',
        'broken,22/11/2026 10:00,',
      ].join('\n'),
    );
    const reply = await runText(s.lifecycle, operator(T0), ['import', 'activity', file], {
      files: localFiles,
    });
    expect(reply.ok).toBe(true);
    expect(reply.data).toMatchObject({ rows: 6, recorded: 1, unchanged: 1, unknown: ['stranger@nhs.net'] });
    const data = reply.data as {
      disagreements: Array<{ address: string; status: string }>;
      invalid: Array<{ row: number }>;
    };
    expect(data.disagreements.map((d) => [d.address, d.status])).toEqual([
      [pending, 'pending'],
      [lapsed, 'inactive'],
    ]);
    expect(data.invalid.map((i) => i.row)).toEqual([7]);
    expect((await s.lifecycle.status(operator(), { address: busy })).account.lastActivityAt).toBe(
      '2026-11-20T09:00:00.000Z',
    );
    expect((await s.lifecycle.status(operator(), { address: recent })).account.lastActivityAt).toBe(
      day(-1).toISOString(),
    );
    expect((await s.lifecycle.status(operator(), { address: lapsed })).account.status).toBe('inactive');
    const trail = await s.lifecycle.auditTrail(operator(), { address: busy });
    expect(trail.at(-1)).toMatchObject({ action: 'activity', platform: 'import', actor: 'operator' });
  });

  it('is for the operator only, and says so when a file cannot be read', async () => {
    await grant(s.lifecycle, 'nas@nhs.net', 'nas-admin');
    const refusedReply = await runText(
      s.lifecycle,
      as('nas@nhs.net'),
      ['import', 'activity', '/etc/hostname'],
      { files: localFiles },
    );
    expect(refusedReply.error?.code).toBe('OPERATOR_ONLY');
    const missing = await runText(
      s.lifecycle,
      operator(),
      ['import', 'activity', path.join(dir, 'absent.csv')],
      { files: localFiles },
    );
    expect(missing).toMatchObject({ exitCode: 2, error: { code: 'FILE_NOT_READABLE' } });
  });

  describe('in sets (issue 17)', () => {
    const many = 2100; // more than one set of ACTIVITY_SET
    const address = (g: number) => `act${g}@nhs.net`;
    const seedAccounts = async () => {
      await addOrg(s.lifecycle, 'RXX');
      await ctx.db.db.execute(sql`
        insert into accounts (address, kind, status, home_org, created_at, status_changed_at, first_login_at,
                              last_activity_at, mfa_registered)
        select 'act' || g || '@nhs.net', 'person', 'active', 'RXX', ${day(-90).toISOString()}::timestamptz,
               ${day(-90).toISOString()}::timestamptz, ${day(-90).toISOString()}::timestamptz,
               ${day(-10).toISOString()}::timestamptz, true
        from generate_series(1, ${many}) g`);
    };
    const clocks = async () =>
      new Map(
        (
          await queryRows<{ address: string; at: string }>(
            ctx.db.db,
            sql`select address, last_activity_at::text as at from accounts where address like 'act%'`,
          )
        ).map((r) => [r.address, new Date(r.at).toISOString()]),
      );
    const all = (at: Date) => Array.from({ length: many }, (_, i) => ({ address: address(i + 1), at }));

    it('rejects a row whose write fails alone: the rows of its set around it are recorded and audited', async () => {
      expect(many).toBeGreaterThan(ACTIVITY_SET);
      await seedAccounts();
      await ctx.db.db.execute(
        sql.raw(
          "create function test_refuse_write() returns trigger language plpgsql as $$ begin raise exception 'refused by the test'; end $$",
        ),
      );
      await ctx.db.db.execute(
        sql.raw(
          "create trigger test_refuse_one before update on accounts for each row when (new.address = 'act1000@nhs.net') execute function test_refuse_write()",
        ),
      );
      try {
        const report = await s.lifecycle.recordObservedActivity(
          { ...operator(T0), platform: 'import' },
          { observations: all(day(-1)) },
        );
        expect(report).toMatchObject({ rows: many, recorded: many - 1, unchanged: 0, unknown: [] });
        expect(report.failed).toEqual([
          { address: address(1000), problem: expect.stringContaining('refused by the test') },
        ]);
      } finally {
        await ctx.db.db.execute(sql.raw('drop trigger test_refuse_one on accounts'));
        await ctx.db.db.execute(sql.raw('drop function test_refuse_write()'));
      }
      const after = await clocks();
      expect(after.get(address(999))).toBe(day(-1).toISOString());
      expect(after.get(address(1000))).toBe(day(-10).toISOString());
      expect(after.get(address(1001))).toBe(day(-1).toISOString());
      expect(after.get(address(many))).toBe(day(-1).toISOString());
      const [audits] = await queryRows<{ n: number }>(
        ctx.db.db,
        sql`select count(*)::int as n from audit_log where action = 'activity'`,
      );
      expect(audits?.n).toBe(many - 1);
    });

    it('never winds a clock back when two reports are imported at once', async () => {
      await seedAccounts();
      const ctxImport = { ...operator(T0), platform: 'import' as const };
      const [older, newer] = await Promise.all([
        s.lifecycle.recordObservedActivity(ctxImport, { observations: all(day(-3)) }),
        s.lifecycle.recordObservedActivity(ctxImport, { observations: all(day(-1)) }),
      ]);
      expect(newer.recorded).toBe(many);
      expect(older.recorded + older.unchanged).toBe(many);
      const after = await clocks();
      expect([...after.values()].every((at) => at === day(-1).toISOString())).toBe(true);
      const again = await s.lifecycle.recordObservedActivity(ctxImport, { observations: all(day(-2)) });
      expect(again).toMatchObject({ recorded: 0, unchanged: many });
    });
  });
});
