import type { Db } from '../../db/index.js';
import type { DirectoryConfig } from '../../src/config.js';
import { type DirectoryRun, runDirectoryEffects } from '../../src/jobs/directory.js';
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

/**
 * One pass of the directory worker: the only place the bot calls it. New users' credentials are
 * delivered by `newUsers` once the directory has them.
 */
export function applyDirectoryEffects(
  db: Db,
  directory: Directory,
  logger: Logger,
  newUsers: NewUsers,
): Promise<DirectoryRun> {
  return runDirectoryEffects(db, directory, logger, undefined, undefined, newUsers);
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
      const run = await applyDirectoryEffects(options.db, options.directory, logger, options.newUsers);
      // A pass every few seconds: logged at info only when it did something.
      const busy = Object.values(run).some((n) => n > 0);
      logger[busy ? 'info' : 'debug']({ ...run }, 'directory pass finished');
      return run;
    },
  };
}
