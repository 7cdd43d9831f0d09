import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  childEnv,
  killLeftoverChildren,
  projectRoot,
  runCliProcess,
  trackChild,
} from '../support/processes.js';

const fixture = (name: string) => path.join(import.meta.dirname, '..', 'fixtures', 'hr', name);
const NOW = ['--now', '2026-11-23T09:00:00Z'];

/**
 * `import starters` / `import leavers` through the real CLI, on the embedded database. Each CLI
 * call is a process that opens PGlite (several seconds on a busy two-core machine), and a test
 * makes up to five: the time allowed is for that, not a measure of anything.
 */
describe('HR imports on the command line', { timeout: 120_000 }, () => {
  let dataDir = '';
  const env = () => ({ DATA_DIR: dataDir });
  const cli = (...args: string[]) => runCliProcess(args, env(), 120_000);

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'nhsmail-hr-cli-'));
    for (const ods of ['RXX', 'RYY']) {
      expect((await cli('org', 'add', '--ods', ods, '--name', `Trust ${ods}`, '--kind', 'trust')).code).toBe(
        0,
      );
    }
    const dev = await cli(
      'provision',
      '--given',
      'Devendra',
      '--family',
      'Patel',
      '--org',
      'RYY',
      '--reg',
      'GMC:7654321',
      '--delivery',
      'envelope',
    );
    expect(dev.code).toBe(0);
  }, 120_000);
  afterEach(() => killLeftoverChildren());
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses a file that is not the documented layout with exit 2, and a missing file too', async () => {
    const wrong = await cli('import', 'starters', fixture('starters-wrong-layout.csv'));
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('Invalid (FILE_LAYOUT)');
    const missing = await cli('import', 'starters', fixture('no-such-file.csv'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('FILE_NOT_READABLE');
  });

  it('reports a dry run without changing anything, and draws no progress bar when piped', async () => {
    const dry = await cli('import', 'starters', fixture('starters-messy.csv'), '--dry-run', ...NOW);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(
      'Dry run (nothing changed): would import 7 rows of starters: 2 to create now, 1 scheduled',
    );
    expect(dry.stderr).not.toContain('Importing');
    const status = await cli('status', 'ada.okafor@nhs.net');
    expect(status.code).toBe(1);
  });

  it('imports with --json: created, scheduled, duplicates and errors; exit 0 with rejected rows', async () => {
    const run = await cli('import', 'starters', fixture('starters-messy.csv'), '--json', ...NOW);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ rows: 7, created: 2, scheduled: 1, existing: 1 });
    expect(report.duplicates).toEqual([
      { row: 5, employeeNumber: 'E1004', address: 'devendra.patel@nhs.net' },
    ]);
    expect((report.errors as Array<{ row: number }>).map((e) => e.row)).toEqual([4, 7]);
    const again = JSON.parse(
      (await cli('import', 'starters', fixture('starters-messy.csv'), '--json', ...NOW)).stdout,
    );
    expect(again).toMatchObject({ created: 0, scheduled: 0, existing: 4 });
  });

  it('provisions the scheduled starter when the clock reaches its day, once', async () => {
    const before = await cli('sweep', '--now', '2026-12-29T23:00:00Z');
    expect(before.stdout).toContain('HR starters provisioned on their day: 0');
    const day = await cli('sweep', '--now', '2026-12-30T05:00:00Z');
    expect(day.stdout).toContain('HR starters provisioned on their day: 1');
    const again = await cli('sweep', '--now', '2026-12-30T06:00:00Z');
    expect(again.stdout).toContain('HR starters provisioned on their day: 0');
    expect((await cli('status', 'ben.hughes@nhs.net', '--now', '2026-12-30T06:00:00Z')).stdout).toContain(
      'ben.hughes@nhs.net: pending',
    );
  });

  it('schedules a leaver shown by status, and marks them on the day, once', async () => {
    // The sweeps above ran on 30 December: Gus, made on 23 November and never signed in, lapsed
    // to inactive after 30 days (PENDING_DAYS). Brought back, he is active and can leave.
    const back = '2026-12-30T07:00:00Z';
    expect((await cli('reactivate', 'gus.ward@nhs.net', '--now', back)).stdout).toContain('Reactivated');
    const file = path.join(dataDir, 'leavers.csv');
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(file, '\ufeffEmployee_Number,Leaving_Date\r\nE2001,2027-01-10\r\n\r\n'),
    );
    const run = await cli('import', 'leavers', file, '--now', back);
    expect(run.stdout).toContain('Imported 1 row of leavers: 0 marked as leavers now, 1 scheduled');
    expect((await cli('status', 'gus.ward@nhs.net', '--now', back)).stdout).toContain(
      'Leaving on 2027-01-10 (HR feed)',
    );
    expect((await cli('sweep', '--now', '2027-01-10T05:00:00Z')).stdout).toContain(
      'HR leavers marked on their leaving date: 1',
    );
    expect((await cli('sweep', '--now', '2027-01-10T06:00:00Z')).stdout).toContain(
      'HR leavers marked on their leaving date: 0',
    );
    expect((await cli('status', 'gus.ward@nhs.net', '--now', '2027-01-10T06:00:00Z')).stdout).toContain(
      'gus.ward@nhs.net: leaver',
    );
  });

  it('draws a progress bar on an interactive terminal', async () => {
    // `script` gives the CLI a pseudo-terminal, as an operator's shell would.
    const command = [process.execPath, '--import', 'tsx', 'adapters/cli/main.ts', 'import', 'starters']
      .concat([fixture('starters-messy.csv'), '--dry-run'])
      .map((a) => `'${a}'`)
      .join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: projectRoot,
      env: childEnv(env()),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(child);
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code).toBe(0);
    expect(out).toContain('Importing');
    expect(out).toMatch(/100% \| 7 rows/);
  });
});
