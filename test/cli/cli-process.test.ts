import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../db/index.js';
import { auditLog } from '../../db/schema.js';
import { queryRows } from '../support/engines.js';
import { pdfText } from '../support/pdf-text.js';
import { createScratchPostgresDatabase, type ScratchDatabase } from '../support/postgres-scratch.js';
import { killLeftoverChildren, type ProcessResult, runCliProcess } from '../support/processes.js';
import { everyTableAsText } from '../support/service.js';

/**
 * The operator CLI run for real, as a child process (`node --import tsx adapters/cli/main.ts`, which
 * is what `npm run nhsmail` runs), against a fresh PostgreSQL database: the README's worked example,
 * exit codes, --now, the Day 1 letter, and where the temporary password must never appear.
 */

interface AccountJson {
  address: string;
  status: string;
  org: string;
  kind: string;
  name: string | null;
  lastActivityAt: string | null;
  graceExpiresAt: string | null;
  firstLoginAt: string | null;
}

interface AuditJson {
  at: string;
  actor: string;
  platform: string;
  action: string;
  from: string | null;
  to: string | null;
  reason: string | null;
}

const JANE = 'jane.doe@nhs.net';
const ALEX = 'alex.admin@nhs.net';
const DAY_MS = 24 * 3600 * 1000;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('operator CLI as a child process, on PostgreSQL', { timeout: 120_000 }, () => {
  let scratch: ScratchDatabase | undefined;
  let db: Database | undefined;
  let tmp = '';
  let dataDir = '';
  let envelopeDir = '';
  /** Everything any CLI run printed, to prove the temporary password never reached a terminal. */
  const printed: string[] = [];

  const env = (): Record<string, string> => {
    if (!scratch) throw new Error('no scratch database');
    return { DATABASE_URL: scratch.url, DATA_DIR: dataDir, ENVELOPE_DIR: envelopeDir };
  };

  async function nhsmail(...args: string[]): Promise<ProcessResult> {
    const result = await runCliProcess(args, env());
    printed.push(result.stdout, result.stderr);
    return result;
  }

  /** Asserts exit code 0 (showing stderr if not) and returns stdout parsed as JSON. */
  async function nhsmailJson<T>(...args: string[]): Promise<T> {
    const result = await nhsmail(...args, '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout) as T;
  }

  function database(): Database {
    if (!db) throw new Error('no database connection');
    return db;
  }

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'nhsmail-cli-'));
    dataDir = join(tmp, 'data');
    envelopeDir = join(tmp, 'letters');
    scratch = await createScratchPostgresDatabase();
    db = openDatabase({ engine: 'postgres', url: scratch.url, maxConnections: 2 });
  });

  afterAll(async () => {
    killLeftoverChildren();
    await db?.close();
    await scratch?.drop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('answers help with no database configured at all', async () => {
    const nowhere = join(tmp, 'no-data-here');
    const result = await runCliProcess(['help'], { DATA_DIR: nowhere });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('Commands:');
    expect(result.stdout).toContain('provision --given G --family F --org ODS');
    expect(result.stdout).toContain('sweep [--dry-run]');
    // No database was opened: the embedded one would have created its directory.
    expect(existsSync(nowhere)).toBe(false);
  }, 30_000);

  it('runs the README worked example end to end', async () => {
    const rxx = await nhsmail(
      'org',
      'add',
      '--ods',
      'RXX',
      '--name',
      'Northtown Hospitals NHS Trust',
      '--kind',
      'trust',
    );
    expect(rxx.code, rxx.stderr).toBe(0);
    expect(rxx.stdout).toBe('Added Northtown Hospitals NHS Trust (RXX), trust.\n');
    expect(rxx.stderr).toBe('');

    const ryy = await nhsmailJson<{ ods: string; name: string; kind: string }>(
      'org',
      'add',
      '--ods',
      'ryy',
      '--name',
      'Southville Community NHS Trust',
      '--kind',
      'trust',
    );
    expect(ryy).toMatchObject({ ods: 'RYY', name: 'Southville Community NHS Trust', kind: 'trust' });

    const granted = await nhsmail('grant', ALEX, 'local-admin', '--org', 'RYY');
    expect(granted.code, granted.stderr).toBe(0);
    expect(granted.stdout).toContain(`${ALEX} is now local-admin of RYY.`);

    const provisioned = await nhsmail(
      'provision',
      '--given',
      'Jane',
      '--family',
      'Doe',
      '--org',
      'RXX',
      '--dob',
      '1985-04-23',
      '--delivery',
      'envelope',
    );
    expect(provisioned.code, provisioned.stderr).toBe(0);
    expect(provisioned.stderr).toBe('');
    const letterPath = join(envelopeDir, 'jane.doe-day1-letter.pdf');
    expect(provisioned.stdout).toContain(`Created ${JANE} (pending) in Northtown Hospitals NHS Trust (RXX).`);
    expect(provisioned.stdout).toContain(`Day 1 envelope letter (${letterPath})`);

    // The letter: a PDF in ENVELOPE_DIR, the only file there, owner-only, naming the address and
    // holding the password.
    expect(await readdir(envelopeDir)).toEqual(['jane.doe-day1-letter.pdf']);
    const letter = await stat(letterPath);
    expect(letter.isFile()).toBe(true);
    expect(letter.mode & 0o777).toBe(0o600);
    const { pages, runs, text } = pdfText(await readFile(letterPath));
    expect(pages).toBe(1);
    expect(runs).toContain(JANE);
    expect(runs).toContain('Jane Doe');
    expect(text).toMatch(/Temporary password:\s+\S{16}\n/);
    // On PostgreSQL nothing is written to DATA_DIR: no embedded database was opened.
    expect(existsSync(join(dataDir, 'pglite'))).toBe(false);

    const active = await nhsmailJson<AccountJson>('first-login', JANE, '--mfa');
    expect(active).toMatchObject({ address: JANE, status: 'active', org: 'RXX' });

    const leaver = await nhsmail('leaver', JANE);
    expect(leaver.code, leaver.stderr).toBe(0);
    expect(leaver.stdout).toContain('Marked as a leaver.');
    expect(leaver.stdout).toContain(`${JANE}: leaver, Northtown Hospitals NHS Trust (RXX)`);
    expect(leaver.stdout).toMatch(/Grace period ends \d{4}-\d{2}-\d{2} \(30 days left\)/);

    const joiner = await nhsmail('joiner', JANE, '--org', 'RYY', '--as', ALEX);
    expect(joiner.code, joiner.stderr).toBe(0);
    expect(joiner.stdout).toContain('Joined from RXX: same address, same mailbox.');
    expect(joiner.stdout).toContain(`${JANE}: active, Southville Community NHS Trust (RYY)`);

    const status = await nhsmailJson<AccountJson>('status', JANE);
    expect(status).toMatchObject({
      address: JANE,
      status: 'active',
      org: 'RYY',
      kind: 'person',
      name: 'Jane Doe',
      graceExpiresAt: null,
    });
    expect(status.lastActivityAt).toMatch(ISO_INSTANT);
    // Joining restarts the activity clock: later than the first login.
    expect(Date.parse(status.lastActivityAt ?? '')).toBeGreaterThan(Date.parse(active.firstLoginAt ?? ''));

    const audit = await nhsmailJson<AuditJson[]>('audit', JANE);
    expect(Array.isArray(audit)).toBe(true);
    expect(audit.map((r) => [r.action, r.from, r.to, r.actor])).toEqual([
      ['provision', null, 'pending', 'operator'],
      ['first-login', 'pending', 'active', 'operator'],
      ['leaver', 'active', 'leaver', 'operator'],
      ['joiner', 'leaver', 'active', ALEX],
    ]);
    for (const row of audit) {
      expect(row.platform).toBe('cli');
      expect(row.at).toMatch(ISO_INSTANT);
      expect(row).toHaveProperty('reason');
      expect(row.reason === null || typeof row.reason === 'string').toBe(true);
    }
    const times = audit.map((r) => Date.parse(r.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(audit[1]?.at).toBe(active.firstLoginAt);
    expect(audit[3]?.at).toBe(status.lastActivityAt);
  }, 120_000);

  it('exits 1 with the rule on stderr when a rule or a permission refuses, and changes nothing', async () => {
    const before = await everyTableAsText(database());

    const notLeaver = await nhsmail('joiner', JANE, '--org', 'RXX');
    expect(notLeaver.code).toBe(1);
    expect(notLeaver.stdout).toBe('');
    expect(notLeaver.stderr).toMatch(/^Refused \(NOT_A_LEAVER\): /);
    expect(notLeaver.stderr).toContain(`leaver ${JANE}`);

    const stranger = await nhsmail('--as', 'someone@nhs.net', 'leaver', JANE);
    expect(stranger.code).toBe(1);
    expect(stranger.stdout).toBe('');
    expect(stranger.stderr).toMatch(/^Refused \(NOT_YOUR_ORGANISATION\): /);

    // A refused attempt writes no audit row and changes no state.
    expect(await everyTableAsText(database())).toBe(before);
  }, 60_000);

  it('exits 2 with a helpful message for malformed input, and changes nothing', async () => {
    const before = await everyTableAsText(database());
    const lettersBefore = await readdir(envelopeDir);

    const cases: { args: string[]; code: string; says: string }[] = [
      { args: ['leaver', 'jane.doe@gmail.com'], code: 'NOT_NHS_NET', says: '@nhs.net address' },
      {
        args: ['org', 'add', '--ods', 'R-X', '--name', 'Bad Trust', '--kind', 'trust'],
        code: 'INVALID_ODS',
        says: 'ODS codes are 3 to 6 letters and digits',
      },
      { args: ['leaverr', JANE], code: 'UNKNOWN_COMMAND', says: 'Did you mean "leaver"?' },
      {
        args: ['provision', '--given', 'John', '--family', 'Smith', '--org', 'RXX', '--dob', '2025-02-30'],
        code: 'INVALID_DATE',
        says: 'that day does not exist',
      },
      { args: ['status', JANE, '--now', '2025-02-30'], code: 'INVALID_DATE', says: 'does not exist' },
      // Issue 12: an unknown help topic was exit 70 with a stack trace; an empty --as ran as the
      // operator; --now= was ignored; a repeated --as quietly took the last.
      { args: ['help', 'nosuchtopic'], code: 'UNKNOWN_COMMAND', says: '"nosuchtopic" is not a command' },
      { args: ['leaver', JANE, '--as', ''], code: 'BAD_OPTION', says: '--as needs a value' },
      { args: ['leaver', JANE, '--as='], code: 'BAD_OPTION', says: '--as needs a value' },
      { args: ['sweep', '--now='], code: 'BAD_OPTION', says: '--now needs a value' },
      {
        args: ['leaver', JANE, '--as', 'a.b@nhs.net', '--as', 'c.d@nhs.net'],
        code: 'BAD_OPTION',
        says: '--as was given twice',
      },
    ];
    const results = await Promise.all(cases.map((c) => nhsmail(...c.args)));
    results.forEach((result, i) => {
      const c = cases[i];
      if (!c) throw new Error('case missing');
      expect(result.code, `${c.args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(new RegExp(`^Invalid \\(${c.code}\\): `));
      expect(result.stderr).toContain(c.says);
    });

    // With --json the error is machine-readable, still on stderr.
    const json = await nhsmail('joiner', JANE, '--org', '12', '--json');
    expect(json.code).toBe(2);
    expect(json.stdout).toBe('');
    const body = JSON.parse(json.stderr) as { error?: { code?: string; message?: string } };
    expect(body.error?.code).toBe('INVALID_ODS');
    expect(body.error?.message).toContain('ODS');

    expect(await everyTableAsText(database())).toBe(before);
    expect(await readdir(envelopeDir)).toEqual(lettersBefore);
  }, 60_000);

  it('--now sets the clock: a leaver marked then has its grace window counted from then', async () => {
    // A whole second, five days ahead of the real clock: clearly not "now".
    const then = new Date(Math.floor(Date.now() / 1000) * 1000 + 5 * DAY_MS);
    const marked = await nhsmailJson<AccountJson>('leaver', JANE, '--now', then.toISOString());
    expect(marked.status).toBe('leaver');
    const graceEnds = new Date(then.getTime() + 30 * DAY_MS).toISOString();
    expect(marked.graceExpiresAt).toBe(graceEnds);

    const later = new Date(then.getTime() + DAY_MS).toISOString();
    const status = await nhsmailJson<AccountJson>('status', JANE, '--now', later);
    expect(status).toMatchObject({ address: JANE, status: 'leaver', org: 'RYY', graceExpiresAt: graceEnds });

    const [last] = await queryRows<{ at: Date | string; action: string }>(
      database().db,
      sql`select at, action from audit_log where address = ${JANE} order by id desc limit 1`,
    );
    expect(last?.action).toBe('leaver');
    expect(new Date(last?.at ?? 0).toISOString()).toBe(then.toISOString());
  }, 60_000);

  it('writes the temporary password to the letter only: no table, no CLI output', async () => {
    const letter = pdfText(await readFile(join(envelopeDir, 'jane.doe-day1-letter.pdf')));
    const password = /Temporary password:\s+(\S+)/.exec(letter.text)?.[1];
    expect(password).toBeDefined();
    if (!password) return;
    expect(password.length).toBeGreaterThanOrEqual(8);

    const everything = await everyTableAsText(database());
    expect(everything).toContain(JANE); // the dump really holds the data
    expect(everything).not.toContain(password);
    expect(printed.length).toBeGreaterThan(10);
    for (const output of printed) expect(output).not.toContain(password);
  }, 30_000);

  it('exports the audit entries of a range of days as CSV, on stdout or to an owner-only file', async () => {
    // Entries around 10 and 11 March 2025 (GMT, so London days are UTC days), written out of order.
    await database()
      .db.insert(auditLog)
      .values(
        [
          ['2025-03-11T18:00:00.000Z', '=HYPERLINK("http://evil.example","click")'],
          ['2025-03-09T23:59:59.999Z', 'the day before'],
          ['2025-03-10T00:00:00.000Z', 'Smith, Jones "and" Partners\nsecond line'],
          ['2025-03-12T00:00:00.000Z', 'the day after'],
        ].map(([at, reason]) => ({
          at: new Date(at ?? ''),
          actor: 'operator',
          platform: 'cli' as const,
          action: 'note',
          address: JANE,
          reason,
        })),
      );
    const range = ['export', 'audit', '--from', '2025-03-10', '--to', '2025-03-11'];

    const streamed = await nhsmail(...range);
    expect(streamed.code, streamed.stderr).toBe(0);
    expect(streamed.stderr).toBe('');
    expect(
      streamed.stdout.startsWith('\uFEFFat,actor,platform,action,address,org,from,to,reason,details\r\n'),
    ).toBe(true);
    expect(streamed.stdout).toContain(`,"'=HYPERLINK(""http://evil.example"",""click"")",`);
    const rows = parse(streamed.stdout, { bom: true, columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => [r.at, r.address, r.action, r.reason])).toEqual([
      ['2025-03-10T00:00:00.000Z', JANE, 'note', 'Smith, Jones "and" Partners\nsecond line'],
      ['2025-03-11T18:00:00.000Z', JANE, 'note', `'=HYPERLINK("http://evil.example","click")`],
    ]);

    const file = join(tmp, 'dspt-audit-march.csv');
    const written = await nhsmail(...range, '--out', file);
    expect(written.code, written.stderr).toBe(0);
    expect(written.stdout).toBe(
      `Wrote 2 audit entries of 2025-03-10 to 2025-03-11 (London days: 2025-03-10T00:00:00.000Z to 2025-03-12T00:00:00.000Z) to ${file}.\n`,
    );
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toBe(streamed.stdout);

    const backwards = await nhsmail('export', 'audit', '--from', '2025-03-12', '--to', '2025-03-11');
    expect(backwards.code).toBe(2);
    expect(backwards.stdout).toBe('');
    expect(backwards.stderr).toMatch(
      /^Invalid \(INVALID_RANGE\): --from 2025-03-12 is after --to 2025-03-11/,
    );
  }, 60_000);

  it('imports organisations from an ODS extract (kind known by its name), after a dry run', async () => {
    // The fixture: NHS trusts in ODS's layout, CRLF, every field quoted; a path relative to the CLI's directory.
    const etr = 'test/fixtures/ods/etr.csv';
    const orgs = () =>
      queryRows<{ ods: string; name: string }>(
        database().db,
        sql`select ods, name from organisations order by ods`,
      );
    const before = await orgs();

    const dry = await nhsmailJson<{ dryRun: boolean; added: number; rows: number }>(
      'import',
      'orgs',
      etr,
      '--dry-run',
    );
    expect(dry).toMatchObject({ dryRun: true, rows: 12, added: 4 });
    expect(await orgs()).toEqual(before);

    const imported = await nhsmail('import', 'orgs', etr);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toBe('');
    const lines = imported.stdout.split('\n');
    expect(lines[0]).toBe('Read 12 trust row(s): added 4, renamed 1, unchanged 1, closed 2, rejected 4.');
    expect(lines).toContain(
      '  row 2: RYY "Southville Community NHS Trust" → "SOUTHVILLE COMMUNITY HEALTH NHS TRUST"',
    );
    expect(lines).toContain('  row 4: RQQ OLDTOWN HEALTHCARE NHS TRUST closed on 2020-03-31: not added');
    expect(lines.some((l) => /^ {2}row 5: rejected: "R-1" is not an ODS code/.test(l))).toBe(true);
    const after = await orgs();
    expect(after.find((o) => o.ods === 'RZZ')?.name).toBe('EASTBY, WESTBY AND DISTRICT NHS FOUNDATION TRUST');
    expect(after.find((o) => o.ods === 'RXX')?.name).toBe('Northtown Hospitals NHS Trust');
    expect(after.some((o) => o.ods === 'RQQ')).toBe(false);

    const unknown = await nhsmail('import', 'orgs', 'test/fixtures/ods/trusts.csv');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^Invalid \(MISSING_OPTION\): --kind is required/);
  }, 60_000);

  it('registers a care home at Approaching Standards with its CQC location ID, which site show --json gives', async () => {
    const home = ['site', 'register', '--ods', 'VN4J1', '--kind', 'care-home', '--name', 'Rose Care Home'];
    const owner = ['--owner-given', 'Rita', '--owner-family', 'Rowe', '--owner-delivery', 'envelope'];
    const before = await everyTableAsText(database());
    const missing = await nhsmail(...home, '--dspt', 'approaching-standards', ...owner);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^Invalid \(CQC_LOCATION_REQUIRED\): .*--cqc-location, "1-" then digits/);
    const low = await nhsmail(
      ...home,
      '--dspt',
      'standards-not-met',
      '--cqc-location',
      '1-101661355',
      ...owner,
    );
    expect(low.code).toBe(1);
    expect(low.stderr).toMatch(/^Refused \(DSPT_TOO_LOW\): .*care-home sites need Approaching Standards/);
    expect(await everyTableAsText(database())).toBe(before);

    const registered = await nhsmail(
      ...home,
      '--dspt',
      'approaching-standards',
      '--cqc-location',
      '1-101661355',
      ...owner,
    );
    expect(registered.code, registered.stderr).toBe(0);
    expect(registered.stdout).toContain(
      'Registered Rose Care Home (VN4J1), care-home, CQC location 1-101661355.',
    );
    const shown = await nhsmailJson<{ site: { cqcLocation: string | null }; canRequestAccounts: boolean }>(
      'site',
      'show',
      'VN4J1',
    );
    expect(shown).toMatchObject({ site: { cqcLocation: '1-101661355' }, canRequestAccounts: true });
  }, 60_000);
});
