import cron, { type ScheduledTask } from 'node-cron';
import type { Db } from '../../db/index.js';
import type { GraphConfig } from '../../src/config.js';
import { PostgresRunCoordinator } from '../../src/jobs/run-coordinator.js';
import type { Logger } from '../../src/logger.js';
import type { Lifecycle } from '../../src/service/lifecycle.js';
import type { GraphTransport } from './client.js';
import { GraphSignInPoller, reportCounts } from './poller.js';

export const GRAPH_TASK_NAME = 'graph-sign-ins';

/**
 * Schedules the Graph sign-in poll on GRAPH_SCHEDULE, run by exactly one of however many bot
 * processes share the database. With no Graph configuration it logs how to turn it on and
 * returns null. A failed run is logged; the next fire reads every user again.
 */
export function startGraphPoller(
  config: GraphConfig | null,
  options: {
    db: Db;
    lifecycle: Pick<Lifecycle, 'recordObservedActivity'>;
    logger: Logger;
    timezone: string;
    transport?: GraphTransport;
    /** The clock each run records against; tests set it. */
    clock?: () => Date;
  },
): ScheduledTask | null {
  const log = options.logger.child({ job: GRAPH_TASK_NAME });
  if (!config) {
    log.info(
      'Graph sign-in poller off: set GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET (an app with AuditLog.Read.All and User.Read.All) to turn it on',
    );
    return null;
  }
  const clock = options.clock ?? (() => new Date());
  const poller = new GraphSignInPoller(config, {
    lifecycle: options.lifecycle,
    logger: options.logger,
    ...(options.transport ? { transport: options.transport } : {}),
  });
  const task = cron.schedule(
    config.schedule,
    async () => reportCounts(await poller.run({ kind: 'scheduler' }, clock())),
    {
      name: GRAPH_TASK_NAME,
      timezone: options.timezone,
      noOverlap: true,
      distributed: true,
      runCoordinator: new PostgresRunCoordinator(options.db),
      logger: {
        info: (m) => log.info(m),
        warn: (m) => log.warn(m),
        error: (m, err) => log.error({ err }, String(m)),
        debug: (m) => log.debug(String(m)),
      },
    },
  );
  task.on('execution:skipped', (ctx) =>
    log.debug({ reason: ctx.reason }, 'graph poll fire taken by another process'),
  );
  log.info(
    { schedule: config.schedule, timezone: options.timezone, next: task.getNextRun()?.toISOString() },
    'Graph sign-in poller scheduled',
  );
  return task;
}
