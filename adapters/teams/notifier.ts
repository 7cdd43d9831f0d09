import type { Activity, CloudAdapter, ConversationReference } from 'botbuilder';
import type { ConnectorClient } from 'botframework-connector';
import { DIGEST_KINDS } from '../../src/commands/channel-messages.js';
import { HOLDER_KINDS, holderText } from '../../src/commands/holder-messages.js';
import {
  type ChannelNotifier,
  type ChannelTarget,
  type OutgoingNotification,
  PARKED_KIND,
  type SendOutcome,
} from '../../src/jobs/delivery.js';
import type { Lifecycle } from '../../src/service/lifecycle.js';
import { notificationCard, teamsParts } from './format/cards.js';

/**
 * Posts queued notifications proactively from stored conversation references: into subscribed
 * Teams channels, and to holders in their personal chat with the bot.
 */
export class TeamsNotifier implements ChannelNotifier {
  readonly platform = 'teams' as const;
  readonly kinds = [
    'transfer-leaver',
    'transfer-joiner',
    'leaver-request',
    PARKED_KIND,
    ...DIGEST_KINDS,
  ] as const;
  readonly directKinds = HOLDER_KINDS;
  readonly minIntervalMs = 1000;
  readonly parts = teamsParts;

  constructor(
    private readonly adapter: CloudAdapter,
    private readonly appId: string,
    private readonly lifecycle: Lifecycle,
  ) {}

  async post(target: ChannelTarget, notification: OutgoingNotification): Promise<SendOutcome> {
    if (target.direct) {
      const personal = await this.lifecycle.personalConversation(target.channelId);
      if (!personal) return { ok: true, note: 'no Teams chat with this person yet' };
      return this.send(personal.reference, personal.conversationId, {
        type: 'message',
        text: holderText(notification),
      });
    }
    const stored = await this.lifecycle.storedConversation(target.channelId);
    if (!stored) {
      return {
        ok: false,
        permanent: true,
        error: `no conversation reference for ${target.channelId}: the app is not installed there`,
      };
    }
    return this.send(stored.reference, target.channelId, {
      type: 'message',
      attachments: [notificationCard(notification)],
    });
  }

  private async send(
    reference: Record<string, unknown>,
    conversationId: string,
    activity: Partial<Activity>,
  ): Promise<SendOutcome> {
    try {
      await this.adapter.continueConversationAsync(
        this.appId,
        reference as unknown as Partial<ConversationReference>,
        async (context) => {
          // A new post in the conversation, not a reply to the synthetic activity of the proactive turn.
          const client = context.turnState.get<ConnectorClient>(context.adapter.ConnectorClientKey);
          await client.conversations.sendToConversation(conversationId, activity);
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
