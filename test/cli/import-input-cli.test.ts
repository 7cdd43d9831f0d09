import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchPostgresDatabase, type ScratchDatabase } from '../support/postgres-scratch.js';
import { killLeftoverChildren, type ProcessResult, runCliProcess } from '../support/processes.js';

/**
 * What an import is given, through the real CLI process (issue 12): an empty file or one line of
 * something else was imported as "0 rows" with exit 0; a file that stopped being CSV part-way was
 * refused with exit 2 after the rows before the bad line were applied; a named pipe made the
 * import wait for ever. Each is now exit 2 with what to do, and nothing applied.
 */

const NOW = ['--now', '2026-11-23T09:00:00Z'];
const STARTERS_HEADER =
  'employee_number,given_name,family_name,date_of_birth,mobile,org_ods,start_date,delivery\n';

describe('import input on the command line', { timeout: 180_000 }, () => {
  let tmp = '';
  let scratch: ScratchDatabase | undefined;
  const env = () => ({
    DATABASE_URL: scratch?.url ?? '',
    DATA_DIR: join(tmp, 'data'),
    ENVELOPE_DIR: join(tmp, 'letters'),
  });
  const cli = (...args: string[]) => runCliProcess(args, env(), 60_000);
  const file = async (name: string, text: string) => {
    const path = join(tmp, name);
    await writeFile(path, text);
    return path;
  };
  /** Exit 2, nothing on stdout, one `Invalid (CODE): …` line on stderr. */
  const expectRefused = (result: ProcessResult, code: string, says: RegExp) => {
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`^Invalid \\(${code}\\): [^\\n]+\\n$`));
    expect(result.stderr).toMatch(says);
  };

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'nhsmail-import-input-'));
    scratch = await createScratchPostgresDatabase();
    const org = await cli('org', 'add', '--ods', 'RXX', '--name', 'Northtown Hospitals', '--kind', 'trust');
    expect(org.code, org.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    killLeftoverChildren();
    await scratch?.drop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('refuses an empty file for every import, saying what the first line should be', async () => {
    const empty = await file('empty.csv', '');
    const cases: Array<[string[], RegExp]> = [
      [
        ['import', 'starters', empty],
        /"[^"]*empty\.csv" is empty: expected a header line naming the columns/,
      ],
      [['import', 'leavers', empty], /"[^"]*empty\.csv" is empty: expected a header line naming the columns/],
      [
        ['import', 'activity', empty],
        /"[^"]*empty\.csv" is empty: expected a header line with an address column/,
      ],
      [['import', 'orgs', empty, '--kind', 'trust'], /"empty\.csv" is empty: expected ODS rows/],
    ];
    for (const [args, says] of cases) expectRefused(await cli(...args), 'FILE_EMPTY', says);
  });

  it('refuses one line that is not a report, and /dev/null, which is no file at all', async () => {
    const line = await file('note.txt', 'please find attached the extract\n');
    expectRefused(await cli('import', 'starters', line), 'FILE_LAYOUT', /header row has no employee_number/);
    expectRefused(await cli('import', 'activity', line), 'INVALID_REPORT', /needs an address column/);
    expectRefused(
      await cli('import', 'orgs', line, '--kind', 'trust'),
      'INVALID_FILE',
      /"note\.txt" is not an ODS extract: its first row \(line 1\) has 1 column/,
    );
    expectRefused(
      await cli('import', 'leavers', '/dev/null'),
      'NOT_A_FILE',
      /^Invalid \(NOT_A_FILE\): "\/dev\/null" is not a regular file .*give the path of HR's CSV file/,
    );
  });

  it('takes a header alone, in the right layout, as a file of no rows (exit 0)', async () => {
    const result = await cli('import', 'starters', await file('header.csv', STARTERS_HEADER), ...NOW);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Imported 0 rows of starters/);
  });

  it('applies nothing from a file that stops being CSV part-way, and names the line', async () => {
    // Due now (start date within five days of --now): each good row would make an account.
    const csv = `${STARTERS_HEADER}E8001,Ada,Tailor,1990-01-01,,RXX,2026-11-25,envelope\nE8002,Ben,Tailor,1991-02-02,,RXX,2026-11-25,envelope\n"E8003,Cy,Tailor,1992-03-03,,RXX,2026-11-25,envelope\n`;
    const result = await cli('import', 'starters', await file('broken.csv', csv), ...NOW);
    expectRefused(
      result,
      'FILE_LAYOUT',
      /could not be read as CSV \(Quote Not Closed: .* at line 4\)\. .*Nothing was imported\.$/m,
    );
    const ada = await cli('status', 'ada.tailor@nhs.net', ...NOW);
    expect(ada.code).toBe(1);
    expect(ada.stderr).toMatch(/NOT_FOUND/);
    await expect(readdir(join(tmp, 'letters'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses a named pipe at once instead of waiting for a writer that never comes', async () => {
    const fifo = join(tmp, 'hr.fifo');
    execFileSync('mkfifo', [fifo]);
    for (const args of [
      ['import', 'starters', fifo],
      ['import', 'activity', fifo],
      ['import', 'orgs', fifo, '--kind', 'trust'],
    ]) {
      expectRefused(await cli(...args), 'NOT_A_FILE', /"[^"]*hr\.fifo" is not a regular file/);
    }
  });
  it('never replays terminal escape sequences from a cell to the operator’s terminal', async () => {
    // A title-setting OSC, a colour change, a bell and a right-to-left override, in the cells an
    // import echoes when it rejects a row (and in an activity report's address column).
    const hostile = '\u001b]0;owned\u0007\u001b[31mRED\u202eevil';
    const starters = await file(
      'escapes-starters.csv',
      `${STARTERS_HEADER}E1,Ada${hostile},Okafor,1990-01-01,,RXX,2026-12-01,envelope\nE2,Ben,Hughes,${hostile},,RXX,2026-12-01,envelope\n`,
    );
    const activity = await file(
      'escapes-activity.csv',
      `Email Address,Last Logon Time\n${hostile}@nhs.net,01/11/2026\n`,
    );
    for (const args of [
      ['import', 'starters', starters, '--dry-run', ...NOW],
      ['import', 'activity', activity, ...NOW],
    ]) {
      const result = await cli(...args);
      const shown = result.stdout + result.stderr;
      expect(shown, shown).toContain('\\u001b');
      // No ESC, BEL or bidirectional override reaches the terminal as the character itself.
      for (const raw of ['\u0007', '\u001b', '\u202e']) expect(shown).not.toContain(raw);
    }
  });
});
