import type { webApi } from '@slack/bolt';
import type { ChannelNotifier, ChannelTarget, OutgoingNotification } from '../../src/jobs/delivery.js';
import { notificationMessage, SLACK_NOTIFICATION_KINDS } from './format/notifications.js';

/** Posts queued notifications into subscribed Slack channels. */
export class SlackNotifier implements ChannelNotifier {
  readonly platform = 'slack' as const;
  readonly kinds = SLACK_NOTIFICATION_KINDS;

  constructor(private readonly client: webApi.WebClient) {}

  async post(target: ChannelTarget, notification: OutgoingNotification): Promise<void> {
    const message = notificationMessage(notification);
    await this.client.chat.postMessage({ channel: target.channelId, ...message });
  }
}
