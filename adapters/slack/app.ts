import type { IncomingMessage, ServerResponse } from 'node:http';
import { App, HTTPReceiver } from '@slack/bolt';
import type { SlackConfig } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import type { Lifecycle } from '../../src/service/lifecycle.js';
import type { SlackDeps } from './handle.js';
import { guardSlackRequests } from './http-guard.js';
import { SlackIdentities } from './identity.js';
import { registerDisableButton, registerRemindButton, registerTransferButtons } from './listeners/actions.js';
import { registerSlashCommand } from './listeners/command.js';
import { registerForms } from './listeners/forms.js';
import { registerAppHome } from './listeners/home.js';
import { registerDirectMessages } from './listeners/messages.js';
import { boltLogger } from './logger.js';
import { SlackNotifier } from './notifier.js';
import { SocketModeConnection } from './socket-mode.js';

export interface SlackAdapter {
  mode: SlackConfig['mode'];
  app: App;
  /**
   * HTTP mode: the handler for POST /slack/events. Bolt verifies Slack's signature itself; a body
   * of a shape Bolt cannot take is answered 400 before it gets there.
   */
  requestListener: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | null;
  /** Posts queued notifications (transfer requests) into subscribed Slack channels. */
  notifier: SlackNotifier;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The Slack app on the shared core: HTTP (POST /slack/events) or Socket Mode. */
export function createSlackAdapter(
  config: SlackConfig,
  options: { lifecycle: Lifecycle; logger: Logger; clock?: () => Date },
): SlackAdapter {
  const logger = boltLogger(options.logger);
  const clientOptions = config.apiUrl ? { slackApiUrl: config.apiUrl } : {};
  const deps: SlackDeps = {
    lifecycle: options.lifecycle,
    identities: new SlackIdentities(options.lifecycle),
    logger: options.logger.child({ component: 'slack' }),
    clock: options.clock ?? (() => new Date()),
  };
  let app: App;
  let requestListener: SlackAdapter['requestListener'] = null;
  if (config.mode === 'http') {
    const receiver = new HTTPReceiver({
      signingSecret: config.signingSecret ?? '',
      endpoints: '/slack/events',
      logger,
    });
    app = new App({ token: config.botToken, receiver, clientOptions, logger });
    requestListener = guardSlackRequests(receiver.requestListener, deps.logger);
  } else {
    const receiver = new SocketModeConnection({
      appToken: config.appToken ?? '',
      apiUrl: config.apiUrl,
      logger,
    });
    app = new App({ token: config.botToken, receiver, clientOptions, logger });
  }
  // Every listener's whole run, including work after the ack, counts as work in progress: a
  // stopping bot lets it finish (answers through response_url included).
  app.use(async ({ next }) => {
    await deps.lifecycle.inFlight.track(next());
  });
  registerSlashCommand(app, deps);
  registerDirectMessages(app, deps);
  registerAppHome(app, deps);
  registerTransferButtons(app, deps);
  registerRemindButton(app, deps);
  registerDisableButton(app, deps);
  registerForms(app, deps);
  app.error(async (err) => {
    deps.logger.error({ err }, 'slack listener failed');
  });
  return {
    mode: config.mode,
    app,
    requestListener,
    notifier: new SlackNotifier(config.botToken, config.apiUrl),
    start: async () => {
      if (config.mode === 'socket') await app.start();
    },
    stop: async () => {
      if (config.mode === 'socket') await app.stop();
    },
  };
}
