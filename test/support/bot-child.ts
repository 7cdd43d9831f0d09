import { type ChildProcess, spawn } from 'node:child_process';
import { childEnv, projectRoot, trackChild } from './processes.js';

/** The bot as operators run it (`npm start`), in a child process that prints JSON log lines. */
export class BotProcess {
  readonly child: ChildProcess;
  private out = '';
  readonly exited: Promise<number | null>;

  /**
   * `prefix` runs the bot under another command, which ends by executing the rest of its
   * arguments in place (e.g. `unshare` with a shell that mounts a file system first): the child's
   * process id is then the bot's.
   */
  constructor(env: Record<string, string>, prefix: readonly string[] = []) {
    const argv = [...prefix, process.execPath, '--import', 'tsx', 'adapters/server/main.ts'];
    this.child = spawn(argv[0] ?? process.execPath, argv.slice(1), {
      cwd: projectRoot,
      env: childEnv({ PORT: '0', LOG_LEVEL: 'info', ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(this.child);
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.out += chunk;
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.out += chunk;
    });
    this.exited = new Promise((resolve) => this.child.once('close', (code) => resolve(code)));
  }

  get output(): string {
    return this.out;
  }

  /** The port from its "listening" line, once printed. */
  async port(timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = /"port":(\d+)/.exec(this.out);
      if (found) return Number(found[1]);
      if (Date.now() > deadline) throw new Error(`no port line; output:\n${this.out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** GET a route of the bot: its status and JSON body, or status 0 when nothing answers. */
export const get = async (port: number, route: string) => {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${route}`);
    return { status: res.status, body: (await res.json().catch(() => null)) as { status?: string } | null };
  } catch {
    return { status: 0, body: null };
  }
};

/** Waits until `check` holds, polling; a minute, as a loaded machine can take that to start a bot on the embedded database. */
export const until = async (check: () => boolean | Promise<boolean>, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
};
