import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../adapters/cli/main.js';
import { closedPort } from '../support/closed-port.js';
import { createScratchPostgresDatabase, type ScratchDatabase } from '../support/postgres-scratch.js';
import { killLeftoverChildren, type ProcessResult, runCliProcess } from '../support/processes.js';

/**
 * Issue 12: a command that could not run because the machine around the bot failed (the database
 * not reachable, a file not writable) ended with "Internal error: <stack>" and exit 70, as a bug
 * would. Now it is exit 3 and one line, `Failed: …`, saying what to check; exit 70 is left to
 * bugs, also in one line, with the stack only under LOG_LEVEL=debug. Run as the real CLI process.
 */

/** Root writes through any file mode: the cases that rely on permissions cannot be shown as root. */
const asRoot = process.getuid?.() === 0;

/** One line on stderr, `Failed: …`, no stack frames, nothing on stdout, exit 3. */
function expectFailedLine(result: ProcessResult, says: RegExp): void {
  expect(result.code, result.stderr).toBe(3);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^Failed: [^\n]+\n$/);
  expect(result.stderr).toMatch(says);
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

describe('infrastructure failures on the command line (exit 3, one line)', { timeout: 120_000 }, () => {
  let tmp = '';
  let scratch: ScratchDatabase | undefined;
  const onPostgres = (...args: string[]) => {
    if (!scratch) throw new Error('no scratch database');
    return runCliProcess(args, { DATABASE_URL: scratch.url, DATA_DIR: join(tmp, 'unused') }, 60_000);
  };
  const exportTo = (out: string, ...more: string[]) =>
    onPostgres('export', 'audit', '--from', '2026-11-01', '--to', '2026-11-30', '--out', out, ...more);

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'nhsmail-failures-'));
    scratch = await createScratchPostgresDatabase();
  });
  afterAll(async () => {
    killLeftoverChildren();
    await scratch?.drop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('export audit --out a directory: the directory is named, and nothing is left in it', async () => {
    const dir = join(tmp, 'reports');
    await mkdir(dir);
    expectFailedLine(
      await exportTo(dir),
      /^Failed: ".*reports" could not be written \(EISDIR: it is a directory\)/,
    );
    expect(await readdir(dir)).toEqual([]);
    expect((await readdir(tmp)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('export audit --out a path that cannot be written: a missing directory, or under a file', async () => {
    expectFailedLine(
      await exportTo(join(tmp, 'no-such-dir', 'audit.csv')),
      /no-such-dir\/audit\.csv" could not be written \(ENOENT: no such file or directory\).*Give --out a file path/,
    );
    const file = join(tmp, 'a-file');
    await writeFile(file, 'x');
    const json = await exportTo(join(file, 'audit.csv'), '--json');
    expect(json.code).toBe(3);
    expect(json.stdout).toBe('');
    const body = JSON.parse(json.stderr) as { error: { code: string; message: string; cause: string } };
    expect(body.error).toMatchObject({ code: 'INFRASTRUCTURE', cause: 'ENOTDIR' });
    expect(body.error.message).toMatch(/a-file\/audit\.csv" could not be written \(ENOTDIR/);
  });

  it.skipIf(asRoot)(
    'export audit --out a directory this user may not write to (skipped as root, which may write anywhere)',
    async () => {
      const { chmod } = await import('node:fs/promises');
      const locked = join(tmp, 'locked');
      await mkdir(locked);
      await chmod(locked, 0o500);
      expectFailedLine(await exportTo(join(locked, 'audit.csv')), /could not be written \(EACCES/);
    },
  );

  it('PostgreSQL not reachable: which database (without its password) and what to check, at once', async () => {
    const port = await closedPort();
    const result = await runCliProcess(
      ['status', 'jane.doe@nhs.net'],
      {
        DATABASE_URL: `postgres://nhsmail:s3cret-pw@127.0.0.1:${port}/nhsmail`,
        DATA_DIR: join(tmp, 'unused'),
      },
      // Refused at once: the process must end long before this.
      20_000,
    );
    expectFailedLine(
      result,
      new RegExp(
        `^Failed: The database postgres://nhsmail:\\*\\*\\*@127\\.0\\.0\\.1:${port}/nhsmail could not be opened \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)\\. Check that PostgreSQL is running`,
      ),
    );
    expect(result.stderr).not.toContain('s3cret-pw');
  });

  it('a DATA_DIR that cannot be a directory (under a file) for the embedded database', async () => {
    const file = join(tmp, 'not-a-dir');
    await writeFile(file, 'x');
    const result = await runCliProcess(
      ['status', 'jane.doe@nhs.net'],
      { DATA_DIR: join(file, 'data') },
      60_000,
    );
    expectFailedLine(
      result,
      /^Failed: The embedded database could not use DATA_DIR .*not-a-dir\/data \(ENOTDIR: not a directory\)\. Check that DATA_DIR is a directory this user may write to/,
    );
  });

  it.skipIf(asRoot)(
    'a read-only DATA_DIR holding the embedded database (skipped as root, which may write anywhere)',
    async () => {
      const { chmod } = await import('node:fs/promises');
      const dataDir = join(tmp, 'read-only');
      const made = await runCliProcess(['notifications', 'failed'], { DATA_DIR: dataDir }, 60_000);
      expect(made.code, made.stderr).toBe(0);
      await chmod(dataDir, 0o500);
      const result = await runCliProcess(['status', 'jane.doe@nhs.net'], { DATA_DIR: dataDir }, 60_000);
      await chmod(dataDir, 0o700);
      expectFailedLine(result, /^Failed: The embedded database in .*read-only could not be opened \(EACCES/);
    },
  );

  it('sweep --now 9999-12-31: refused as input (exit 2) before any database is opened', async () => {
    const dataDir = join(tmp, 'never-opened');
    const result = await runCliProcess(
      ['sweep', '--now', '9999-12-31T00:00:00Z'],
      { DATA_DIR: dataDir },
      60_000,
    );
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toBe(
      'Invalid (INVALID_TIME): "9999-12-31T00:00:00Z" is outside the years the bot works with: give a --now time from 2000 to 2999.\n',
    );
    await expect(readdir(dataDir)).rejects.toThrow(/ENOENT/);
  });
});

describe('a bug in the bot (exit 70)', { timeout: 60_000 }, () => {
  let scratch: ScratchDatabase | undefined;
  beforeAll(async () => {
    scratch = await createScratchPostgresDatabase();
  });
  afterAll(async () => {
    await scratch?.drop();
  });

  /** `export audit` to an output that fails as no system call would: a stand-in for any bug. */
  async function exportToBrokenOutput(env: Record<string, string>) {
    let stderr = '';
    const out = new Writable({
      write(_chunk, _encoding, done) {
        done(new TypeError('cannot read properties of undefined (reading "row")'));
      },
    });
    const code = await runCli(['export', 'audit', '--from', '2026-11-01', '--to', '2026-11-30'], env, {
      stdout: () => {},
      stderr: (text) => {
        stderr += text;
      },
      out,
    });
    return { code, stderr };
  }

  it('is one line, with the stack only under LOG_LEVEL=debug', async () => {
    const url = scratch?.url ?? '';
    const plain = await exportToBrokenOutput({ DATABASE_URL: url });
    expect(plain.code).toBe(70);
    expect(plain.stderr).toBe(
      'Internal error: TypeError: cannot read properties of undefined (reading "row"). This is a bug in the bot: run the command again with LOG_LEVEL=debug to see where, and report it.\n',
    );
    const debug = await exportToBrokenOutput({ DATABASE_URL: url, LOG_LEVEL: 'debug' });
    expect(debug.code).toBe(70);
    expect(debug.stderr).toMatch(/^Internal error: TypeError: [^\n]+\nTypeError: [^\n]+\n\s+at /);
  });
});
