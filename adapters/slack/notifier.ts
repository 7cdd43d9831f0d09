import { webApi } from '@slack/bolt';
import { HOLDER_KINDS, holderText } from '../../src/commands/holder-messages.js';
import type {
  ChannelNotifier,
  ChannelTarget,
  OutgoingNotification,
  SendOutcome,
} from '../../src/service/ports.js';
import { notificationMessage, SLACK_NOTIFICATION_KINDS, slackParts } from './format/notifications.js';

/** Slack errors that no retry will mend: the channel is gone or the bot may not post there. */
const PERMANENT = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'missing_scope',
  'restricted_action',
]);

interface SlackApiError {
  code?: string;
  retryAfter?: number;
  statusCode?: number;
  data?: { error?: string };
  message?: string;
}

/**
 * Posts queued notifications into subscribed Slack channels. Its Web API client neither waits
 * out rate limits nor retries by itself: the delivery worker honours Retry-After per channel and
 * owns the retry budget, so a message is never sent twice behind its back.
 */
export class SlackNotifier implements ChannelNotifier {
  readonly platform = 'slack' as const;
  readonly kinds = SLACK_NOTIFICATION_KINDS;
  readonly minIntervalMs = 1000;
  readonly directKinds = HOLDER_KINDS;
  readonly parts = slackParts;
  private readonly client: webApi.WebClient;

  constructor(token: string, apiUrl?: string) {
    this.client = new webApi.WebClient(token, {
      ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
    });
  }

  async post(target: ChannelTarget, notification: OutgoingNotification): Promise<SendOutcome> {
    try {
      if (target.direct) {
        // A holder: found by their @nhs.net address as their Slack e-mail; a DM goes to their user id.
        const found = await this.client.users
          .lookupByEmail({ email: target.channelId })
          .catch((e: SlackApiError) => {
            if (e.data?.error === 'users_not_found') return null;
            throw e;
          });
        if (!found?.user?.id) return { ok: true, note: 'no Slack user with this e-mail' };
        await this.client.chat.postMessage({ channel: found.user.id, text: holderText(notification) });
        return { ok: true };
      }
      await this.client.chat.postMessage({ channel: target.channelId, ...notificationMessage(notification) });
      return { ok: true };
    } catch (e) {
      const err = e as SlackApiError;
      if (err.code === 'slack_webapi_rate_limited_error') {
        return { ok: false, retryAfterMs: (err.retryAfter ?? 1) * 1000, error: 'rate limited' };
      }
      if (err.code === 'slack_webapi_platform_error') {
        const error = err.data?.error ?? 'platform error';
        return { ok: false, permanent: PERMANENT.has(error), error };
      }
      return {
        ok: false,
        permanent: false,
        error: err.statusCode ? `HTTP ${err.statusCode}` : (err.message ?? String(e)),
      };
    }
  }
}
