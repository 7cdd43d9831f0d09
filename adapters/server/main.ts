import type http from 'node:http';
import { StorageUnavailable } from '../../db/index.js';
import { runText } from '../../src/commands/execute.js';
import { type Config, ConfigError, loadConfig } from '../../src/config.js';
import { InfrastructureError, isDomainError } from '../../src/domain/errors.js';
import { type ScheduledJob, type Scheduler, startScheduler } from '../../src/jobs/scheduler.js';
import { createLogger, type Logger, routeConsoleToLogger } from '../../src/logger.js';
import { describeError, safeText } from '../../src/safe-errors.js';
import { DeliveredNewUsers } from '../../src/service/new-users.js';
import type { AddressDirectory, CredentialDelivery, Directory } from '../../src/service/ports.js';
import { Sealer } from '../../src/service/sealed.js';
import { localFiles } from '../cli/files.js';
import { contextFor } from '../cli/main.js';
import { serveOperatorChannel } from '../cli/operator-channel.js';
import { configuredDirectoryReader } from '../directory/entra-reader.js';
import { connectEntraDirectory, directoryJob } from '../directory/schedule.js';
import { isEntrypoint } from '../entrypoint.js';
import type { GraphTransport } from '../graph/client.js';
import { driftRunner, graphSignInJob } from '../graph/schedule.js';
import {
  DatabaseBusyError,
  defaultDelivery,
  openRuntime,
  operatorSocketPath,
  type Runtime,
} from '../runtime.js';
import { createSlackAdapter } from '../slack/app.js';
import { createTeamsAdapter, teamsAdapterRefusal } from '../teams/app.js';
import { activityFeedHandler } from './activity-feed.js';
import { hrFeedHandler } from './hr-feed.js';
import { HttpServer, type Phase, sendJson } from './http.js';
import { PrometheusTelemetry } from './metrics.js';

export interface RunningBot {
  port: number;
  stop(): Promise<void>;
}

/**
 * How `startBot` rejects when its signal aborted before it was ready: whatever it had started is
 * stopped (HTTP server, database, the embedded database's lock, Slack's connection).
 */
export class StoppedDuringStartUp extends Error {
  override readonly name = 'StoppedDuringStartUp';
  constructor() {
    super('stopped during start-up');
  }
}

/** The POST routes this configuration serves once the database is ready; any other stays 404. */
function routesOnceReady(config: Config): string[] {
  return [
    ...(config.slack?.mode === 'http' ? ['/slack/events'] : []),
    ...(teamsAdapterRefusal(config.teams) === null ? ['/api/messages'] : []),
    ...(config.hrFeedSecret ? ['/hr/starters', '/hr/leavers'] : []),
    ...(config.activityFeedSecret ? ['/activity'] : []),
  ];
}

/** Resolves when `signal` aborts (at once if it has); never without a signal. */
function whenAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) resolve();
    else signal?.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * The long-running bot. The HTTP server answers /healthz at once; /readyz says 503 until the
 * migrations are applied and the database answers, and again from the moment it starts to stop.
 * So do the routes the configuration will serve (Slack, Teams, the feeds), with Retry-After.
 * Then the adapters, the schedules and, on the embedded database, the operator channel for the
 * CLI. When `signal` aborts before the bot is ready, it stops what it started and rejects with
 * `StoppedDuringStartUp`.
 */
