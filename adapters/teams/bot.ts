import { randomUUID } from 'node:crypto';
import { type Activity, type ConversationReference, TurnContext } from 'botbuilder';
import { runText } from '../../src/commands/execute.js';
import { formForText } from '../../src/commands/forms.js';
import type { Logger } from '../../src/logger.js';
import type { ChatOrigin } from '../../src/service/context.js';
import type { Lifecycle } from '../../src/service/lifecycle.js';
import { type CardSubmit, formCard } from './format/cards.js';
import { replyActivities } from './format/reply.js';
import type { TeamsIdentities } from './identity.js';
import { commandText, parseTeamsMention } from './mentions.js';
import { onCardSubmit } from './submits.js';

/** What the Teams turn handler needs: the core, identities, a clock and a log. */
export interface TeamsDeps {
  lifecycle: Lifecycle;
  identities: TeamsIdentities;
  logger: Logger;
  clock(): Date;
}

export const tenantOf = (a: Partial<Activity>): string =>
  a.conversation?.tenantId ?? (a.channelData as { tenant?: { id?: string } } | undefined)?.tenant?.id ?? '';

/**
 * The conversation alerts for this place go to: a channel's own id (a message in a channel thread
 * carries `;messageid=` in its conversation id), or the chat's id.
 */
export function conversationKey(a: Partial<Activity>): string {
  const channel = (a.channelData as { channel?: { id?: string } } | undefined)?.channel?.id;
  return channel ?? (a.conversation?.id ?? '').split(';')[0] ?? '';
}

/** Keeps the reference of every conversation the bot is installed in or spoken to in. */
async function remember(deps: TeamsDeps, activity: Activity, address?: string): Promise<void> {
  // Without the message id: a proactive send is a new post in the conversation, not a reply to this message.
  const { activityId: _message, ...reference } = TurnContext.getConversationReference(
    activity,
  ) as ConversationReference;
  const key = conversationKey(activity);
  await deps.lifecycle.rememberConversation(
    {
      conversationId: key,
      tenant: tenantOf(activity),
      conversationType: activity.conversation?.conversationType ?? 'personal',
      address: address ?? null,
      reference: { ...reference, conversation: { ...reference.conversation, id: key } } as unknown as Record<
        string,
        unknown
      >,
    },
    deps.clock(),
  );
}

/**
 * One turn: messages run the shared grammar as the sender, in a personal chat, a group chat or a
 * channel (where the bot's @mention is stripped). Teams retries a turn it thinks timed out; the
 * activity id makes a retry count once.
 */
/** Where a turn keeps its correlation id, so the turn-error answer can quote it. */
export const CORRELATION_ID = 'nhsmail.correlationId';

export async function onTurn(deps: TeamsDeps, context: TurnContext): Promise<void> {
  const activity = context.activity;
  const correlationId = randomUUID();
  context.turnState.set(CORRELATION_ID, correlationId);
  await remember(deps, activity);
  if (activity.type === 'installationUpdate' && (activity as { action?: string }).action === 'add') {
    await context.sendActivity('Hello! I run NHSmail account commands here: type **help** to see them.');
    return;
  }
  if (activity.type !== 'message') return;
  if (
    !(await deps.lifecycle.firstDelivery(
      `teams:activity:${activity.conversation.id}:${activity.id}`,
      deps.clock(),
    ))
  ) {
    return;
  }
  const tenant = tenantOf(activity);
  const started = Date.now();
  const actor = await deps.identities.actorFor(context, tenant);
  if (actor.kind === 'person' && (activity.conversation?.conversationType ?? 'personal') === 'personal') {
    // Their personal chat is where direct warnings reach them.
    await remember(deps, activity, actor.address);
  }
  const chat: ChatOrigin = {
    platform: 'teams',
    tenant,
    userId: activity.from.id,
    channelId: conversationKey(activity),
    parseMention: parseTeamsMention,
  };
  const now = deps.clock();
  const ctx = { actor, platform: 'teams' as const, now, chat, correlationId };
  const submitted = activity.value as CardSubmit | undefined;
  if (submitted && typeof submitted === 'object' && typeof submitted.nhsmail === 'string') {
    await onCardSubmit(context, submitted, (words) => runText(deps.lifecycle, ctx, words), now);
    return;
  }
  const text = commandText(activity);
  const form = formForText(text);
  if (form) {
    await context.sendActivity({ attachments: [formCard(form)] });
    return;
  }
  const reply = await runText(deps.lifecycle, ctx, text === '' ? 'help' : text);
  deps.logger.info(
    {
      platform: 'teams',
      correlationId,
      command: reply.command,
      outcome: reply.ok ? 'done' : reply.error?.code,
      ms: Date.now() - started,
    },
    'command',
  );
  for (const answer of replyActivities(reply, now)) await context.sendActivity(answer);
}
