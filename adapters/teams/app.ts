import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CloudAdapter, ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import { internalErrorReply } from '../../src/commands/execute.js';
import type { TeamsConfig } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import type { Lifecycle } from '../../src/service/lifecycle.js';
import { httpError, sendError } from '../http-error.js';
import { CORRELATION_ID, onTurn, type TeamsDeps } from './bot.js';
import { activityProblem, botRequest, botResponse, readJson } from './http.js';
import { TeamsIdentities } from './identity.js';
import { TeamsNotifier } from './notifier.js';

export interface TeamsAdapter {
  adapter: CloudAdapter;
  /** Whether requests must carry a valid Bot Framework token (false only outside production, with no app id). */
  authenticated: boolean;
  /** Posts queued notifications (transfer requests) into subscribed Teams channels. */
  notifier: TeamsNotifier;
  /** The handler for POST /api/messages: botbuilder authenticates the request itself. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export type TeamsAdapterResult = { ok: true; teams: TeamsAdapter } | { ok: false; reason: string };

/** Why this configuration cannot run the Teams adapter, or null when it can. Known before the database is open. */
export function teamsAdapterRefusal(config: TeamsConfig): string | null {
  return !config.appId && config.production
    ? 'Teams adapter not started: NODE_ENV=production and no MicrosoftAppId, so botbuilder would accept unauthenticated requests. Set MicrosoftAppId and MicrosoftAppPassword (and MicrosoftAppType/MicrosoftAppTenantId) from the Azure Bot registration.'
    : null;
}

/** The Teams bot on the shared core, behind botbuilder's CloudAdapter. */
export function createTeamsAdapter(
  config: TeamsConfig,
  options: { lifecycle: Lifecycle; logger: Logger; clock?: () => Date },
): TeamsAdapterResult {
  const refusal = teamsAdapterRefusal(config);
  if (refusal) return { ok: false, reason: refusal };
  const auth = new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: config.appId ?? '',
    MicrosoftAppPassword: config.appPassword ?? '',
    MicrosoftAppType: config.appType ?? 'MultiTenant',
    MicrosoftAppTenantId: config.appTenantId ?? '',
  });
  const adapter = new CloudAdapter(auth);
  const logger = options.logger.child({ component: 'teams' });
  const deps: TeamsDeps = {
    lifecycle: options.lifecycle,
    identities: new TeamsIdentities(options.lifecycle),
    logger,
    clock: options.clock ?? (() => new Date()),
  };
  const authenticated = Boolean(config.appId);
  // botbuilder calls this when a turn throws. Were it to throw too (the Connector refusing the
  // apology as it refused the reply), botbuilder would print the error to the console itself.
  adapter.onTurnError = async (context, err) => {
    const correlationId = context.turnState.get<string>(CORRELATION_ID) ?? randomUUID();
    logger.error({ err, correlationId }, 'teams turn failed');
    try {
      await context.sendActivity(internalErrorReply(correlationId).text);
    } catch (sendErr) {
      logger.error({ err: sendErr, correlationId }, 'teams: the error reply could not be sent either');
    }
  };
  return {
    ok: true,
    teams: {
      adapter,
      authenticated,
      notifier: new TeamsNotifier(adapter, config.appId ?? '', options.lifecycle),
      handle: async (req, res) => {
        const body = await readJson(req);
        // Not an activity botbuilder can take: refuse here rather than let it fail with a 500.
        const problem = body === null ? 'not a Bot Framework activity' : activityProblem(body, authenticated);
        if (problem) {
          logger.warn({ problem }, 'malformed Teams activity refused');
          sendError(res, httpError('MALFORMED_REQUEST', `Not an activity the bot serves: ${problem}.`));
          return;
        }
        await adapter.process(botRequest(req, body), botResponse(res), (context) => onTurn(deps, context));
      },
    },
  };
}
