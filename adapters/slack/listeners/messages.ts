import type { App } from '@slack/bolt';
import { replyMessages } from '../format/reply.js';
import { runForSlackUser, type SlackDeps } from '../handle.js';

/**
 * Direct messages in plain words ("transfer to RXX", "status", "help") run the same grammar as
 * the slash command. Slack redelivers an event it thinks timed out: the event id makes it count once.
 */
export function registerDirectMessages(app: App, deps: SlackDeps): void {
  app.message(async ({ message, body, client, say }) => {
    if (message.channel_type !== 'im' || message.subtype !== undefined || 'bot_id' in message) return;
    const eventId = 'event_id' in body ? String(body.event_id) : `${message.channel}:${message.ts}`;
    if (!(await deps.lifecycle.firstDelivery(`slack:event:${eventId}`, deps.clock()))) return;
    const teamId = ('team_id' in body ? String(body.team_id) : undefined) ?? message.team ?? '';
    const reply = await runForSlackUser(
      deps,
      client,
      { teamId, userId: message.user, channelId: message.channel },
      message.text ?? '',
    );
    for (const part of replyMessages(reply)) await say(part);
  });
}
