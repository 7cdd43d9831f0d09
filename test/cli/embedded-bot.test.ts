import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBot, startBot } from '../../adapters/server/main.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { pdfText } from '../support/pdf-text.js';
import {
  childEnv,
  killLeftoverChildren,
  type ProcessResult,
  runCliProcess,
  trackChild,
} from '../support/processes.js';

/**
 * The embedded-database path: no DATABASE_URL, so the bot keeps PGlite in DATA_DIR and owns it.
 * While it runs, the CLI (a separate process) must hand its commands to the bot over the Unix
 * socket in DATA_DIR; once it stops, the CLI opens the same data itself.
 */

interface AccountJson {
  address: string;
  status: string;
  org: string;
  kind: string;
  graceExpiresAt: string | null;
}

const SAM = 'sam.lee@nhs.net';
const DAY_MS = 24 * 3600 * 1000;

describe('bot on the embedded database, with the operator CLI beside it', () => {
  let tmp = '';
  let dataDir = '';
  let bot: RunningBot | undefined;
  /** When the leaver was marked (through the bot), so later runs can check the same grace window. */
  const markedAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 2 * DAY_MS);
  const graceEnds = new Date(markedAt.getTime() + 30 * DAY_MS).toISOString();

  const cli = (...args: string[]): Promise<ProcessResult> =>
    runCliProcess(args, { DATA_DIR: dataDir }, 60_000);

  async function cliJson<T>(...args: string[]): Promise<T> {
    const result = await cli(...args, '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout) as T;
  }

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'nhsmail-embedded-'));
    dataDir = join(tmp, 'data');
  });

  afterAll(async () => {
    killLeftoverChildren();
    await bot?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('serves health checks and the CLI while it holds the database, which persists after it stops', async () => {
    bot = await startBot(
      loadConfig({ DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent' }),
      createLogger({ level: 'silent' }),
    );
    expect(bot.port).toBeGreaterThan(0);

    const health = await fetch(`http://127.0.0.1:${bot.port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`http://127.0.0.1:${bot.port}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', database: 'pglite' });

    // The bot holds the embedded database's lock and listens on the operator socket, so a CLI
    // that succeeds now can only have been served by the bot: it could not open PGlite itself.
    expect(existsSync(join(dataDir, 'nhsmail.sock'))).toBe(true);
    expect(existsSync(join(dataDir, 'pglite.lock'))).toBe(true);

    const org = await cli(
      'org',
      'add',
      '--ods',
      'RXX',
      '--name',
      'Northtown Hospitals NHS Trust',
      '--kind',
      'trust',
    );
    expect(org.code, org.stderr).toBe(0);
    expect(org.stdout).toBe('Added Northtown Hospitals NHS Trust (RXX), trust.\n');
    expect(org.stderr).toBe('');

    const made = await cli(
      'provision',
      '--given',
      'Sam',
      '--family',
      'Lee',
      '--org',
      'RXX',
      '--delivery',
      'envelope',
    );
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toContain(`Created ${SAM} (pending) in Northtown Hospitals NHS Trust (RXX).`);
    const letter = pdfText(await readFile(join(dataDir, 'envelopes', 'sam.lee-day1-letter.pdf')));
    expect(letter.runs).toContain(SAM);
    expect(letter.text).toMatch(/Temporary password:\s+\S{16}\n/);

    const pending = await cliJson<AccountJson>('status', SAM);
    expect(pending).toMatchObject({ address: SAM, status: 'pending', org: 'RXX', kind: 'person' });

    // --as and --now travel over the socket too: a stranger is refused, and the operator's
    // leaver is stamped with the time it was given.
    const stranger = await cli('--as', 'someone@nhs.net', 'leaver', SAM);
    expect(stranger.code).toBe(1);
    expect(stranger.stdout).toBe('');
    expect(stranger.stderr).toMatch(/^Refused \(NOT_YOUR_ORGANISATION\): /);

    const marked = await cliJson<AccountJson>('leaver', SAM, '--now', markedAt.toISOString());
    expect(marked).toMatchObject({ address: SAM, status: 'leaver', graceExpiresAt: graceEnds });

    // An audit export streams through the socket as CSV; with --out, the bot writes the file.
    const londonDay = (when: Date) =>
      new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(when);
    const range = ['--from', londonDay(new Date(Date.now() - DAY_MS)), '--to', londonDay(markedAt)];
    const exported = await cli('export', 'audit', ...range);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toBe('');
    const rows = parse(exported.stdout, { bom: true, columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => [r.action, r.address, r.to])).toEqual([
      ['org-add', '', ''],
      ['provision', SAM, 'pending'],
      ['leaver', SAM, 'leaver'],
    ]);
    const file = join(tmp, 'audit.csv');
    const written = await cli('export', 'audit', ...range, '--out', file);
    expect(written.code, written.stderr).toBe(0);
    expect(written.stdout).toMatch(new RegExp(`^Wrote 3 audit entries of .* to ${file}\\.\n$`));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toBe(exported.stdout);

    const stillReady = await fetch(`http://127.0.0.1:${bot.port}/readyz`);
    expect(stillReady.status).toBe(200);
    await stillReady.body?.cancel();

    await bot.stop();
    bot = undefined;

    // No bot now: the CLI opens DATA_DIR's PGlite itself and finds what the bot stored.
    const after = await cliJson<AccountJson>('status', SAM);
    expect(after).toMatchObject({
      address: SAM,
      status: 'leaver',
      org: 'RXX',
      kind: 'person',
      graceExpiresAt: graceEnds,
    });
  }, 180_000);

  it('opens the database itself when a dead bot left its socket file behind', async () => {
    const socketPath = join(dataDir, 'nhsmail.sock');
    // A process that listens on the socket and is then killed outright leaves the file, with
    // nobody listening: what a crashed bot leaves.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        "require('node:net').createServer().listen(process.env.SOCKET_PATH, () => process.stdout.write('listening\\n'))",
      ],
      { env: childEnv({ SOCKET_PATH: socketPath }), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    trackChild(holder);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('socket holder did not start within 10 s')), 10_000);
      holder.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        if (chunk.includes('listening')) {
          clearTimeout(timer);
          resolve();
        }
      });
      holder.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`socket holder exited early (${code})`));
      });
    });
    const gone = new Promise<void>((resolve) => holder.once('close', () => resolve()));
    holder.kill('SIGKILL');
    await gone;
    expect(existsSync(socketPath)).toBe(true);

    const status = await cliJson<AccountJson>('status', SAM);
    expect(status).toMatchObject({ address: SAM, status: 'leaver', org: 'RXX', graceExpiresAt: graceEnds });
  }, 120_000);
});
