import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killLeftoverChildren, runNodeScript } from '../support/processes.js';

/**
 * `npm start` with a bad setting: the bot must stop at once with one message naming the variable,
 * before it opens a database or a port.
 */
describe('bot start-up with invalid configuration', () => {
  let tmp = '';

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'nhsmail-startup-'));
  });

  afterAll(async () => {
    killLeftoverChildren();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const cases: { variable: string; env: Record<string, string> }[] = [
    { variable: 'PORT', env: { PORT: 'abc' } },
    { variable: 'DATABASE_URL', env: { DATABASE_URL: 'mysql://x', PORT: '0' } },
  ];

  it.each(cases)(
    'stops with one message naming $variable',
    async ({ variable, env }) => {
      const dataDir = join(tmp, variable);
      // runNodeScript kills the child and fails the test if it is still running after 20 s.
      const result = await runNodeScript(
        'adapters/server/main.ts',
        [],
        { ...env, DATA_DIR: dataDir, LOG_LEVEL: 'info' },
        20_000,
      );
      expect(result.signal).toBeNull();
      expect(result.code).not.toBe(0);
      expect(result.code).not.toBeNull();
      expect(result.ms).toBeLessThan(20_000);
      const lines = result.stderr.trim().split('\n');
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toContain(variable);
      expect(lines[0]).toMatch(/invalid configuration/i);
      expect(result.stdout).toBe('');
      // Nothing was started: no embedded database was created.
      expect(existsSync(dataDir)).toBe(false);
    },
    30_000,
  );
});
