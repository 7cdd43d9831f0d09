import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import cron, { type ScheduledTask, type TaskContext } from 'node-cron';
import { type Db, rowsOf } from '../../db/index.js';
import type { Schedules } from '../config.js';
import type { Logger } from '../logger.js';
import type { RequestContext } from '../service/context.js';
import type { Lifecycle } from '../service/lifecycle.js';
import type { ChannelNotifier, OperatorsChannel } from '../service/ports.js';
import { settledWithin } from '../service/telemetry.js';
import { DEFAULT_DELIVERY, runDelivery } from './delivery.js';
import { DEFAULT_LEASE_MS, PostgresRunCoordinator } from './run-coordinator.js';
import { type ResumableJob, resumeAbandonedRuns, runClaimed } from './takeover.js';

/** A further schedule an adapter contributes (the Graph sign-in poll). */
export interface ScheduledJob {
  /** Also the job's part of its `cron_runs` keys, so no colon. */
  name: string;
  expression: string;
  /**
   * True: one process per fire (RunCoordinator), and a fire whose process died is run again
   * elsewhere, so the job must finish a cut-short run's work by running again; false: every
   * process runs it.
   */
  distributed: boolean;
  run(): Promise<unknown>;
}

export interface ScheduleOptions {
  db: Db;
  lifecycle: Lifecycle;
  logger: Logger;
  schedules: Schedules;
  timezone: string;
  /** The chat platforms this process delivers to; with none, the delivery job is not started. */
  notifiers: ChannelNotifier[];
  /** Where a line goes when a notification is parked as failed. */
  operatorsChannel?: OperatorsChannel | null;
  /** Adapters' own schedules, run and stopped with the rest. */
  jobs?: ScheduledJob[];
  /** Sweep at start when no sweep has completed for a day (every process was down at fire time). */
  catchUp: boolean;
  /**
   * How long a claim on a distributed job's fire holds without renewal (default 2 minutes). The
   * holder renews it every third of that; other processes look for lapsed claims every half of it
   * (at most every minute) and take them over.
   */
  leaseMs?: number;
}

export interface Scheduler {
  tasks: ScheduledTask[];
  /** The work at start: runs abandoned by a dead process taken over, then the catch-up sweep if one was due. */
  startUp: Promise<void>;
  /** Stops the schedules and waits (up to `timeoutMs`) for running jobs; true when they all finished. */
  stop(timeoutMs?: number): Promise<boolean>;
}

/** A sweep missed for longer than this is caught up when a process starts. */
const CATCH_UP_AFTER_MS = 25 * 3_600_000;
/** The catch-up sweep's part of its cron_runs keys. */
const CATCH_UP = 'catch-up-sweep';
/** The look for abandoned runs comes at least this often, whatever the lease. */
const TAKEOVER_CHECK_MAX_MS = 60_000;

const schedulerContext = (): RequestContext => ({
  actor: { kind: 'scheduler' },
  platform: 'schedule',
  now: new Date(),
  correlationId: randomUUID(),
});

/**
 * The bot's schedules. The sweep and the reminders fire on exactly one of however many bot
 * processes share the database (node-cron's RunCoordinator on PostgreSQL); the delivery worker
 * runs on every process, which share the outbox through FOR UPDATE SKIP LOCKED. Sweeps work
 * from state, so a fire missed while every process was down is caught up at the next start, and
 * a fire whose process died mid-run is taken over once its lease lapses, at start or by the
 * periodic look on a running process, and run again to finish it.
 */
