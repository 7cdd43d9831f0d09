import type { App, Logger as BoltLogger, Receiver, ReceiverEvent } from '@slack/bolt';
import { SocketModeClient } from '@slack/socket-mode';

/**
 * Socket Mode for Bolt through @slack/socket-mode's client, built here so that it gets the same
 * Web API options as the rest of the app (Bolt's own SocketModeReceiver does not pass
 * clientOptions on, so SLACK_API_URL would not reach `apps.connections.open`).
 */
export class SocketModeConnection implements Receiver {
  private app: App | undefined;
  readonly client: SocketModeClient;

  constructor(options: { appToken: string; apiUrl?: string | undefined; logger: BoltLogger }) {
    this.client = new SocketModeClient({
      appToken: options.appToken,
      logger: options.logger,
      clientOptions: options.apiUrl ? { slackApiUrl: options.apiUrl } : {},
    });
    this.client.on(
      'slack_event',
      async (args: {
        ack: (response?: unknown) => Promise<void>;
        body: Record<string, unknown>;
        retry_num?: number;
        retry_reason?: string;
      }) => {
        let acked = false;
        const event: ReceiverEvent = {
          body: args.body,
          // Bolt may call ack more than once on some paths; Slack wants one acknowledgement per envelope.
          ack: async (response?: unknown) => {
            if (acked) return;
            acked = true;
            await args.ack(response);
          },
          retryNum: args.retry_num,
          retryReason: args.retry_reason,
        };
        try {
          await this.app?.processEvent(event);
        } catch (error) {
          options.logger.error(error);
          await event.ack();
        }
      },
    );
  }

  init(app: App): void {
    this.app = app;
  }

  start(): Promise<unknown> {
    return this.client.start();
  }

  stop(): Promise<unknown> {
    return this.client.disconnect();
  }
}
