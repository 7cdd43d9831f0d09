import type { GraphConfig } from '../../src/config.js';
import type { ScheduledJob } from '../../src/jobs/scheduler.js';
import type { Logger } from '../../src/logger.js';
import type { GraphTransport } from './client.js';
import { GraphSignInPoller, type PollLifecycle, reportCounts } from './poller.js';

export const GRAPH_TASK_NAME = 'graph-sign-ins';

/**
 * The Graph sign-in poll as one of the bot's schedules (GRAPH_SCHEDULE), run by exactly one of
 * however many bot processes share the database. With no Graph configuration it logs how to turn
 * it on and returns null. A failed run is logged; the next fire reads every user again.
 */
export function graphSignInJob(
  config: GraphConfig | null,
  options: {
    lifecycle: PollLifecycle;
    logger: Logger;
    transport?: GraphTransport;
    /** The clock each run records against; tests set it. */
    clock?: () => Date;
  },
): ScheduledJob | null {
  if (!config) {
    options.logger.info(
      { job: GRAPH_TASK_NAME },
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
  return {
    name: GRAPH_TASK_NAME,
    expression: config.schedule,
    distributed: true,
    run: async () => reportCounts(await poller.run({ kind: 'scheduler' }, clock())),
  };
}
