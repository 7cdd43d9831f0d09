/**
 * Chat under load (issue 17, point 3), as ratios to a bare Bolt app measured in the same run:
 *   npm run bench:chat
 *   BENCH_RATE=100 BENCH_SECONDS=20 BENCH_ACCOUNTS=160000 BENCH_DUE=16000 BENCH_ORGS=100 npm run bench:chat
 *   BENCH_SWEEP_APART=true …   (the sweep in a process of its own instead of the bot's)
 *   BENCH_CPU_PROF=DIR …       (a CPU profile of each server process, written when it stops)
 * Uses DATABASE_URL/TEST_DATABASE_URL when set, otherwise starts an embedded PostgreSQL.
 *
 * Signed `/nhsmail status ADDRESS` slash commands are POSTed open-loop at a fixed rate (latency
 * counted from each request's scheduled send time, test/bench/chat-load.ts) to, in turn:
 * 1. a bare Bolt app that acks and answers a fixed text through the response_url (the anchor);
 * 2. the real bot, idle, on a database seeded as bench:sweep seeds it (test/bench/sweep-seed.ts);
 * 3. the same bot while it sweeps the seeded due accounts at BENCH_NOW.
 * Each server runs in a process of its own (test/bench/chat-server.ts); the answers go through
 * response URLs to a stand-in for Slack in this process (test/bench/chat-slack.ts), which notes
 * when each arrives. Goals: the bot's answer p99 at most 2× the bare app's, and during the sweep
 * at most 2× its own idle figure.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { createLifecycle } from '../../src/service/lifecycle.js';
import { slashCommandText } from '../slack/support/slack-typing.js';
import { CapturingDelivery } from '../support/service.js';
import { type Latencies, type LoadResult, latencies, runLoad } from './chat-load.js';
import { BARE_ANSWER, type FromServer, type ToServer } from './chat-server.js';
import { LoadSlack } from './chat-slack.js';
import { server } from './postgres-server.js';
import { BENCH_NOW, createDatabase, dropDatabase, seedSweepDatabase } from './sweep-seed.js';

const N = Number(process.env.BENCH_ACCOUNTS ?? '160000');
const DUE = Number(process.env.BENCH_DUE ?? '16000');
const ORGS = Number(process.env.BENCH_ORGS ?? '100');
const RATE = Number(process.env.BENCH_RATE ?? '100');
const SECONDS = Number(process.env.BENCH_SECONDS ?? '20');
/** BENCH_SWEEP_APART=true: the sweep runs in a process of its own instead of the bot's. */
const SWEEP_APART = process.env.BENCH_SWEEP_APART === 'true';
const WARM_SECONDS = 1;
const DRAIN_MS = 15_000;
const SECRET = 'bench-signing-secret-3c1e9a7f';
const ASKER = 'U0BENCHNAS';
/** The asker: a NAS administrator, who may see every seeded account's status. */
const ASKER_EMAIL = 'bench.nas@nhs.net';
const DB_NAME = 'bench_chat';

/** Which account request i asks about: spread over every seeded account, due or not. */
const address = (i: number) => `bench${1 + ((i * 7919) % N)}@nhs.net`;
const fields = (i: number): Record<string, string> => ({
  token: 'gIkuvaNzQIHg97ATvDxqgjtO',
  team_id: 'T0001',
  team_domain: 'nhs-test',
  channel_id: 'C0HELPDESK',
  channel_name: 'it-helpdesk',
  user_id: ASKER,
  user_name: 'bench.nas',
  command: '/nhsmail',
  text: slashCommandText(`status ${address(i)}`),
  api_app_id: 'A0NHSMAIL',
  is_enterprise_install: 'false',
});

