import type { CloudAdapter, ConversationReference } from 'botbuilder';
import type { ConnectorClient } from 'botframework-connector';
import type { ChannelNotifier, ChannelTarget, OutgoingNotification } from '../../src/jobs/delivery.js';
import type { Lifecycle } from '../../src/service/lifecycle.js';
import { transferCard } from './format/cards.js';

/** Posts queued notifications into subscribed Teams channels, proactively, from stored references. */
export class TeamsNotifier implements ChannelNotifier {
  readonly platform = 'teams' as const;
  readonly kinds = ['transfer-leaver', 'transfer-joiner'] as const;

  constructor(
    private readonly adapter: CloudAdapter,
    private readonly appId: string,
    private readonly lifecycle: Lifecycle,
  ) {}

  async post(target: ChannelTarget, notification: OutgoingNotification): Promise<void> {
    const stored = await this.lifecycle.storedConversation(target.channelId);
    if (!stored)
      throw new Error(
        `no Teams conversation reference for ${target.channelId}: the bot must be installed there`,
      );
    await this.adapter.continueConversationAsync(
      this.appId,
      stored.reference as unknown as Partial<ConversationReference>,
      async (context) => {
        // A new post in the channel, not a reply to the synthetic activity of the proactive turn.
        const client = context.turnState.get<ConnectorClient>(context.adapter.ConnectorClientKey);
        await client.conversations.sendToConversation(target.channelId, {
          type: 'message',
          attachments: [transferCard(notification)],
        });
      },
    );
  }
}