export function startScheduler(options: ScheduleOptions): Scheduler {
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const coordinator = new PostgresRunCoordinator(options.db, {
    leaseMs,
    logger: options.logger,
    telemetry: options.lifecycle.telemetry,
  });
  const running = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    running.add(work);
    void work.finally(() => running.delete(work)).catch(() => {});
    return work;
  };

  const sweepNow = async () => {
    const started = Date.now();
    const ctx = schedulerContext();
    const report = await options.lifecycle.sweep(ctx, { dryRun: false });
    options.logger.info(
      { job: 'sweep', correlationId: ctx.correlationId, counts: report.counts, ms: Date.now() - started },
      'sweep finished',
    );
    return report.counts;
  };

  const resumable: ResumableJob[] = [];
  /** `alsoResumes`: other key prefixes whose abandoned runs this job finishes (the catch-up's, for the sweep). */
  const job = (
    name: string,
    expression: string,
    run: () => Promise<unknown>,
    distributed: boolean,
    alsoResumes: string[] = [],
  ) => {
    if (name.includes(':')) {
      throw new Error(`a scheduled job's name starts its cron_runs keys, so "${name}" may not hold a colon`);
    }
    const log = options.logger.child({ job: name });
    if (distributed) resumable.push({ name, keys: [name, ...alsoResumes], run });
    const task = cron.schedule(expression, (_ctx: TaskContext) => track(run()), {
      name,
      timezone: options.timezone,
      noOverlap: true,
      ...(distributed ? { distributed: true, runCoordinator: coordinator } : {}),
      logger: {
        info: (m) => log.debug(m),
        warn: (m) => log.warn(m),
        error: (m, err) => log.error({ err }, String(m)),
        debug: (m) => log.debug(String(m)),
      },
    });
    task.on('execution:failed', (ctx) => log.error({ err: ctx.execution?.error }, `${name} failed`));
    task.on('execution:skipped', (ctx) => log.debug({ reason: ctx.reason }, `${name} fire skipped`));
    return task;
  };

  const tasks = [
    job('daily-sweep', options.schedules.sweep, sweepNow, true, [CATCH_UP]),
    job(
      'pending-reminders',
      options.schedules.reminders,
      async () => {
        const ctx = schedulerContext();
        const report = await options.lifecycle.remindPending(ctx, { dryRun: false });
        options.logger.info(
          { job: 'pending-reminders', correlationId: ctx.correlationId, reminded: report.reminded },
          'reminders queued',
        );
        return { reminded: report.reminded };
      },
      true,
    ),
  ];
  for (const extra of options.jobs ?? []) {
    tasks.push(job(extra.name, extra.expression, () => extra.run(), extra.distributed));
  }
  if (options.notifiers.length > 0) {
    tasks.push(
      job(
        'delivery',
        options.schedules.delivery,
        () =>
          runDelivery(options.db, options.notifiers, options.logger, () => new Date(), {
            ...DEFAULT_DELIVERY,
            operators: options.operatorsChannel ?? null,
            telemetry: options.lifecycle.telemetry,
          }),
        false,
      ),
    );
  }

  let stopping = false;
  let looking = false;
  /** Takes over what dead processes left; resolves once the look is done, with the runs it started. */
  const resume = async (): Promise<Promise<void>[]> => {
    if (looking || stopping) return [];
    looking = true;
    try {
      return await resumeAbandonedRuns(coordinator, resumable, {
        logger: options.logger,
        stopping: () => stopping,
        start: (resumed, key) =>
          track(
            runClaimed(coordinator, key, resumed.run).catch((err: unknown) =>
              options.logger.error({ err, job: resumed.name, key }, `${resumed.name} failed`),
            ),
          ),
      });
    } catch (err) {
      options.logger.warn({ err }, 'could not look for abandoned scheduled runs');
      return [];
    } finally {
      looking = false;
    }
  };

  // Abandoned runs first, and finished, so that a resumed sweep counts for the catch-up's 25 hours.
  const startUp = track(
    (async () => {
      await Promise.all(await resume());
      if (!options.catchUp || stopping) return;
      await catchUpSweep(options.db, coordinator, sweepNow).then(
        (ran) => {
          if (ran) options.logger.info({ job: 'sweep' }, 'caught up a missed sweep at start');
        },
        (err: unknown) => options.logger.error({ err, job: 'sweep' }, 'catch-up sweep failed'),
      );
    })(),
  );
  // node-cron asks the coordinator only at a fire; this look is what finds a fire whose process died.
  const look = setInterval(
    () => void resume(),
    Math.min(TAKEOVER_CHECK_MAX_MS, Math.max(250, Math.floor(leaseMs / 2))),
  );
  look.unref();

  return {
    tasks,
    startUp,
    stop: async (timeoutMs = 30_000) => {
      stopping = true;
      clearInterval(look);
      const deadline = Date.now() + timeoutMs;
      for (const task of tasks) await task.stop();
      // The jobs, then their claims marked complete (node-cron does that once a job's promise settles).
      const finished =
        (await settledWithin([...running], timeoutMs)) && (await coordinator.drain(deadline - Date.now()));
      for (const task of tasks) await task.destroy();
      // Runs still going lapse and are taken over by another process.
      coordinator.stopRenewingAll();
      return finished;
    },
  };
}

/**
 * Sweeps once now if no sweep has completed in the last 25 hours: the schedule's fire fell while
 * every process was down. Several processes starting together agree on one through the same
 * coordinator, keyed by the hour.
 */
async function catchUpSweep(
  db: Db,
  coordinator: PostgresRunCoordinator,
  sweep: () => Promise<unknown>,
): Promise<boolean> {
  const [last] = rowsOf<{ completed: string | Date | null }>(
    await db.execute(sql`
      select max(completed_at) as completed from cron_runs
      where key like 'daily-sweep:%' or key like 'catch-up-sweep:%'`),
  );
  const completed = last?.completed ? new Date(last.completed) : null;
  if (completed && Date.now() - completed.getTime() < CATCH_UP_AFTER_MS) return false;
  const key = `${CATCH_UP}:${new Date().toISOString().slice(0, 13)}`;
  if (!(await coordinator.shouldRun(key))) return false;
  await runClaimed(coordinator, key, sweep);
  return true;
}
