import type { Logger } from '../logger.js';
import type { PostgresRunCoordinator } from './run-coordinator.js';

/** A distributed job as far as resuming goes: it works from state, so running it again finishes a dead run's work. */
export interface ResumableJob {
  /** For logs. */
  name: string;
  /** The job names in `cron_runs` keys whose runs this job resumes (the sweep: `daily-sweep`, `catch-up-sweep`). */
  keys: readonly string[];
  run(): Promise<unknown>;
}

/**
 * Runs `run` under a claim this process holds, then completes the claim whatever the outcome, as
 * node-cron does for a fire: a failing job is not retried every lease.
 */
export async function runClaimed(
  coordinator: PostgresRunCoordinator,
  key: string,
  run: () => Promise<unknown>,
): Promise<void> {
  try {
    await run();
  } finally {
    await coordinator.onComplete(key);
  }
}

/**
 * Looks for runs whose claimant stopped renewing its lease (killed, or cut off from the
 * database), and resumes them. node-cron only asks the coordinator at a fire, so without this an
 * abandoned fire waits for the job's next fire (a day, for the sweep).
 *
 * Per job, only the newest abandoned run is taken over, through the same atomic claim as a fire,
 * and the job run once: working from state, one run finishes all of them. The older ones, and a
 * newest one that a later claim of the job covers (a fire since, finished or still renewed), are
 * closed without running. Returns the runs started, for a caller that waits for them.
 */
export async function resumeAbandonedRuns(
  coordinator: PostgresRunCoordinator,
  jobs: readonly ResumableJob[],
  options: {
    logger: Logger;
    /** Starts the taken-over run (tracked, so a stopping process waits for it). */
    start(job: ResumableJob, key: string): Promise<void>;
    /** True once the process is stopping: nothing more is taken over. */
    stopping(): boolean;
  },
): Promise<Promise<void>[]> {
  const abandoned = await coordinator.abandoned(jobs.flatMap((job) => job.keys));
  const started: Promise<void>[] = [];
  for (const job of jobs) {
    const runs = abandoned.filter((run) => job.keys.includes(run.job));
    const newest = runs.at(-1);
    if (!newest) continue;
    const covered = await coordinator.claimedAfter(job.keys, newest.claimedAt);
    for (const run of covered ? runs : runs.slice(0, -1)) {
      if (await coordinator.close(run.key)) {
        options.logger.info(
          { job: run.job, key: run.key, previousClaimant: run.claimedBy },
          'closed an abandoned scheduled run without running it: a later run of the job covers it',
        );
      }
    }
    if (covered || options.stopping()) continue;
    // Another process may take it first; then it runs there.
    if ((await coordinator.acquire(newest.key)).claimed) started.push(options.start(job, newest.key));
  }
  return started;
}
