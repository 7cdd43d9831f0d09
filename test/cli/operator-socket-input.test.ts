import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBot, startBot } from '../../adapters/server/main.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { killLeftoverChildren, runCliProcess } from '../support/processes.js';

/**
 * On the embedded database the running bot opens the files a CLI command names (issue 12): a
 * named pipe held the bot's file threads for ever, so four such imports starved it, and a file it
 * could not write came back to the CLI as "Internal error" with the error's text. Run with the
 * real bot in this process and the real CLI beside it, over the operator socket.
 */
describe('what the running bot is given to read and write, over the operator socket', {
  timeout: 180_000,
}, () => {
  let tmp = '';
  let dataDir = '';
  let fifo = '';
  let bot: RunningBot | undefined;
  const cli = (...args: string[]) => runCliProcess(args, { DATA_DIR: dataDir }, 60_000);

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'nhsmail-socket-input-'));
    dataDir = join(tmp, 'data');
    fifo = join(tmp, 'starters.fifo');
    execFileSync('mkfifo', [fifo]);
    bot = await startBot(
      loadConfig({ DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent', SWEEP_CATCH_UP: 'false' }),
      createLogger({ level: 'silent' }),
    );
  }, 120_000);
  afterAll(async () => {
    killLeftoverChildren();
    releasePipeReaders(fifo);
    await bot?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('refuses named pipes at once, and is still serving after more of them than it has file threads', async () => {
    const imports = await Promise.all(
      [
        ['import', 'starters', fifo],
        ['import', 'leavers', fifo],
        ['import', 'activity', fifo],
        ['import', 'orgs', fifo, '--kind', 'trust'],
        ['import', 'starters', fifo, '--dry-run'],
      ].map((args) => cli(...args)),
    );
    for (const result of imports) {
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/^Invalid \(NOT_A_FILE\): "[^"]*starters\.fifo" is not a regular file/);
    }
    const served = await cli(
      'org',
      'add',
      '--ods',
      'RXX',
      '--name',
      'Northtown Hospitals',
      '--kind',
      'trust',
    );
    expect(served.code, served.stderr).toBe(0);
    const ready = await fetch(`http://127.0.0.1:${bot?.port}/readyz`);
    expect(ready.status).toBe(200);
    await ready.body?.cancel();
  });

  it('refuses an empty file, as the CLI on its own would', async () => {
    const empty = join(tmp, 'empty.csv');
    await writeFile(empty, '');
    const result = await cli('import', 'leavers', empty);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(
      /^Invalid \(FILE_EMPTY\): "[^"]*empty\.csv" is empty: expected a header line/,
    );
  });

  it('tells a file it cannot write as exit 3 in one line, without a stack', async () => {
    const dir = join(tmp, 'reports');
    await mkdir(dir);
    const result = await cli('export', 'audit', '--from', '2026-11-01', '--to', '2026-11-30', '--out', dir);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^Failed: "[^"]*reports" could not be written \(EISDIR: it is a directory\)[^\n]*\n$/,
    );
    expect(await readdir(dir)).toEqual([]);
  });
});

/**
 * A reader stuck opening a named pipe (the old behaviour) waits for a writer: open one for a
 * moment, so the bot can stop. Without a reader waiting, there is nothing to do (ENXIO).
 */
function releasePipeReaders(path: string): void {
  if (!path) return;
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // No reader waiting.
  }
}
