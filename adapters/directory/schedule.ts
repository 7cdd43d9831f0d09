import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../../db/index.js';
import type { DirectoryConfig } from '../../src/config.js';
import {
  DEFAULT_DIRECTORY_WORKER,
  type DirectoryRun,
  runDirectoryEffects,
} from '../../src/jobs/directory.js';
import type { ScheduledJob } from '../../src/jobs/scheduler.js';
import type { Logger } from '../../src/logger.js';
import type { NewUsers } from '../../src/service/new-users.js';
import type { AddressDirectory, Directory } from '../../src/service/ports.js';
import { createDirectoryGraphClient, type GraphTransport, GraphUsersClient } from '../graph/client.js';
import { createEntraDirectory } from './entra.js';
import { assertDirectoryPermissions, grantedRoles } from './entra-permissions.js';

export const DIRECTORY_TASK_NAME = 'directory-effects';

/**
 * DIRECTORY=entra at start: an app-only token through the sign-in poller's MSAL path, its
 * `roles` checked against the permissions the directory needs, then the Entra directory. Throws
 * a DomainError the start-up failure shows as it is: GRAPH_TOKEN_REFUSED (the authority's answer,
 * never the secret) or DIRECTORY_PERMISSIONS_MISSING (each missing permission named).
 */
export async function connectEntraDirectory(
  config: DirectoryConfig,
  options: { logger: Logger; transport?: GraphTransport },
): Promise<Directory & AddressDirectory> {
  const { graph } = config;
  const token = await new GraphUsersClient(graph, options.logger, options.transport).token();
  assertDirectoryPermissions(grantedRoles(token, graph), config.credential, graph);
  return createEntraDirectory({
    client: createDirectoryGraphClient(graph, options.logger, options.transport),
    graphOrigin: graph.baseUrl,
    credential: config.credential,
    logger: options.logger,
  });
}

/** How long one fire of the schedule keeps working through the queue before leaving it to the next. */
export const DRAIN_MS = 10_000;

/**
 * One fire of the directory worker: the only place the bot calls it. The pacer lets a pass claim
 * only the writes due within a few seconds, so a fire keeps taking passes, waiting for the next
 * write slot between them, until nothing is due or DRAIN_MS has gone; the next fire goes on from
 * there. New users' credentials are delivered by `newUsers` once the directory has them.
 */
export async function applyDirectoryEffects(
  db: Db,
  directory: Directory,
  logger: Logger,
  newUsers: NewUsers,
  options: { writesPerSecond: number; drainMs?: number; now?: () => Date } = { writesPerSecond: 20 },
): Promise<DirectoryRun> {
  const now = options.now ?? (() => new Date());
  const worker = { ...DEFAULT_DIRECTORY_WORKER, writesPerSecond: options.writesPerSecond };
  const total: DirectoryRun = { applied: 0, throttled: 0, retried: 0, failed: 0, conflicts: 0 };
  const until = Date.now() + (options.drainMs ?? DRAIN_MS);
  for (;;) {
    const run = await runDirectoryEffects(db, directory, logger, now, worker, newUsers);
    for (const key of Object.keys(total) as Array<keyof DirectoryRun>) total[key] += run[key];
    const touched = Object.values(run).some((n) => n > 0);
    if (Date.now() >= until || (!touched && !(await effectsDue(db, now())))) return total;
    // Held back by the pacer, a throttle or the queue's order: wait for the next write slot.
    if (!touched) await sleep(Math.min(1_000, Math.max(0, until - Date.now())));
  }
}

/**
 * Whether any effect could be claimed now but for the pacer or a throttle: due, not under another
 * pass's lease, and not held back by an earlier effect of its account (one parked holds its
 * account's later ones until someone retries it, so waiting for it would spin the whole fire).
 */
async function effectsDue(db: Db, at: Date): Promise<boolean> {
  const now = at.toISOString();
  const rows = rowsOf<{ id: number }>(
    await db.execute(sql`
      select e.id from directory_effects e
      where e.state = 'pending' and e.available_at <= ${now}::timestamptz
        and (e.leased_until is null or e.leased_until <= ${now}::timestamptz)
        and not exists (
          select 1 from directory_effects p
          where p.account_id = e.account_id and p.id < e.id and p.state <> 'applied')
      limit 1`),
  );
  return rows.length > 0;
}

/**
 * The directory worker as one of the bot's schedules (DIRECTORY_SCHEDULE): one process per fire,
 * and a fire whose process died is run again elsewhere, which the worker's leases make safe.
 */
export function directoryJob(
  config: DirectoryConfig,
  options: { db: Db; directory: Directory; logger: Logger; newUsers: NewUsers },
): ScheduledJob {
  const logger = options.logger.child({ job: DIRECTORY_TASK_NAME });
  return {
    name: DIRECTORY_TASK_NAME,
    expression: config.schedule,
    distributed: true,
    run: async () => {
      const run = await applyDirectoryEffects(options.db, options.directory, logger, options.newUsers, {
        writesPerSecond: config.writesPerSecond,
      });
      // A fire every few seconds: logged at info only when it did something.
      const busy = Object.values(run).some((n) => n > 0);
      logger[busy ? 'info' : 'debug']({ ...run }, 'directory pass finished');
      return run;
    },
  };
}