export async function startBot(
  config: Config,
  logger: Logger,
  options: {
    delivery?: CredentialDelivery;
    signal?: AbortSignal;
    /** How the directory reaches Entra and Graph (tests: trusting a stand-in's certificate). */
    graphTransport?: GraphTransport;
  } = {},
): Promise<RunningBot> {
  const { signal } = options;
  const telemetry = new PrometheusTelemetry();
  let state: Phase = 'starting';
  let database: Runtime['database'] | null = null;
  // Why the last readiness check failed: a failure is logged when it starts or changes, not at
  // every probe, and so is the recovery.
  let unready: string | null = null;
  const http = new HttpServer(logger, () => state)
    .route('GET', '/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }))
    .route('GET', '/readyz', async (_req, res) => {
      if (state !== 'ready' || !database) {
        sendJson(res, 503, { status: state });
        return;
      }
      try {
        await database.ping();
        if (unready !== null) logger.info({ database: database.engine }, 'readiness check passes again');
        unready = null;
        sendJson(res, 200, { status: 'ready', database: database.engine });
      } catch (err) {
        const storage = err instanceof StorageUnavailable;
        const reason = storage ? err.message : 'the database does not answer';
        if (reason !== unready) {
          logger[storage ? 'error' : 'warn'](
            { err, database: database.engine },
            `readiness check failed: ${reason}`,
          );
        }
        unready = reason;
        sendJson(res, 503, { status: 'unavailable', database: database.engine, reason });
      }
    })
    .route('GET', '/metrics', async (_req, res) => {
      const { contentType, body } = await telemetry.exposition();
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
      res.end(body);
    });
  for (const path of routesOnceReady(config)) http.whenReady('POST', path);
  const stopping = () => {
    state = 'stopping';
  };
  signal?.addEventListener('abort', stopping, { once: true });
  const port = await http.listen(config.port);
  logger.info({ port }, `listening on port ${port}: GET /healthz, GET /readyz, GET /metrics`);

  let runtime: Runtime;
  let directory: (Directory & AddressDirectory) | null = null;
  // One delivery for commands and for the directory worker, which sends new users' credentials.
  const delivery = options.delivery ?? defaultDelivery(config);
  try {
    // Before the database: a directory the app may not write to stops start-up, saying what to grant.
    if (config.directory) {
      directory = await connectEntraDirectory(config.directory, {
        logger,
        ...(options.graphTransport ? { transport: options.graphTransport } : {}),
      });
    }
    runtime = await openRuntime(config, {
      delivery,
      ...(directory ? { addressDirectory: directory } : {}),
      lockRetries: 3,
      telemetry,
      logger,
      ...(signal ? { signal } : {}),
    });
  } catch (e) {
    if (!signal?.aborted) {
      await http.close(0);
      throw e;
    }
    await http.close(config.shutdownTimeoutMs);
    logger.info('stopped during start-up');
    throw new StoppedDuringStartUp();
  }
  database = runtime.database;
  telemetry.watchOutbox(runtime.database.db, logger);
  logger.info(
    { database: runtime.database.engine, where: runtime.database.description },
    'database ready (migrations applied)',
  );

  const slack = config.slack
    ? createSlackAdapter(config.slack, { lifecycle: runtime.lifecycle, logger })
    : null;
  if (slack?.requestListener) {
    const listener = slack.requestListener;
    http.route('POST', '/slack/events', (req, res) => listener(req, res));
  }
  const teams = createTeamsAdapter(config.teams, { lifecycle: runtime.lifecycle, logger });
  if (teams.ok) http.route('POST', '/api/messages', (req, res) => teams.teams.handle(req, res));
  if (config.hrFeedSecret) {
    for (const file of ['starters', 'leavers'] as const) {
      http.route('POST', `/hr/${file}`, hrFeedHandler(file, config.hrFeedSecret, runtime.lifecycle, logger));
    }
  }
  if (config.activityFeedSecret) {
    http.route(
      'POST',
      '/activity',
      activityFeedHandler(config.activityFeedSecret, runtime.lifecycle, logger),
    );
  }
  let operatorChannel: http.Server | null = null;
  let scheduler: Scheduler | null = null;

  /**
   * Stops taking new work (readiness off, no new connections or Socket Mode events, no new fires),
   * lets commands, requests and the running delivery pass or sweep finish within the shutdown
   * timeout, then closes the database. Whatever outlives the timeout is cut off: a delivery in
   * flight is then re-sent once its lease lapses, never lost.
   */
  const shutDown = async (done: string) => {
    state = 'stopping';
    const deadline = Date.now() + config.shutdownTimeoutMs;
    const left = () => Math.max(0, deadline - Date.now());
    await slack?.stop();
    if (operatorChannel) {
      const channel = operatorChannel;
      await new Promise<void>((resolve) => channel.close(() => resolve()));
    }
    const [requests, jobs, commands] = await Promise.all([
      http.close(left()),
      scheduler ? scheduler.stop(left()) : true,
      runtime.lifecycle.inFlight.drain(left()),
    ]);
    if (!requests || !jobs || !commands) {
      logger.warn({ requests, jobs, commands }, 'shutdown timeout: some work was cut off');
    }
    await runtime.close();
    logger.info(done);
  };
  let stopped: Promise<void> | null = null;
  const stop = (done = 'stopped') => {
    stopped ??= shutDown(done);
    return stopped;
  };

  if (runtime.database.engine === 'pglite') {
    const socketPath = operatorSocketPath(config);
    // `directory import` handed over by the command line reads the directory from here.
    const reader = configuredDirectoryReader(config.directory, logger, options.graphTransport);
    operatorChannel = await serveOperatorChannel(socketPath, async (request, output) => {
      const ctx = contextFor(request);
      const reply = await runText(runtime.lifecycle, ctx, request.words, {
        output,
        files: localFiles,
        directory: reader,
      }).catch((err: unknown) => {
        // The CLI is told in one line (the operator channel describes it); the log has the rest.
        logger.error({ err, platform: 'cli', actor: request.as ?? 'operator' }, 'operator command failed');
        throw err;
      });
      logger.info(
        {
          platform: 'cli',
          correlationId: reply.correlationId,
          command: reply.command,
          outcome: reply.ok ? 'done' : reply.error?.code,
          actor: request.as ?? 'operator',
        },
        'operator command',
      );
      return reply;
    }).catch((err: unknown) => {
      logger.warn({ err, socketPath }, 'operator channel unavailable: run CLI commands with the bot stopped');
      return null;
    });
    if (operatorChannel)
      logger.info({ socketPath }, 'operator CLI commands are served by this process (embedded database)');
  }

  if (!slack) {
    logger.info(
      'Slack adapter off: set SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET (Slack calls POST /slack/events) or with SLACK_APP_TOKEN (Socket Mode) to turn it on; manifest/slack.yaml creates the app',
    );
  } else {
    // Socket Mode may take long to connect (Slack's retries): a stop need not wait for it.
    await Promise.race([slack.start(), whenAborted(signal)]);
    if (!signal?.aborted) {
      logger.info(
        { mode: slack.mode },
        slack.mode === 'http'
          ? 'Slack adapter on: POST /slack/events'
          : 'Slack adapter on: Socket Mode connection open',
      );
    }
  }
  if (signal?.aborted) {
    await stop('stopped during start-up');
    throw new StoppedDuringStartUp();
  }

  if (!teams.ok) logger.error(teams.reason);
  else if (!teams.teams.authenticated) {
    logger.warn(
      'Teams adapter on WITHOUT AUTHENTICATION: no MicrosoftAppId is set, so POST /api/messages accepts unauthenticated requests (Bot Framework Emulator mode). Never run like this in production: set MicrosoftAppId and MicrosoftAppPassword.',
    );
  } else logger.info('Teams adapter on: POST /api/messages (Bot Framework authentication)');

  const notifiers = [...(slack ? [slack.notifier] : []), ...(teams.ok ? [teams.teams.notifier] : [])];
  scheduler = startScheduler({
    db: runtime.database.db,
    lifecycle: runtime.lifecycle,
    logger,
    schedules: config.schedules,
    timezone: config.scheduleTimezone,
    notifiers,
    operatorsChannel: config.operatorsChannel,
    catchUp: config.sweepCatchUp,
    leaseMs: config.scheduleLeaseMs,
    jobs: [
      graphSignInJob(config.graph, {
        lifecycle: runtime.lifecycle,
        logger,
        drift: driftRunner(
          runtime.lifecycle,
          configuredDirectoryReader(config.directory, logger, options.graphTransport),
        ),
      }),
      config.directory && directory
        ? directoryJob(config.directory, {
            db: runtime.database.db,
            directory,
            logger,
            newUsers: new DeliveredNewUsers({
              delivery,
              sealer: config.hrDataKey ? new Sealer(config.hrDataKey) : null,
              credential: config.directory.credential,
              tapLifetimeMinutes: config.policy.tapLifetimeMinutes,
            }),
          })
        : null,
    ].filter((j): j is ScheduledJob => j !== null),
  });
  for (const task of scheduler.tasks) {
    logger.info(
      { task: task.name, timezone: config.scheduleTimezone, next: task.getNextRun()?.toISOString() },
      'scheduled',
    );
  }
  if (notifiers.length === 0) {
    logger.info('no chat platform configured: queued notifications wait until Slack or Teams is turned on');
  }
  logDirectoryMode(config, logger);

  signal?.removeEventListener('abort', stopping);
  state = 'ready';
  logger.info('ready');
  return { port, stop: () => stop() };
}

/** Which directory the bot changes, or that it changes none (ledger mode). */
function logDirectoryMode(config: Config, logger: Logger): void {
  if (!config.directory) {
    logger.info(
      { directory: 'none' },
      'directory: none — recording decisions only (ledger mode); set DIRECTORY=entra to apply changes to Microsoft Entra',
    );
    return;
  }
  const { kind, credential, schedule } = config.directory;
  logger.info(
    { directory: kind, credential, schedule },
    `directory: ${kind} (credential: ${credential}); changes are applied by the directory worker on DIRECTORY_SCHEDULE`,
  );
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger({ level: config.logLevel });
  // botbuilder writes errors to the console itself, a stack over many lines: into the log instead.
  routeConsoleToLogger(logger);
  // Signals are handled from the first moment: a stop while starting (migrations may be waiting
  // behind another replica's) stops what has started and exits 0, as any other stop does.
  const starting = new AbortController();
  let bot: RunningBot | null = null;
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    if (!bot) {
      logger.info({ signal }, 'shutting down during start-up');
      starting.abort();
      return;
    }
    logger.info({ signal }, 'shutting down');
    bot.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // The last line of defence: no single request may end the process. A promise some library left
  // unawaited (Bolt's receiver, botbuilder) is logged as the bug it is, and the bot keeps serving.
  process.on('unhandledRejection', (err: unknown) => {
    logger.error({ err }, 'unhandled rejection: a bug; the bot keeps serving');
  });
  try {
    bot = await startBot(config, logger, { signal: starting.signal });
  } catch (e) {
    if (e instanceof StoppedDuringStartUp) process.exit(0);
    throw e;
  }
}

/**
 * Why the bot did not start, for its last line: an expected failure (the configuration, DATA_DIR
 * full or in use, PostgreSQL unreachable) in its own words; a bug with its stack; never `[object Object]`.
 */
export function startFailure(err: unknown): string {
  if (isDomainError(err) || err instanceof InfrastructureError || err instanceof DatabaseBusyError)
    return err.message;
  return err instanceof Error ? safeText(err.stack ?? err.message) : describeError(err);
}

if (isEntrypoint(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`nhsmail-bot failed to start: ${startFailure(err)}\n`);
    process.exit(1);
  });
}
