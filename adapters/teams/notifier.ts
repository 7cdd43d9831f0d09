import type { Activity, CloudAdapter, ConversationReference } from 'botbuilder';
import type { ConnectorClient } from 'botframework-connector';
import { CHANNEL_KINDS } from '../../src/commands/channel-messages.js';
import { HOLDER_KINDS, holderText } from '../../src/commands/holder-messages.js';
import type { Lifecycle } from '../../src/service/lifecycle.js';
import type {
  ChannelNotifier,
  ChannelTarget,
  OutgoingNotification,
  SendOutcome,
} from '../../src/service/ports.js';
import { notificationCard, teamsParts } from './format/cards.js';

/**
 * Posts queued notifications proactively from stored conversation references: into subscribed
 * Teams channels, and to holders in their personal chat with the bot.
 */
export class TeamsNotifier implements ChannelNotifier {
  readonly platform = 'teams' as const;
  readonly kinds = CHANNEL_KINDS;
  readonly directKinds = HOLDER_KINDS;
  /**
   * One message a second per conversation: Teams allows a bot about 7 a second and 60 in 30 s per
   * conversation ("Rate limiting for bots"), so this stays inside both and leaves room for replies.
   */
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
    // The send's failure is caught inside the turn: thrown out of it, the adapter's onTurnError
    // would take it, post the "something went wrong" text into the channel and return normally,
    // so a 429 or a 403 would be counted as delivered.
    let failure: { error: unknown } | undefined;
    try {
      await this.adapter.continueConversationAsync(
        this.appId,
        reference as unknown as Partial<ConversationReference>,
        async (context) => {
          const client = context.turnState.get<ConnectorClient>(context.adapter.ConnectorClientKey);
          withoutHiddenRetries(client);
          try {
            // A new post in the conversation, not a reply to the synthetic activity of the proactive turn.
            await client.conversations.sendToConversation(conversationId, activity);
          } catch (error) {
            failure = { error };
          }
        },
      );
    } catch (error) {
      failure = { error };
    }
    return failure ? outcomeOf(failure.error) : { ok: true };
  }
}

/**
 * Takes the retry policy out of a connector client's HTTP pipeline. By default the Azure pipeline
 * under botbuilder retries a 429 itself after sleeping its Retry-After, and a 500 or a dropped
 * connection up to three times with backoff, all inside one post() call. That hides the
 * Retry-After from the outbox worker, which must record it as the conversation's gate so no
 * process posts there before it passes, and ties the worker up sleeping; the worker's own
 * backoff and retry budget are the only retries we want (as the Slack client's are turned off).
 * botbuilder creates a connector client per proactive turn and passes no retry options through,
 * so the policy is removed from each one; `client` is the compat layer's field holding the
 * @azure/core-client ServiceClient, whose `pipeline` is public. If a botbuilder upgrade moves it,
 * the Teams outbox chaos test fails.
 */
function withoutHiddenRetries(client: ConnectorClient): void {
  const inner = (client as unknown as { client?: { pipeline?: PipelineLike } }).client;
  inner?.pipeline?.removePolicy({ phase: 'Retry' });
}

/** The part of @azure/core-rest-pipeline's Pipeline used here (not a direct dependency). */
interface PipelineLike {
  removePolicy(options: { name?: string; phase?: 'Serialize' | 'Retry' | 'Sign' | 'Deserialize' }): unknown[];
}

/** A Connector refusal as the worker's outcome: 429 waits for Retry-After, 403/404 are for good. */
function outcomeOf(e: unknown): SendOutcome {
  const err = e as {
    statusCode?: number;
    response?: { headers?: { get?(name: string): string | null | undefined } };
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
    // 403: the bot was removed from the team or chat (or blocked); 404: the conversation is gone.
    permanent: status === 403 || status === 404,
    error: status ? `HTTP ${status}` : (err.message ?? String(e)),
  };
}
