import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localFiles } from '../../adapters/cli/files.js';
import { runText } from '../../src/commands/execute.js';
import { parseActivityReport, parseReportDate } from '../../src/service/activity-import.js';
import { expectInvalid } from '../domain/expect-error.js';
import { describeEachEngine } from '../support/engines.js';
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
});
