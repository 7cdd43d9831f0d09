import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../support/processes.js';

/**
 * There is no container engine on the build machines, so the Dockerfile is checked as text: the
 * rules a reviewer would check by eye, and that it runs what test/deploy/built-output.test.ts runs.
 */

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions of a Dockerfile, continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    if (whole === '') continue;
    const keyword = whole.split(/\s+/, 1)[0] ?? '';
    instructions.push({ keyword: keyword.toUpperCase(), args: whole.slice(keyword.length).trim() });
  }
  return instructions;
}

/** `KEY=value KEY2="value 2"` as in ENV. */
function envPairs(args: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const match of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) {
    pairs[match[1] ?? ''] = (match[2] ?? '').replace(/^"(.*)"$/, '$1');
  }
  return pairs;
}

const instructions = parseDockerfile(readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8'));
const lastFrom = instructions.map((i) => i.keyword).lastIndexOf('FROM');
const buildStages = instructions.slice(0, lastFrom);
const finalStage = instructions.slice(lastFrom);
const all = (stage: Instruction[], keyword: string) => stage.filter((i) => i.keyword === keyword);
const finalEnv = Object.assign({}, ...all(finalStage, 'ENV').map((i) => envPairs(i.args))) as Record<
  string,
  string
>;

describe('Dockerfile', () => {
  it('is multi-stage: the build stage compiles with `npm run build`, the final one is a Node 20 image', () => {
    expect(all(buildStages, 'FROM').length).toBeGreaterThanOrEqual(1);
    expect(all(buildStages, 'RUN').some((i) => /\bnpm run build\b/.test(i.args))).toBe(true);
    expect(finalStage[0]?.args).toMatch(/^node:20\b/);
    expect(all(finalStage, 'RUN').some((i) => /\bnpm (ci|install)\b/.test(i.args))).toBe(false);
  });

  it('runs the final stage as a non-root user', () => {
    const users = all(finalStage, 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)?.args).not.toMatch(/^(root|0)(:|$)/);
  });

  it('sets NODE_ENV=production and keeps DATA_DIR on a volume', () => {
    expect(finalEnv.NODE_ENV).toBe('production');
    expect(finalEnv.DATA_DIR).toBeDefined();
    expect(all(finalStage, 'VOLUME').map((i) => i.args)).toContain(finalEnv.DATA_DIR);
  });

  it('exposes PORT and checks health on /healthz at that port', () => {
    expect(all(finalStage, 'EXPOSE').map((i) => i.args)).toContain(finalEnv.PORT ?? '3000');
    const [healthcheck] = all(finalStage, 'HEALTHCHECK');
    expect(healthcheck?.args).toMatch(/\bCMD\b/);
    expect(healthcheck?.args).toContain('/healthz');
    expect(healthcheck?.args).toContain('process.env.PORT');
  });

  it('runs exactly what `npm run start:built` runs', () => {
    const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const cmds = all(finalStage, 'CMD');
    expect(cmds).toHaveLength(1);
    // Exec form, so the bot is PID 1 and receives SIGTERM itself.
    expect(JSON.parse(cmds[0]?.args ?? 'null')).toEqual(pkg.scripts['start:built']?.split(' '));
    expect(all(finalStage, 'ENTRYPOINT')).toEqual([]);
  });

  it('keeps local node_modules, data and secrets out of the build context', () => {
    const ignored = readFileSync(path.join(projectRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'data', '.env', '.git']));
  });
});
