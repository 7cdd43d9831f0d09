import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DataDirError, openRuntime } from '../../adapters/runtime.js';
import { startFailure } from '../../adapters/server/main.js';
import { loadConfig } from '../../src/config.js';
import { describeError } from '../../src/safe-errors.js';
import { BotProcess, get, until } from '../support/bot-child.js';
import { killLeftoverChildren, runNodeScript } from '../support/processes.js';

const dirs: string[] = [];
const scratchDir = async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-disk-'));
  dirs.push(dir);
  return dir;
};

/** A DATA_DIR whose embedded database cannot be made: a file stands where PGlite needs a directory. */
async function brokenDataDir(): Promise<string> {
  const dir = await scratchDir();
  mkdirSync(path.join(dir, 'pglite'));
  writeFileSync(path.join(dir, 'pglite', 'base'), 'not a directory');
  return dir;
}

afterEach(() => killLeftoverChildren());
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/**
 * PGlite throws its file system's failures as bare objects, `{ name: 'ErrnoError', errno: 54 }`:
 * no message, not an Error. A bot that cannot start on its DATA_DIR says why in words (issue 12).
 */
const CHECK =
  'Check that DATA_DIR is a directory this user may write to (or set DATABASE_URL to use PostgreSQL).';

describe('a DATA_DIR the embedded database cannot use', { timeout: 120_000 }, () => {
  it('PGlite’s own error object is named by its errno', async () => {
    const dir = await brokenDataDir();
    const thrown = await PGlite.create(path.join(dir, 'pglite')).then(
      (db) => db.close().then(() => null),
      (e: unknown) => e,
    );
    expect(thrown).not.toBeInstanceOf(Error);
    expect(thrown).toMatchObject({ name: 'ErrnoError', errno: 54 });
    expect(describeError(thrown)).toBe('ErrnoError: ENOTDIR: not a directory');
  });

  it('openRuntime says which directory and what failed; startFailure prints that', async () => {
    const dir = await brokenDataDir();
    const err = await openRuntime(loadConfig({ DATA_DIR: dir })).then(
      (runtime) => runtime.close().then(() => null),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DataDirError);
    expect(startFailure(err)).toBe(
      `The embedded database could not use DATA_DIR ${dir} (ENOTDIR: not a directory). ${CHECK}`,
    );
    expect(startFailure({ name: 'ErrnoError', errno: 51 })).toBe(
      'ErrnoError: ENOSPC: no space left on device',
    );
    // DATA_DIR itself a file: Node's error, said the same way.
    const file = path.join(await scratchDir(), 'data');
    writeFileSync(file, 'not a directory');
    const notDir = await openRuntime(loadConfig({ DATA_DIR: file })).then(
      (runtime) => runtime.close().then(() => null),
      (e: unknown) => e,
    );
    expect(startFailure(notDir)).toMatch(
      new RegExp(
        `^The embedded database could not use DATA_DIR ${file} \\((EEXIST: file exists|ENOTDIR: not a directory)\\)\\. Check that DATA_DIR`,
      ),
    );
  });

  it('the bot process exits 1 with that line, not "[object Object]"', async () => {
    const dir = await brokenDataDir();
    const run = await runNodeScript('adapters/server/main.ts', [], { DATA_DIR: dir, PORT: '0' }, 90_000);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `nhsmail-bot failed to start: The embedded database could not use DATA_DIR ${dir} (ENOTDIR: not a directory). ${CHECK}`,
    );
    expect(run.stderr).not.toContain('[object Object]');
  });
});

/**
 * A small file system to fill, without root: a tmpfs mounted in a private mount namespace of a
 * user namespace (`unshare -rm`), which vanishes with the process. Where the kernel or the
 * container forbids user namespaces these tests are skipped (and the tests above still run).
 */
function canMountTmpfs(): boolean {
  const probe = spawnSync(
    'unshare',
    ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs "$1"', 'sh', tmpdir()],
    {
      stdio: 'ignore',
    },
  );
  return probe.status === 0;
}
const tmpfs = canMountTmpfs();

/** Runs the bot with DATA_DIR on a tmpfs of `size`, mounted on `dir` for it alone. */
const onTmpfs = (dir: string, size: string) => [
  'unshare',
  '-rm',
  'sh',
  '-c',
  'mount -t tmpfs -o "size=$1" tmpfs "$2" && shift 2 && exec "$@"',
  'sh',
  size,
  dir,
];

describe.skipIf(!tmpfs)('a full disk under the embedded database (tmpfs)', { timeout: 180_000 }, () => {
  it('a disk too small to start on: the bot says ENOSPC, not "[object Object]"', async () => {
    const dir = await scratchDir();
    const bot = new BotProcess({ DATA_DIR: dir }, onTmpfs(dir, '1m'));
    expect(await bot.exited).toBe(1);
    expect(bot.output).toContain(
      `nhsmail-bot failed to start: The embedded database could not write to DATA_DIR ${dir} (ENOSPC: no space left on device).`,
    );
    expect(bot.output).not.toContain('[object Object]');
  });

  it('a disk that fills while running: the failed write is logged as ENOSPC, /readyz answers 503 until there is room again', async () => {
    const dir = await scratchDir();
    const bot = new BotProcess({ DATA_DIR: dir, SWEEP_CATCH_UP: 'false' }, onTmpfs(dir, '64m'));
    try {
      const port = await bot.port(60_000);
      await until(async () => (await get(port, '/readyz')).status === 200, 90_000);
      // The bot's mount is visible through its own root: fill it from here.
      const filler = path.join(`/proc/${bot.child.pid}/root`, dir, 'filler');
      const handle = await open(filler, 'w');
      try {
        for (;;) await handle.write(Buffer.alloc(1024 * 1024));
      } catch (e) {
        expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        await handle.close();
      }
      // A Teams message: its first write (the record that it was handled) cannot be made.
      await fetch(`http://127.0.0.1:${port}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'message',
          id: '1700000000201',
          channelId: 'msteams',
          from: { id: '29:someone', name: 'Someone' },
          recipient: { id: '28:bot', name: 'NHSmail' },
          conversation: { id: 'a:personal-2', conversationType: 'personal', tenantId: 'tenant-1' },
          serviceUrl: 'http://127.0.0.1:9/',
          text: 'help',
        }),
      });
      await until(() => bot.output.includes('could not write to DATA_DIR: ENOSPC'), 20_000);
      expect(bot.output).toContain('"storage":"ENOSPC"');
      const full = await get(port, '/readyz');
      expect(full.status).toBe(503);
      expect(full.body).toMatchObject({
        status: 'unavailable',
        reason: expect.stringContaining('ENOSPC (no space left on device)'),
      });
      await until(() => bot.output.includes('readiness check failed: the database cannot write to'), 5_000);

      await rm(filler);
      await until(async () => (await get(port, '/readyz')).status === 200, 20_000);
      await until(() => bot.output.includes('readiness check passes again'), 5_000);
    } finally {
      bot.child.kill('SIGTERM');
      await bot.exited;
    }
  });
});