/** One server process under load, and what it says over IPC. */
class ServerProcess {
  private readonly inbox: FromServer[] = [];
  private readonly waiting: Array<() => void> = [];
  private exited = false;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: FromServer) => {
      this.inbox.push(m);
      for (const wake of this.waiting.splice(0)) wake();
    });
    child.on('exit', () => {
      this.exited = true;
      for (const wake of this.waiting.splice(0)) wake();
    });
  }

  static async start(
    mode: 'bare' | 'bot' | 'sweeper',
    env: NodeJS.ProcessEnv,
    log: string,
  ): Promise<ServerProcess> {
    const out = openSync(log, 'a');
    const child = fork(path.join(import.meta.dirname, 'chat-server.ts'), [mode], {
      // BENCH_CPU_PROF=DIR: each server writes a CPU profile there when it stops (for investigations).
      execArgv: [
        '--import',
        'tsx',
        ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
      ],
      env,
      stdio: ['ignore', out, 'inherit', 'ipc'],
    });
    closeSync(out);
    const started = new ServerProcess(child);
    return started;
  }

  send(message: ToServer): void {
    this.child.send(message);
  }

  /** The next message of this kind (or a failure of the sweep, when waiting for the sweep). */
  async next<K extends FromServer['kind']>(
    kind: K,
    timeoutMs = 600_000,
  ): Promise<Extract<FromServer, { kind: K }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.kind === kind || m.kind === 'sweep-failed');
      const found = this.inbox[i];
      if (found) {
        this.inbox.splice(i, 1);
        if (found.kind === 'sweep-failed') throw new Error(`the sweep failed: ${found.error}`);
        return found as Extract<FromServer, { kind: K }>;
      }
      if (this.exited) throw new Error(`the server process exited while the bench waited for ${kind}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${kind}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1_000);
        this.waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  has(kind: FromServer['kind']): boolean {
    return this.inbox.some((m) => m.kind === kind);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.send({ kind: 'stop' });
    await this.next('stopped', 60_000);
    // Stopped and disconnected, it should exit by itself; if something keeps it alive, it is killed.
    if (!this.exited) {
      await Promise.race([
        new Promise((resolve) => this.child.once('exit', resolve)),
        new Promise((resolve) => setTimeout(resolve, 10_000)),
      ]);
    }
    this.kill();
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

interface PhaseFigures {
  name: string;
  ack: Latencies;
  answer: Latencies;
  loop: Extract<FromServer, { kind: 'loop-delay' }>;
  sendLagMax: number;
}

async function seed(serverUrl: string): Promise<string> {
  const url = await createDatabase(serverUrl, DB_NAME);
  const database = await seedSweepDatabase(url, { n: N, due: DUE, orgs: ORGS, shape: 'activity' });
  try {
    const lifecycle = await createLifecycle({
      db: database.db,
      policy: DEFAULT_POLICY,
      delivery: new CapturingDelivery(),
    });
    await lifecycle.grantRole(
      { actor: { kind: 'operator' }, platform: 'cli', now: BENCH_NOW },
      { address: ASKER_EMAIL, role: 'nas-admin' },
    );
  } finally {
    await database.close();
  }
  return url;
}

async function load(
  proc: ServerProcess,
  port: number,
  slack: LoadSlack,
  expect: (i: number) => string,
): Promise<LoadResult> {
  proc.send({ kind: 'loop-delay' });
  await proc.next('loop-delay');
  return runLoad({
    url: `http://127.0.0.1:${port}/slack/events`,
    secret: SECRET,
    rate: RATE,
    seconds: SECONDS,
    warmSeconds: WARM_SECONDS,
    drainMs: DRAIN_MS,
    slack,
    fields,
    expect,
  });
}

async function run(): Promise<void> {
  const srv = await server();
  const slack = new LoadSlack();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-chat-'));
  const log = path.join(os.tmpdir(), `bench-chat-${process.pid}.log`);
  const running: ServerProcess[] = [];
  const phases: PhaseFigures[] = [];
  let sweepLine = '';
  try {
    await slack.start();
    slack.emails.set(ASKER, ASKER_EMAIL);
    const seedStart = Date.now();
    const url = await seed(srv.url);
    console.error(`seeded ${N} accounts (${DUE} due) in ${Date.now() - seedStart} ms`);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_BOT_TOKEN: 'xoxb-bench-token',
      SLACK_API_URL: slack.apiUrl,
      DATABASE_URL: url,
      DATA_DIR: dataDir,
      PORT: '0',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      // No sweep at start: the bench starts the one it measures, at BENCH_NOW.
      SWEEP_CATCH_UP: 'false',
    };
    const phase = async (
      name: string,
      proc: ServerProcess,
      result: LoadResult,
      given?: PhaseFigures['loop'],
    ) => {
      let loop = given;
      if (!loop) {
        proc.send({ kind: 'loop-delay' });
        loop = await proc.next('loop-delay');
      }
      const figures = { name, ...latencies(result.measured), loop, sendLagMax: result.sendLagMax };
      phases.push(figures);
      console.error(row(figures));
      return figures;
    };

    const bare = await ServerProcess.start('bare', env, log);
    running.push(bare);
    const barePort = (await bare.next('ready')).port;
    await phase('bare Bolt app', bare, await load(bare, barePort, slack, () => BARE_ANSWER));
    await bare.stop();

    const bot = await ServerProcess.start('bot', env, log);
    running.push(bot);
    const botPort = (await bot.next('ready')).port;
    await phase('bot, idle', bot, await load(bot, botPort, slack, address));

    // Production sweeps in the bot's process; apart, the sweep shares only the database with it.
    const sweeper = SWEEP_APART ? await ServerProcess.start('sweeper', env, log) : bot;
    if (SWEEP_APART) {
      running.push(sweeper);
      await sweeper.next('ready');
    }
    sweeper.send({ kind: 'sweep' });
    const sweepStart = performance.now();
    const during = await load(bot, botPort, slack, address);
    const sweepingFigures = await phase(SWEEP_APART ? 'bot, sweep apart' : 'bot, sweeping', bot, during);
    const sweep = await sweeper.next('sweep-done');
    if (SWEEP_APART) await sweeper.stop();
    const sweepEnd = sweepStart + sweep.ms;
    const overlap = Math.max(0, Math.min(sweepEnd, during.to) - Math.max(sweepStart, during.from));
    const overlapShare = overlap / (during.to - during.from);
    sweepLine = `sweep: ${sweep.ms.toFixed(0)} ms (${Object.entries(sweep.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}); it ran through ${(overlapShare * 100).toFixed(0)}% of the measured phase`;
    if (overlapShare < 1) {
      const inSweep = during.measured.filter((m) => m.scheduled >= sweepStart && m.scheduled < sweepEnd);
      if (inSweep.length > 0) {
        await phase('  sent while sweeping', bot, { ...during, measured: inSweep }, sweepingFigures.loop);
      }
    }
    await bot.stop();
  } finally {
    for (const proc of running) proc.kill();
    await slack.stop();
    await dropDatabase(srv.url, DB_NAME).catch(() => {});
    await srv.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  report(phases, sweepLine, slack, log);
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '—').padStart(8);
const row = (p: PhaseFigures) =>
  [
    p.name.padEnd(22),
    ms(p.ack.p50),
    p.ack.p99LowerBound ? `≥${ms(p.ack.p99).trim()}`.padStart(8) : ms(p.ack.p99),
    ms(p.ack.max),
    ms(p.answer.p50),
    p.answer.p99LowerBound ? `≥${ms(p.answer.p99).trim()}`.padStart(8) : ms(p.answer.p99),
    ms(p.answer.max),
    String(p.answer.count).padStart(6),
    `${p.ack.errors + p.answer.errors}/${p.ack.missing + p.answer.missing}`.padStart(9),
    ms(p.loop.p99),
    ms(p.loop.max),
    ms(p.sendLagMax),
    ms(p.loop.cpuMs / p.answer.count),
  ].join(' ');

