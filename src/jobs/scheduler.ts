import cron, { type ScheduledTask } from 'node-cron';
import type { Db } from '../../db/index.js';
import type { Logger } from '../logger.js';
import type { Lifecycle } from '../service/lifecycle.js';
import { PostgresRunCoordinator } from './run-coordinator.js';

export interface ScheduleOptions {
  db: Db;
  lifecycle: Lifecycle;
  logger: Logger;
  sweepSchedule: string;
  timezone: string;
}

export interface Scheduler {
  tasks: ScheduledTask[];
  stop(): Promise<void>;
}

/**
 * The daily sweep, fired on exactly one of however many bot processes share the database.
 * Sweeps work from state, so a fire missed while every process was down is caught up next time.
 */
export function startScheduler(options: ScheduleOptions): Scheduler {
  const coordinator = new PostgresRunCoordinator(options.db);
  const log = options.logger.child({ job: 'sweep' });
  const sweep = cron.schedule(
    options.sweepSchedule,
    async () => {
      const started = Date.now();
      const report = await options.lifecycle.sweep(
        { actor: { kind: 'scheduler' }, platform: 'schedule', now: new Date() },
        { dryRun: false },
      );
      log.info({ counts: report.counts, ms: Date.now() - started }, 'sweep finished');
      return report.counts;
    },
    {
      name: 'daily-sweep',
      timezone: options.timezone,
      noOverlap: true,
      distributed: true,
      runCoordinator: coordinator,
      logger: {
        info: (m) => log.info(m),
        warn: (m) => log.warn(m),
        error: (m, err) => log.error({ err }, String(m)),
        debug: (m) => log.debug(String(m)),
      },
    },
  );
  sweep.on('execution:failed', (ctx) => log.error({ err: ctx.execution?.error }, 'sweep failed'));
  sweep.on('execution:skipped', (ctx) =>
    log.debug({ reason: ctx.reason }, 'sweep fire taken by another process'),
  );
  return {
    tasks: [sweep],
    stop: async () => {
      await sweep.destroy();
    },
  };
}
