import { type Config, ConfigError, loadConfig } from '../../src/config.js';
import { isDomainError } from '../../src/domain/errors.js';
import { createLogger } from '../../src/logger.js';
import { describeError, safeText } from '../../src/safe-errors.js';
import { isEntrypoint } from '../entrypoint.js';
import { DatabaseBusyError, openRuntime } from '../runtime.js';
import { GraphSignInPoller } from './poller.js';

/**
 * `npm run graph:poll`: one Graph sign-in poll now, as the operator, without waiting for
 * GRAPH_SCHEDULE — to check the app's permissions after granting them, or to catch up. Prints
 * the report as JSON; exits 1 when Graph or Entra refuse, 2 when the configuration is wrong.
 */
async function main(): Promise<number> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (!config.graph) {
    process.stderr.write(
      'The Graph sign-in poller is not configured: set GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET.\n',
    );
    return 2;
  }
  const logger = createLogger({ level: config.logLevel, destination: 'stderr' });
  let runtime: Awaited<ReturnType<typeof openRuntime>>;
  try {
    runtime = await openRuntime(config);
  } catch (e) {
    if (e instanceof DatabaseBusyError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
  try {
    const poller = new GraphSignInPoller(config.graph, { lifecycle: runtime.lifecycle, logger });
    const report = await poller.run({ kind: 'operator' }, new Date());
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  } catch (e) {
    if (!isDomainError(e)) throw e;
    process.stderr.write(`${e.message}\n`);
    return 1;
  } finally {
    await runtime.close();
  }
}

if (isEntrypoint(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(
        `graph poll failed: ${err instanceof Error ? safeText(err.stack ?? err.message) : describeError(err)}\n`,
      );
      process.exit(1);
    },
  );
}
