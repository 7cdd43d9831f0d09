import { randomUUID } from 'node:crypto';
import type { GraphConfig } from '../../src/config.js';
import type { ScheduledJob } from '../../src/jobs/scheduler.js';
import type { Logger } from '../../src/logger.js';
import type { DirectoryReader } from '../../src/service/directory-reader.js';
import type { Lifecycle } from '../../src/service/lifecycle.js';
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
    /**
     * The drift round (issue 15), run after each poll when the directory is configured
     * (DIRECTORY=entra); its summary joins the run's result. A failure is logged, and the poll's
     * result stands.
     */
    drift?: ((now: Date) => Promise<unknown>) | undefined;
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
    run: async () => {
      const poll = poller.run({ kind: 'scheduler' }, clock()).then(reportCounts);
      if (!options.drift) return poll;
      // The drift round runs even when the poll was refused (its sign-in report needs a licence
      // the delta does not), and the poll's result, or its failure, stands whatever drift does.
      const polled = await poll.then(
        (counts) => ({ ok: true as const, counts }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      let drift: unknown;
      try {
        drift = await options.drift(clock());
      } catch (e) {
        options.logger.error(
          { job: GRAPH_TASK_NAME, err: e },
          'directory drift round failed; the next run tries again',
        );
        drift = { failed: e instanceof Error ? e.message : String(e) };
      }
      if (!polled.ok) throw polled.error;
      return { ...polled.counts, drift };
    },
  };
}

/**
 * The drift round the Graph job runs after each poll, as the scheduler, when a directory is
 * configured (`configuredDirectoryReader`); none otherwise.
 */
export function driftRunner(
  lifecycle: Pick<Lifecycle, 'directoryDrift'>,
  reader: DirectoryReader | undefined,
): ((now: Date) => Promise<unknown>) | undefined {
  if (!reader) return undefined;
  return (now) =>
    lifecycle.directoryDrift(
      { actor: { kind: 'scheduler' }, platform: 'schedule', now, correlationId: randomUUID() },
      { reader },
    );
}
