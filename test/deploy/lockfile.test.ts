import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../support/processes.js';

const run = promisify(execFile);

/**
 * `npm ci` refuses a lockfile that is out of step with package.json, and npm 10 and 11 disagree on
 * what "in step" means (npm 11 writes no entries for optional peers such as vite's esbuild, and
 * only this platform's optional binaries when node_modules already exists). CI runs npm 11; the
 * Dockerfile's node:20 image ships npm 10. Both must accept the committed lockfile, so a newcomer's
 * `npm ci` and the image build cannot fail on it. `npm run lockfile` rewrites it so that they do.
 */
const dir = mkdtempSync(path.join(tmpdir(), 'nhsmail-lockfile-'));
for (const file of ['package.json', 'package-lock.json']) {
  copyFileSync(path.join(projectRoot, file), path.join(dir, file));
}
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function npmCiDryRun(npm: string[]): Promise<string> {
  const [command, ...args] = npm;
  try {
    await run(command ?? 'npm', [...args, 'ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: dir,
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    return 'accepted';
  } catch (e) {
    const stderr = String((e as { stderr?: unknown }).stderr ?? e);
    return stderr
      .split('\n')
      .filter((line) => /Missing|Invalid|in sync/.test(line))
      .slice(0, 5)
      .join('\n');
  }
}

describe('package-lock.json', () => {
  it('is accepted by `npm ci` with this machine’s npm (what CI runs)', async () => {
    expect(await npmCiDryRun(['npm'])).toBe('accepted');
  }, 60_000);

  it('is accepted by `npm ci` with npm 10, which the Dockerfile’s node:20 image ships', async () => {
    expect(await npmCiDryRun(['npx', '--yes', 'npm@10'])).toBe('accepted');
  }, 120_000);
});
