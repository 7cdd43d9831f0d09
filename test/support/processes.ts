import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The project root: children run from here, as `npm run` would run them. */
export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface ProcessResult {
  /** The exit code, or null when the process was ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall-clock milliseconds from spawn to exit. */
  ms: number;
}

/** Children still running, so a hook can end them if a test gives up on one. */
const running = new Set<ChildProcess>();

/**
 * A clean environment for a child: only what Node needs to start, plus `env`. Nothing leaks in
 * from the test runner (no DATABASE_URL, TEST_DATABASE_URL, PORT…), so each test says what it sets.
 */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[key];
    if (value !== undefined) base[key] = value;
  }
  return { ...base, ...env };
}

/**
 * Runs `node --import tsx SCRIPT ...args` from the project root (what `npm run` runs, minus npm's
 * start-up) and collects its output. A child that outlives `timeoutMs` is killed and the promise
 * rejects with what it printed so far.
 */
export function runNodeScript(
  script: string,
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<ProcessResult> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: projectRoot,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
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
      reject(
        new Error(
          `${script} ${args.join(' ')} did not exit within ${timeoutMs} ms and was killed.\nstdout: ${stdout}\nstderr: ${stderr}`,
        ),
      );
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error);
    });
    // 'close', not 'exit': both pipes are drained by then, so no output is lost.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** The operator CLI as a child process: `nhsmail <args>`. */
export function runCliProcess(
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs = 90_000,
): Promise<ProcessResult> {
  return runNodeScript('adapters/cli/main.ts', args, env, timeoutMs);
}

/** Registers a child started elsewhere, so `killLeftoverChildren` ends it too. */
export function trackChild(child: ChildProcess): void {
  running.add(child);
  child.once('close', () => running.delete(child));
}

/** Kills (by process id) any child a failed or timed-out test left running. For `afterAll`/`afterEach`. */
export function killLeftoverChildren(): void {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    running.delete(child);
  }
}
