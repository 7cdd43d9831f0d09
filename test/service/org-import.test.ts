import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { beforeEach, expect, it } from 'vitest';
import { localFiles } from '../../adapters/cli/files.js';
import { runText } from '../../src/commands/execute.js';
import type { OrgImportReport } from '../../src/service/org-import.js';
import { describeEachEngine, queryRows } from '../support/engines.js';
import { as, auditCount, everyTableAsText, operator, person, T0, useService } from '../support/service.js';

/** NHS trusts in the ODS extract layout: 27 quoted columns, CRLF, no header (see test/fixtures/ods). */
const ETR = fileURLToPath(new URL('../fixtures/ods/etr.csv', import.meta.url));

/** An ODS row: code, name, then the standard columns, close date in column 12. */
const odsRow = (code: string, name: string, close = '') =>
  [
    code,
    name,
    'Y56',
    'QWE',
    'HQ',
    'ROAD',
    'TOWN',
    '',
    '',
    'NT1 1AA',
    '19930401',
    close,
    ...Array(15).fill(''),
  ]
    .map((f) => `"${f.replace(/"/g, '""')}"`)
    .join(',');

describeEachEngine('import orgs', (ctx) => {
  const s = useService(ctx);
  const importEtr = (dryRun = false) =>
    s.lifecycle.importOrganisations(
      { ...operator(T0), platform: 'import' },
      { source: createReadStream(ETR), kind: 'trust', dryRun, file: 'etr.csv' },
    );
  const orgs = () =>
    queryRows<{ ods: string; name: string; kind: string }>(
      ctx.db.db,
      sql`select ods, name, kind::text as kind from organisations order by ods`,
    );

  beforeEach(async () => {
    const add = (ods: string, name: string, kind: 'trust' | 'icb') =>
      s.lifecycle.addOrganisation(operator(), { ods, name, kind });
    await add('RXX', 'Northtown Hospitals NHS Trust', 'trust');
    await add('RYY', 'Southville Community NHS Trust', 'trust');
    await add('QWE', 'North East ICB', 'icb');
    await add('RXY', 'Westgate Ambulance Service NHS Trust', 'trust');
  });

  it('adds new trusts, renames changed ones, reports closed and rejected rows, and deletes nothing', async () => {
    const report = await importEtr();
    expect(report).toMatchObject({
      kind: 'trust',
      dryRun: false,
      rows: 12,
      added: 3,
      updated: 1,
      unchanged: 1,
      closed: 2,
      rejected: 5,
      truncated: false,
    });
    expect(report.details.added).toEqual([
      { row: 3, ods: 'RZZ', name: 'EASTBY, WESTBY AND DISTRICT NHS FOUNDATION TRUST' },
      { row: 6, ods: 'RAB', name: 'ST MARY\'S "HEART OF THE CITY" NHS TRUST' },
      { row: 7, ods: 'RCD', name: 'RIVERSIDE MENTAL HEALTH NHS TRUST' },
    ]);
    expect(report.details.renamed).toEqual([
      {
        row: 2,
        ods: 'RYY',
        from: 'Southville Community NHS Trust',
        to: 'SOUTHVILLE COMMUNITY HEALTH NHS TRUST',
      },
    ]);
    expect(report.details.closed).toEqual([
      { row: 4, ods: 'RQQ', name: 'OLDTOWN HEALTHCARE NHS TRUST', closedOn: '2020-03-31', registered: false },
      {
        row: 12,
        ods: 'RXY',
        name: 'WESTGATE AMBULANCE SERVICE NHS TRUST',
        closedOn: '2024-03-31',
        registered: true,
      },
    ]);
    expect(report.details.rejected.map((r) => [r.row, r.ods])).toEqual([
      [5, null],
      [8, 'RZZ'],
      [9, 'QWE'],
      [10, 'RTE'],
      [11, 'RFF'],
    ]);
    const problems = report.details.rejected.map((r) => r.problem);
    expect(problems[0]).toMatch(/"R-1" is not an ODS code/);
    expect(problems[1]).toMatch(/RZZ appears again \(first on row 3\)/);
    expect(problems[2]).toMatch(/QWE is registered as icb .* imported as trust: not changed/);
    expect(problems[3]).toMatch(/has 3 column\(s\); the ODS layout has 27/);
    expect(problems[4]).toMatch(/"20261301" in column 12 \(close date\) is not a date/);

    expect(await orgs()).toEqual([
      { ods: 'QWE', name: 'North East ICB', kind: 'icb' },
      { ods: 'RAB', name: 'ST MARY\'S "HEART OF THE CITY" NHS TRUST', kind: 'trust' },
      { ods: 'RCD', name: 'RIVERSIDE MENTAL HEALTH NHS TRUST', kind: 'trust' },
      // Same name but for capitals: the operator's spelling is kept.
      { ods: 'RXX', name: 'Northtown Hospitals NHS Trust', kind: 'trust' },
      // Closed in ODS, still registered: reported, never deleted.
      { ods: 'RXY', name: 'Westgate Ambulance Service NHS Trust', kind: 'trust' },
      { ods: 'RYY', name: 'SOUTHVILLE COMMUNITY HEALTH NHS TRUST', kind: 'trust' },
      { ods: 'RZZ', name: 'EASTBY, WESTBY AND DISTRICT NHS FOUNDATION TRUST', kind: 'trust' },
    ]);
  });

  it('audits each addition as org add does, and each rename, as the operator importing', async () => {
    await importEtr();
    const rows = await queryRows<{
      actor: string;
      platform: string;
      action: string;
      org: string;
      reason: string;
      details: unknown;
    }>(
      ctx.db.db,
      sql`select actor, platform::text as platform, action, org, reason, details from audit_log where platform = 'import' order by id`,
    );
    expect(rows.map((r) => [r.action, r.org, r.reason])).toEqual([
      ['org-rename', 'RYY', '"Southville Community NHS Trust" → "SOUTHVILLE COMMUNITY HEALTH NHS TRUST"'],
      ['org-add', 'RZZ', 'trust "EASTBY, WESTBY AND DISTRICT NHS FOUNDATION TRUST"'],
      ['org-add', 'RAB', 'trust "ST MARY\'S "HEART OF THE CITY" NHS TRUST"'],
      ['org-add', 'RCD', 'trust "RIVERSIDE MENTAL HEALTH NHS TRUST"'],
    ]);
    expect(rows.every((r) => r.actor === 'operator')).toBe(true);
    expect(rows[1]?.details).toEqual({ source: 'ods-import', file: 'etr.csv', row: 3 });
    // The same action `org add` writes, so the trail reads the same whichever way a trust came in.
    const [manual] = await queryRows<{ reason: string }>(
      ctx.db.db,
      sql`select reason from audit_log where action = 'org-add' and org = 'RXX'`,
    );
    expect(manual?.reason).toBe('trust "Northtown Hospitals NHS Trust"');
  });

  it('changes nothing on a dry run, and reports what it would do', async () => {
    const before = await everyTableAsText(ctx.db);
    const dry = await importEtr(true);
    expect(await everyTableAsText(ctx.db)).toBe(before);
    const real = await importEtr();
    expect(dry).toEqual({ ...real, dryRun: true });
  });

  it('changes nothing when run again', async () => {
    await importEtr();
    const audits = await auditCount(ctx.db);
    const again = await importEtr();
    expect(again).toMatchObject({ rows: 12, added: 0, updated: 0, unchanged: 5, closed: 2, rejected: 5 });
    expect(await auditCount(ctx.db)).toBe(audits);
  });

  it('reads the file through the command, says what it did, and is the operator’s alone', async () => {
    const reply = await runText(s.lifecycle, operator(T0), ['import', 'orgs', ETR, '--dry-run'], {
      files: localFiles,
    });
    expect(reply.exitCode).toBe(0);
    const text = reply.text.split('\n');
    expect(text[0]).toBe(
      'Dry run, nothing was changed. Read 12 trust row(s): would add 3, would rename 1, unchanged 1, closed 2, rejected 5.',
    );
    expect(text).toContain('  row 4: RQQ OLDTOWN HEALTHCARE NHS TRUST closed on 2020-03-31: not added');
    expect(text).toContain(
      '  row 12: RXY WESTGATE AMBULANCE SERVICE NHS TRUST closed on 2024-03-31: registered with the bot, left as it is (see its accounts)',
    );
    expect((reply.data as OrgImportReport).added).toBe(3);

    await s.lifecycle.grantRole(operator(), { address: 'nas@nhs.net', role: 'nas-admin' });
    const refused = await runText(
      s.lifecycle,
      as('nas@nhs.net'),
      ['import', 'orgs', '/etc/passwd', '--kind', 'trust'],
      { files: localFiles },
    );
    expect(refused.error?.code).toBe('OPERATOR_ONLY');
    const missing = await runText(s.lifecycle, operator(), ['import', 'orgs', '/no/such/etr.csv'], {
      files: localFiles,
    });
    expect(missing.error).toMatchObject({ code: 'FILE_NOT_READABLE', kind: 'invalid' });
    const directory = await runText(s.lifecycle, operator(), ['import', 'orgs', '/tmp', '--kind', 'trust'], {
      files: localFiles,
    });
    expect(directory.error).toMatchObject({ code: 'NOT_A_FILE', kind: 'invalid' });
    expect(directory.error?.message).toContain('is not a regular file');
  });

  it('skips a header row, and refuses a file that is not CSV, changing nothing', async () => {
    const header = ['Organisation Code', 'Name', ...Array(25).fill('x')].join(',');
    const withHeader = await s.lifecycle.importOrganisations(operator(), {
      source: [`${header}\n${odsRow('RHD', 'HEADED NHS TRUST')}\n`],
      kind: 'trust',
      dryRun: false,
    });
    expect(withHeader).toMatchObject({ rows: 1, added: 1, rejected: 0 });
    expect(withHeader.details.added).toEqual([{ row: 2, ods: 'RHD', name: 'HEADED NHS TRUST' }]);

    const before = await everyTableAsText(ctx.db);
    const broken = s.lifecycle.importOrganisations(operator(), {
      source: [
        `${odsRow('RB1', 'FINE NHS TRUST')}\n${odsRow('RB2', 'FINE TOO')}\n"RB3","UNCLOSED NHS TRUST,"Y56"\n`,
      ],
      kind: 'trust',
      dryRun: false,
    });
    await expect(broken).rejects.toMatchObject({ code: 'INVALID_FILE', kind: 'invalid' });
    await expect(broken).rejects.toThrow(/not readable CSV, so nothing was imported/);
    expect(await everyTableAsText(ctx.db)).toBe(before);
  });

  it('refuses an empty file, and one whose first row is not an ODS row, rather than import "0 rows" (issue 12)', async () => {
    const before = await everyTableAsText(ctx.db);
    const read = (text: string) =>
      s.lifecycle.importOrganisations(operator(), {
        source: [text],
        kind: 'trust',
        dryRun: false,
        file: 'etr.csv',
      });
    for (const empty of ['', '\r\n\r\n', '\ufeff']) {
      await expect(read(empty)).rejects.toMatchObject({
        code: 'FILE_EMPTY',
        kind: 'invalid',
        message: expect.stringMatching(/^"etr\.csv" is empty: expected ODS rows of 27 quoted fields/),
      });
    }
    await expect(read('hello, world\n')).rejects.toMatchObject({
      code: 'INVALID_FILE',
      message: expect.stringMatching(
        /^"etr\.csv" is not an ODS extract: its first row \(line 1\) has 2 column\(s\), and ODS extracts have 27/,
      ),
    });
    // Another layout's header then rows: refused whole, the good row after it not applied.
    await expect(read(`Practice,Town\n${odsRow('RG1', 'GOOD NHS TRUST')}\n`)).rejects.toMatchObject({
      code: 'INVALID_FILE',
    });
    expect(await everyTableAsText(ctx.db)).toBe(before);
    // A header row alone is an extract with no organisations in it.
    const header = ['Organisation Code', 'Name', ...Array(25).fill('x')].join(',');
    expect(await read(`${header}\r\n`)).toMatchObject({ rows: 0, added: 0, rejected: 0 });
  });

  it('renames and reports registered community sites, and leaves new ones to NAS to register', async () => {
    const register = (ods: string, name: string) =>
      s.lifecycle.registerSite(operator(), {
        ods,
        kind: 'pharmacy',
        name,
        dspt: 'standards-met',
        owner: person('Olu', `Owner${ods.slice(-1) === '3' ? 'a' : 'b'}`),
      });
    await register('FA123', 'Corner Pharmacy');
    await register('FB456', 'Old Mill Pharmacy');
    const report = await s.lifecycle.importOrganisations(operator(), {
      source: [
        [
          odsRow('FA123', 'CORNER PHARMACY (HIGH STREET)'),
          odsRow('FC789', 'RIVERSIDE CHEMIST'),
          odsRow('FB456', 'OLD MILL PHARMACY', '20250930'),
        ].join('\r\n'),
      ],
      kind: 'pharmacy',
      dryRun: false,
      file: 'edispensary.csv',
    });
    expect(report).toMatchObject({ rows: 3, added: 0, updated: 1, closed: 1, notRegistered: 1, rejected: 0 });
    expect(report.details.notRegistered).toEqual([{ row: 2, ods: 'FC789', name: 'RIVERSIDE CHEMIST' }]);
    expect(report.details.closed).toEqual([
      { row: 3, ods: 'FB456', name: 'OLD MILL PHARMACY', closedOn: '2025-09-30', registered: true },
    ]);
    // NAS can still register the new one: the import did not put it on file.
    const site = await s.lifecycle.registerSite(operator(), {
      ods: 'FC789',
      kind: 'pharmacy',
      name: 'Riverside Chemist',
      dspt: 'standards-met',
      owner: person('Rita', 'River'),
    });
    expect(site.site.ods).toBe('FC789');
    const text = await runText(
      s.lifecycle,
      operator(),
      ['import', 'orgs', ETR, '--kind', 'dental', '--dry-run'],
      { files: localFiles },
    );
    expect(text.text).toContain(
      '3 dental site(s) in the file are not registered with the bot and were not added: NAS registers community sites with "site register"',
    );
  });

  it('streams a national-size file in batches, each code once', async () => {
    async function* practices(): AsyncGenerator<string> {
      for (let i = 1; i <= 2400; i++) {
        yield `${odsRow(`A${String(i).padStart(5, '0')}`, `PRACTICE ${i}, SOMEWHERE`, i % 100 === 0 ? '20190331' : '')}\r\n`;
      }
      // The first practice again, after several batches: still caught.
      yield `${odsRow('A00001', 'PRACTICE ONE AGAIN')}\r\n`;
    }
    const report = await s.lifecycle.importOrganisations(operator(), {
      source: practices(),
      kind: 'gp-practice',
      dryRun: false,
    });
    expect(report).toMatchObject({ rows: 2401, added: 2376, closed: 24, rejected: 1, unchanged: 0 });
    expect(report.details.rejected).toEqual([
      { row: 2401, ods: 'A00001', problem: 'A00001 appears again (first on row 1); only the first is used.' },
    ]);
    const [count] = await queryRows<{ n: number }>(
      ctx.db.db,
      sql`select count(*)::int as n from organisations where kind = 'gp-practice'`,
    );
    expect(count?.n).toBe(2376);
  });

  it('rejects a row whose write fails alone, with its row number, and adds the rows of its batch around it (issue 17)', async () => {
    async function* practices(): AsyncGenerator<string> {
      for (let i = 1; i <= 2400; i++)
        yield `${odsRow(`A${String(i).padStart(5, '0')}`, `PRACTICE ${i}`)}\r\n`;
    }
    await ctx.db.db.execute(
      sql.raw(
        "create function test_refuse_org() returns trigger language plpgsql as $$ begin raise exception 'refused by the test'; end $$",
      ),
    );
    await ctx.db.db.execute(
      sql.raw(
        "create trigger test_refuse_one before insert on organisations for each row when (new.ods = 'A01000') execute function test_refuse_org()",
      ),
    );
    let report: OrgImportReport;
    try {
      report = await s.lifecycle.importOrganisations(operator(), {
        source: practices(),
        kind: 'gp-practice',
        dryRun: false,
      });
    } finally {
      await ctx.db.db.execute(sql.raw('drop trigger test_refuse_one on organisations'));
      await ctx.db.db.execute(sql.raw('drop function test_refuse_org()'));
    }
    expect(report).toMatchObject({ rows: 2400, added: 2399, rejected: 1 });
    expect(report.details.rejected).toEqual([
      { row: 1000, ods: 'A01000', problem: expect.stringContaining('refused by the test') },
    ]);
    const added = await queryRows<{ ods: string }>(
      ctx.db.db,
      sql`select ods from organisations where ods in ('A00999', 'A01000', 'A01001', 'A02400') order by ods`,
    );
    expect(added.map((o) => o.ods)).toEqual(['A00999', 'A01001', 'A02400']);
    const [audits] = await queryRows<{ n: number }>(
      ctx.db.db,
      sql`select count(*)::int as n from audit_log where action = 'org-add' and org like 'A%'`,
    );
    expect(audits?.n).toBe(2399);
  });
});
