import { randomUUID } from 'node:crypto';
import {
  type Activity,
  type AdaptiveCardInvokeResponse,
  type ConversationReference,
  TurnContext,
} from 'botbuilder';
import { EDIT_NOT_RUN, internalErrorReply, runText } from '../../src/commands/execute.js';
import { formForText } from '../../src/commands/forms.js';
import type { Logger } from '../../src/logger.js';
import type { ChatOrigin, RequestContext } from '../../src/service/context.js';
import type { Lifecycle } from '../../src/service/lifecycle.js';
import { type CardSubmit, formCard } from './format/cards.js';
import { replyActivities, teamsText } from './format/reply.js';
import type { TeamsIdentities } from './identity.js';
import {
  CARD_ACTION_INVOKE,
  cardResponse,
  errorResponse,
  executedSubmit,
  invokeResponse,
  messageResponse,
} from './invoke.js';
import { commandText, parseTeamsMention } from './mentions.js';
import { applyOutcome, cardSubmitOutcome, type RunWords } from './submits.js';

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

/** Where a turn keeps its correlation id, so the turn-error answer can quote it. */
export const CORRELATION_ID = 'nhsmail.correlationId';

/**
 * One turn: messages run the shared grammar as the sender, in a personal chat, a group chat or a
 * channel (where the bot's @mention is stripped); card clicks arrive as a message's value
 * (Action.Submit) or as an `adaptiveCard/action` invoke (Action.Execute); an edit is answered,
 * not run. Teams retries a turn it thinks timed out; the activity id makes a retry count once.
 */
export async function onTurn(deps: TeamsDeps, context: TurnContext): Promise<void> {
  const activity = context.activity;
  const correlationId = randomUUID();
  context.turnState.set(CORRELATION_ID, correlationId);
  await remember(deps, activity);
  if (activity.type === 'installationUpdate' && (activity as { action?: string }).action === 'add') {
    await context.sendActivity('Hello! I run NHSmail account commands here: type **help** to see them.');
    return;
  }
  if (activity.type === 'invoke') {
    await onInvoke(deps, context, correlationId);
    return;
  }
  if (activity.type === 'messageUpdate') {
    await onEditedMessage(deps, context);
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
  const started = Date.now();
  const ctx = await requestContext(deps, context, correlationId);
  const submitted = activity.value as CardSubmit | undefined;
  if (submitted && typeof submitted === 'object' && typeof submitted.nhsmail === 'string') {
    await applyOutcome(
      context,
      await cardSubmitOutcome(submitted, clicker(activity), runner(deps, ctx), ctx.now),
    );
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
  for (const answer of replyActivities(reply, ctx.now)) await context.sendActivity(answer);
}

/** Who is speaking, with their verified identity; their personal chat is remembered for warnings. */
async function requestContext(
  deps: TeamsDeps,
  context: TurnContext,
  correlationId: string,
): Promise<RequestContext> {
  const activity = context.activity;
  const tenant = tenantOf(activity);
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
  return { actor, platform: 'teams', now: deps.clock(), chat, correlationId };
}

const clicker = (activity: Activity) => activity.from.name ?? activity.from.id;
const runner =
  (deps: TeamsDeps, ctx: RequestContext): RunWords =>
  (words, options = {}) =>
    runText(deps.lifecycle, { ...ctx, ...options }, words);

/**
 * A Universal Actions click (Action.Execute): the same submissions as Action.Submit, answered in
 * the invoke's response — the card that replaces the clicked one, or a message to the clicker.
 * In a group chat or channel the card is also updated for everyone, as a submit would be.
 */
async function onInvoke(deps: TeamsDeps, context: TurnContext, correlationId: string): Promise<void> {
  const activity = context.activity;
  // Other invokes (message extensions, task modules, sign-in) are not offered: botbuilder answers 501.
  if (activity.name !== CARD_ACTION_INVOKE) return;
  const answer = (body: AdaptiveCardInvokeResponse) => context.sendActivity(invokeResponse(body));
  const submitted = executedSubmit(activity.value);
  if (!submitted) {
    await answer(
      errorResponse(
        400,
        'UNKNOWN_ACTION',
        'This button is not one the NHSmail bot offers: type the command instead (try "help").',
      ),
    );
    return;
  }
  if (
    !(await deps.lifecycle.firstDelivery(
      `teams:invoke:${activity.conversation.id}:${activity.id}`,
      deps.clock(),
    ))
  ) {
    await answer(messageResponse('That click was already handled.'));
    return;
  }
  try {
    const ctx = await requestContext(deps, context, correlationId);
    const outcome = await cardSubmitOutcome(submitted, clicker(activity), runner(deps, ctx), ctx.now);
    if ('answer' in outcome) {
      await answer(messageResponse(outcome.answer));
      return;
    }
    if (activity.replyToId && (activity.conversation.conversationType ?? 'personal') !== 'personal') {
      await applyOutcome(context, outcome);
    }
    await answer(cardResponse(outcome.replace));
  } catch (err) {
    deps.logger.error({ err, correlationId }, 'teams card action failed');
    await answer(errorResponse(500, 'INTERNAL_ERROR', internalErrorReply(correlationId).text));
  }
}

/**
 * An edited message is not run again: the first version may already have changed an account, and
 * running the edit as well would act twice. The person is told so, with the edited words.
 */
async function onEditedMessage(deps: TeamsDeps, context: TurnContext): Promise<void> {
  const activity = context.activity;
  if ((activity.channelData as { eventType?: string } | undefined)?.eventType !== 'editMessage') return;
  const words = commandText(activity);
  if (words === '') return;
  const key = `teams:edit:${activity.conversation.id}:${activity.id}:${String(activity.timestamp ?? '')}`;
  if (!(await deps.lifecycle.firstDelivery(key, deps.clock()))) return;
  await context.sendActivity(teamsText(`${EDIT_NOT_RUN} To run it, send it as a new message:\n${words}`));
}
