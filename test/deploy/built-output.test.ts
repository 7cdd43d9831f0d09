import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, killLeftoverChildren, projectRoot, trackChild } from '../support/processes.js';

/**
 * What the container image runs: `npm run build`, then plain `node` on the output (no tsx), with
 * production settings and the embedded database in DATA_DIR. The build goes to its own directory
 * under .tmp/ so it never rewrites dist/ under another process; node_modules is found from there
 * as it is from /app/dist in the image.
 */

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function collect(child: ChildProcess, timeoutMs: number, what: string): Promise<Exit> {
  trackChild(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not exit within ${timeoutMs} ms.\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.js'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** Every module specifier a compiled file imports: static, re-exported, side-effect and dynamic. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s[^'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1] ?? '');
  return found;
}

const packageName = (specifier: string) =>
  specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] ?? '');

describe('the built output, run with plain node as the image runs it', () => {
  const outDir = path.join(projectRoot, '.tmp', `build-${randomBytes(4).toString('hex')}`);
  let dataDir = '';
  let bot: ChildProcess | undefined;
  let botExit: Promise<Exit> | undefined;

  beforeAll(async () => {
    await mkdir(path.dirname(outDir), { recursive: true });
    dataDir = await mkdtemp(path.join(tmpdir(), 'nhsmail-built-'));
    const build = await collect(
      spawn('npm', ['run', 'build', '--', '--out-dir', outDir], {
        cwd: projectRoot,
        env: childEnv({}),
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
      180_000,
      'npm run build',
    );
    expect(build.code, `${build.stdout}\n${build.stderr}`).toBe(0);
  }, 200_000);

  afterAll(async () => {
    killLeftoverChildren();
    await rm(outDir, { recursive: true, force: true });
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('imports only production dependencies, Node built-ins and compiled files that exist', () => {
    const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const allowed = new Set([...Object.keys(pkg.dependencies), ...builtinModules]);
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const file of jsFiles(outDir)) {
      for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
        seen.add(specifier.startsWith('.') ? '(relative)' : packageName(specifier));
        const where = `${path.relative(outDir, file)} imports ${specifier}`;
        if (specifier.startsWith('.')) {
          const target = path.resolve(path.dirname(file), specifier);
          if (!specifier.endsWith('.js') || !existsSync(target))
            problems.push(`${where}: no such built file`);
        } else if (!specifier.startsWith('node:') && !allowed.has(packageName(specifier))) {
          problems.push(`${where}: not a production dependency`);
        }
      }
    }
    expect(problems).toEqual([]);
    // The scan itself works: it saw both database drivers and the compiled files' own imports.
    expect([...seen]).toEqual(expect.arrayContaining(['postgres', '@electric-sql/pglite', '(relative)']));
    expect(existsSync(path.join(outDir, 'db/migrations/meta/_journal.json'))).toBe(true);
  });

  it('starts, answers /readyz and /healthz, serves the CLI, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const env = { NODE_ENV: 'production', PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'info' };
    bot = spawn(process.execPath, [path.join(outDir, 'adapters/server/main.js')], {
      cwd: projectRoot,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    botExit = collect(bot, 120_000, 'the built bot');
    const exited = botExit.then((exit) => {
      throw new Error(`the bot exited early (${exit.code ?? exit.signal}):\n${exit.stdout}\n${exit.stderr}`);
    });

    const ready = async (): Promise<Response> => {
      for (;;) {
        const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null);
        if (response?.status === 200) return response;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    const readiness = await Promise.race([ready(), exited]);
    expect(await readiness.json()).toMatchObject({ status: 'ready', database: 'pglite' });
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);

    // The bot holds the embedded database, so this can only succeed through its operator socket.
    const cli = await collect(
      spawn(
        process.execPath,
        [
          path.join(outDir, 'adapters/cli/main.js'),
          'org',
          'add',
          '--ods',
          'RXX',
          '--name',
          'Northtown Hospitals NHS Trust',
          '--kind',
          'trust',
        ],
        { cwd: projectRoot, env: childEnv({ DATA_DIR: dataDir }), stdio: ['ignore', 'pipe', 'pipe'] },
      ),
      60_000,
      'the built CLI',
    );
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain('RXX');

    bot.kill('SIGTERM');
    const exit = await botExit;
    expect(exit.signal, exit.stderr).toBeNull();
    expect(exit.code, exit.stderr).toBe(0);
  }, 150_000);
});
