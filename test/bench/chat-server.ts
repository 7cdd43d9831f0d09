/**
 * One server under load for `bench:chat`, in a process of its own so it never shares an event loop
 * with the load generator (test/bench/chat.bench.ts forks it and talks to it over IPC):
 * - `bare`: a bare Bolt app (same @slack/bolt, HTTPReceiver, signing secret) whose `/nhsmail`
 *   acks and answers a fixed text through the response_url, as the bot does: the anchor;
 * - `bot`: the real bot, started as `npm start` starts it (`loadConfig` from the environment, then
 *   `startBot`: its HTTP server, Bolt's receiver and signature check, the lifecycle on PostgreSQL,
 *   the scheduler). Asked to, it sweeps at BENCH_NOW in this same process, as the scheduler would,
 *   through a runtime of its own (`openRuntime`, production's composition root);
 * - `sweeper`: only that sweep, in a process apart (BENCH_SWEEP_APART=true).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { App, HTTPReceiver } from '@slack/bolt';
import { isEntrypoint } from '../../adapters/entrypoint.js';
import { openRuntime } from '../../adapters/runtime.js';
import { startBot } from '../../adapters/server/main.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { BENCH_NOW } from './sweep-seed.js';

/** What the bench asks of this process. */
export type ToServer = { kind: 'sweep' } | { kind: 'loop-delay' } | { kind: 'stop' };

/** What this process tells the bench. */
export type FromServer =
  | { kind: 'ready'; port: number }
  | { kind: 'sweep-done'; ms: number; counts: Record<string, number> }
  | { kind: 'sweep-failed'; error: string }
  /** Event-loop delay since the last ask, and CPU time this process used since then, in ms. */
  | { kind: 'loop-delay'; p50: number; p99: number; max: number; cpuMs: number }
  | { kind: 'stopped' };

/** The bare app's answer, and what the bot's answers are compared with. */
export const BARE_ANSWER = 'nhsmail: status of that address (a fixed text from the bare Bolt app)';

const send = (message: FromServer) => process.send?.(message);

interface Running {
  port: number;
  stop(): Promise<void>;
  /** The bot only: sweeps at BENCH_NOW and says when it is done. */
  sweep?: () => Promise<void>;
}

async function startBare(): Promise<Running> {
  const receiver = new HTTPReceiver({
    signingSecret: process.env.SLACK_SIGNING_SECRET ?? '',
    endpoints: '/slack/events',
  });
  const app = new App({
    token: process.env.SLACK_BOT_TOKEN ?? '',
    receiver,
    clientOptions: { slackApiUrl: process.env.SLACK_API_URL ?? '' },
  });
  app.command('/nhsmail', async ({ ack, respond }) => {
    await ack();
    await respond({ response_type: 'ephemeral', replace_original: false, text: BARE_ANSWER });
  });
  const server = await receiver.start(0);
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    stop: () => receiver.stop(),
  };
}

/** `withBot` false: a process that only sweeps (BENCH_SWEEP_APART, to tell event-loop from database contention). */
async function startTheBot(withBot = true): Promise<Running> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const bot = withBot ? await startBot(config, logger) : null;
  const sweeper = await openRuntime(config, { logger });
  const sweep = async () => {
    const t0 = performance.now();
    try {
      const report = await sweeper.lifecycle.sweep(
        { actor: { kind: 'scheduler' }, platform: 'schedule', now: BENCH_NOW },
        { dryRun: false },
      );
      send({ kind: 'sweep-done', ms: performance.now() - t0, counts: { ...report.counts } });
    } catch (e) {
      send({ kind: 'sweep-failed', error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
  };
  return {
    port: bot?.port ?? 0,
    sweep,
    stop: async () => {
      await bot?.stop();
      await sweeper.close();
    },
  };
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let cpu = process.cpuUsage();
  const server: Running =
    mode === 'bot' ? await startTheBot() : mode === 'sweeper' ? await startTheBot(false) : await startBare();
  process.on('message', (message: ToServer) => {
    if (message.kind === 'sweep') void server.sweep?.();
    if (message.kind === 'loop-delay') {
      const ms = (ns: number) => Math.round(ns / 1e4) / 100;
      const used = process.cpuUsage(cpu);
      cpu = process.cpuUsage();
      send({
        kind: 'loop-delay',
        p50: ms(loop.percentile(50)),
        p99: ms(loop.percentile(99)),
        max: ms(loop.max),
        cpuMs: (used.user + used.system) / 1000,
      });
      loop.reset();
    }
    if (message.kind === 'stop') {
      loop.disable();
      void server.stop().then(() => {
        send({ kind: 'stopped' });
        process.disconnect?.();
      });
    }
  });
  send({ kind: 'ready', port: server.port });
}

if (isEntrypoint(import.meta.url)) await main();
