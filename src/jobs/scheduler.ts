import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import cron, { type ScheduledTask, type TaskContext } from 'node-cron';
import { type Db, rowsOf } from '../../db/index.js';
import type { Logger } from '../logger.js';
import type { RequestContext } from '../service/context.js';
import type { Lifecycle } from '../service/lifecycle.js';
import { settledWithin } from '../service/telemetry.js';
import { type ChannelNotifier, DEFAULT_DELIVERY, type OperatorsChannel, runDelivery } from './delivery.js';
import { PostgresRunCoordinator } from './run-coordinator.js';

export interface Schedules {
  /** The daily sweep: clocks, state changes, warnings and digests. */
  sweep: string;
  /** Reminders to holders of accounts still pending first login (and MFA). */
  reminders: string;
  /** The outbox worker: a pass over queued notifications (node-cron's six-field form for seconds). */
  delivery: string;
}

/** A further schedule an adapter contributes (the Graph sign-in poll). */
export interface ScheduledJob {
  name: string;
  expression: string;
  /** True: one process per fire (RunCoordinator); false: every process runs it. */
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
}

export interface Scheduler {
  tasks: ScheduledTask[];
  /** The catch-up sweep's run, when one was started. */
  catchUp: Promise<void>;
  /** Stops the schedules and waits (up to `timeoutMs`) for running jobs; true when they all finished. */
  stop(timeoutMs?: number): Promise<boolean>;
}

/** A sweep missed for longer than this is caught up when a process starts. */
const CATCH_UP_AFTER_MS = 25 * 3_600_000;

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
 * from state, so a fire missed while every process was down is caught up at the next start.
 */
export function startScheduler(options: ScheduleOptions): Scheduler {
  const coordinator = new PostgresRunCoordinator(options.db);
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

  const job = (name: string, expression: string, run: () => Promise<unknown>, distributed: boolean) => {
    const log = options.logger.child({ job: name });
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
    job('daily-sweep', options.schedules.sweep, sweepNow, true),
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

  const catchUp = options.catchUp
    ? track(
        catchUpSweep(options.db, coordinator, sweepNow).then(
          (ran) => {
            if (ran) options.logger.info({ job: 'sweep' }, 'caught up a missed sweep at start');
          },
          (err: unknown) => options.logger.error({ err, job: 'sweep' }, 'catch-up sweep failed'),
        ),
      )
    : Promise.resolve();

  return {
    tasks,
    catchUp,
    stop: async (timeoutMs = 30_000) => {
      for (const task of tasks) await task.stop();
      const finished = await settledWithin([...running], timeoutMs);
      for (const task of tasks) await task.destroy();
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
  const key = `catch-up-sweep:${new Date().toISOString().slice(0, 13)}`;
  if (!(await coordinator.shouldRun(key))) return false;
  await sweep();
  await coordinator.onComplete(key);
  return true;
}
