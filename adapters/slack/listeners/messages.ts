import type { AllMiddlewareArgs, App, SlackEventMiddlewareArgs } from '@slack/bolt';
import { EDIT_NOT_RUN } from '../../../src/commands/execute.js';
import { messageText } from '../decode.js';
import { escapeMrkdwn, replyMessages } from '../format/reply.js';
import { runForSlackUser, type SlackDeps } from '../handle.js';

type MessageArgs = SlackEventMiddlewareArgs<'message'> & AllMiddlewareArgs;

/**
 * Direct messages in plain words ("transfer to RXX", "status", "help") run the same grammar as
 * the slash command, read from the message's rich_text (or its decoded text). Slack redelivers an
 * event it thinks timed out: the event id makes it count once.
 */
export function registerDirectMessages(app: App, deps: SlackDeps): void {
  app.message((args) => onDirectMessage(deps, args));
}

export async function onDirectMessage(deps: SlackDeps, args: MessageArgs): Promise<void> {
  const { message, body, client, say } = args;
  if (message.channel_type !== 'im') return;
  const eventId = 'event_id' in body ? String(body.event_id) : `${message.channel}:${message.ts}`;
  if (message.subtype === 'message_changed') {
    await onEditedMessage(deps, args, eventId);
    return;
  }
  // A message with a file attached is still a message; every other subtype is not typed words.
  if ((message.subtype !== undefined && message.subtype !== 'file_share') || 'bot_id' in message) return;
  if (!(await deps.lifecycle.firstDelivery(`slack:event:${eventId}`, deps.clock()))) return;
  const teamId =
    ('team_id' in body ? String(body.team_id) : undefined) ??
    ('team' in message ? message.team : undefined) ??
    '';
  const reply = await runForSlackUser(
    deps,
    client,
    { teamId, userId: message.user, channelId: message.channel },
    messageText(message),
  );
  for (const part of replyMessages(reply)) await say(part);
}

/**
 * An edited message is not run again: the first version may already have changed an account, and
 * running the edit as well would act twice. The person is told so, with the edited words to send
 * as a new message. Slack also reports a message as changed when it only adds a link preview or
 * detects its language; those carry no `edited` mark and the words are unchanged, and get no answer.
 */
async function onEditedMessage(
  deps: SlackDeps,
  { message, say }: MessageArgs,
  eventId: string,
): Promise<void> {
  if (message.subtype !== 'message_changed') return;
  const edited = message.message as EditedMessage;
  if (!edited.edited || !edited.user || edited.bot_id) return;
  const words = messageText(edited).trim();
  if (words === '' || words === messageText(message.previous_message as EditedMessage).trim()) return;
  if (!(await deps.lifecycle.firstDelivery(`slack:event:${eventId}`, deps.clock()))) return;
  const text = `${EDIT_NOT_RUN} To run it, send it as a new message:`;
  await say({
    text: `${text} ${words}`,
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `${text}\n\`${escapeMrkdwn(words.slice(0, 2_900))}\`` },
      },
    ],
  });
}

/** The parts of a changed message Slack sends in `message_changed` that tell an edit from an unfurl. */
interface EditedMessage {
  text?: string;
  blocks?: unknown;
  user?: string;
  bot_id?: string;
  /** Present only when a person edited the words. */
  edited?: { user: string; ts: string };
}