/**
 * Whether `a`'s answer p99 is at most 2× `b`'s. A p99 reached by answers still missing at the
 * drain's end is only a lower bound: enough to fail a goal, never to meet one.
 */
function goal(a: PhaseFigures, b: PhaseFigures): string {
  const within = a.answer.p99 <= 2 * b.answer.p99;
  if (a.answer.p99LowerBound) return !within && !b.answer.p99LowerBound ? 'NOT met' : 'unknown';
  if (b.answer.p99LowerBound) return within ? 'met' : 'unknown';
  return within ? 'met' : 'NOT met';
}

function report(phases: PhaseFigures[], sweepLine: string, slack: LoadSlack, log: string): void {
  const [bare, idle, sweeping] = phases;
  const load = os.loadavg().map((l) => l.toFixed(2));
  console.log(
    `${RATE} signed /nhsmail status requests a second, open-loop, ${SECONDS} s measured after ${WARM_SECONDS} s warm-up; ${N} accounts, ${DUE} due, ${ORGS} organisations`,
  );
  console.log(
    `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}; load average ${load.join(' ')} (1, 5, 15 min) at the end; node ${process.version}`,
  );
  console.log('latency in ms from the scheduled send time');
  console.log(
    '                        ack p50  ack p99  ack max  ans p50  ans p99  ans max  count err/miss loop p99 loop max send lag  cpu/req',
  );
  for (const p of phases) console.log(row(p));
  if (sweepLine) console.log(sweepLine);
  if (!bare || !idle || !sweeping) return;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`.padStart(8);
  const line = (name: string, a: PhaseFigures, b: PhaseFigures) =>
    console.log(
      `${name.padEnd(26)}${ratio(a.ack.p50, b.ack.p50)} ${ratio(a.ack.p99, b.ack.p99)} ${ratio(a.answer.p50, b.answer.p50)} ${ratio(a.answer.p99, b.answer.p99)}`,
    );
  console.log('ratios                     ack p50  ack p99  ans p50  ans p99');
  line('bot idle / bare', idle, bare);
  line('bot sweeping / bare', sweeping, bare);
  line('bot sweeping / bot idle', sweeping, idle);
  console.log(
    `goal answer p99 ≤ 2× bare: idle ${goal(idle, bare)}, sweeping ${goal(sweeping, bare)}; during the sweep ≤ 2× its own idle: ${goal(sweeping, idle)}`,
  );
  const unknown = [...slack.unknown].map(([m, n]) => `${m} ×${n}`).join(', ');
  if (unknown) console.log(`the stand-in refused Web API methods it does not know: ${unknown}`);
  const errors = readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => /"level":(50|60)/.test(l)).length;
  console.log(`bot log: ${log} (${errors} error lines)`);
}

await run();
