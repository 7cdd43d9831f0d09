import type { CloudAdapter, ConversationReference } from 'botbuilder';
import type { ConnectorClient } from 'botframework-connector';
import type {
  ChannelNotifier,
  ChannelTarget,
  OutgoingNotification,
  SendOutcome,
} from '../../src/jobs/delivery.js';
import type { Lifecycle } from '../../src/service/lifecycle.js';
import { notificationCard, teamsParts } from './format/cards.js';

/** Posts queued notifications into subscribed Teams channels, proactively, from stored references. */
export class TeamsNotifier implements ChannelNotifier {
  readonly platform = 'teams' as const;
  readonly kinds = ['transfer-leaver', 'transfer-joiner', 'digest'] as const;
  readonly minIntervalMs = 1000;
  /** Holders' personal chats in Teams need a reference keyed by address: not yet stored, so none. */
  readonly directKinds: readonly string[] = [];
  readonly parts = teamsParts;

  constructor(
    private readonly adapter: CloudAdapter,
    private readonly appId: string,
    private readonly lifecycle: Lifecycle,
  ) {}

  async post(target: ChannelTarget, notification: OutgoingNotification): Promise<SendOutcome> {
    const stored = await this.lifecycle.storedConversation(target.channelId);
    if (!stored) {
      return {
        ok: false,
        permanent: true,
        error: `no conversation reference for ${target.channelId}: the app is not installed there`,
      };
    }
    try {
      await this.adapter.continueConversationAsync(
        this.appId,
        stored.reference as unknown as Partial<ConversationReference>,
        async (context) => {
          // A new post in the channel, not a reply to the synthetic activity of the proactive turn.
          const client = context.turnState.get<ConnectorClient>(context.adapter.ConnectorClientKey);
          await client.conversations.sendToConversation(target.channelId, {
            type: 'message',
            attachments: [notificationCard(notification)],
          });
        },
      );
      return { ok: true };
    } catch (e) {
      const err = e as {
        statusCode?: number;
        response?: { headers?: { get?(name: string): string | null } };
        message?: string;
      };
      const status = err.statusCode ?? 0;
      if (status === 429) {
        const header = Number(err.response?.headers?.get?.('retry-after') ?? '1');
        return {
          ok: false,
          retryAfterMs: (Number.isFinite(header) ? header : 1) * 1000,
          error: 'rate limited',
        };
      }
      return {
        ok: false,
        permanent: status === 403 || status === 404,
        error: status ? `HTTP ${status}` : (err.message ?? String(e)),
      };
    }
  }
}
