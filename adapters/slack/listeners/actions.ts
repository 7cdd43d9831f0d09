import type { App, BlockAction, ButtonAction, types } from '@slack/bolt';
import {
  ACTION_ACCEPT_JOINER,
  ACTION_DISABLE,
  ACTION_MARK_LEAVER,
  ACTION_REMIND,
  actedMessage,
  type DisableButtonValue,
  type RemindButtonValue,
  type TransferButtonValue,
} from '../format/notifications.js';
import { escapeMrkdwn, replyMessages } from '../format/reply.js';
import { runForSlackUser, type SlackDeps } from '../handle.js';

/**
 * "Mark as leaver" / "Accept as joiner" on a transfer request: the click runs the same command as
 * whoever clicked, so the same rules and roles apply. On success the message is updated in place
 * to say who acted; a refusal is shown only to the clicker and leaves the message as it was.
 */
export function registerTransferButtons(app: App, deps: SlackDeps): void {
  for (const actionId of [ACTION_MARK_LEAVER, ACTION_ACCEPT_JOINER]) {
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action, client, respond }) => {
      await ack();
      if (
        !(await deps.lifecycle.firstDelivery(
          `slack:action:${body.user.id}:${action.action_ts}`,
          deps.clock(),
        ))
      )
        return;
      const value = JSON.parse(action.value ?? '{}') as TransferButtonValue;
      const words =
        actionId === ACTION_MARK_LEAVER
          ? `leaver ${value.address}`
          : `joiner ${value.address} --org ${value.to}`;
      const teamId = body.team?.id ?? body.user.team_id ?? '';
      const reply = await runForSlackUser(
        deps,
        client,
        { teamId, userId: body.user.id, channelId: body.channel?.id },
        words,
      );
      if (!reply.ok) {
        for (const message of replyMessages(reply)) {
          await respond({ response_type: 'ephemeral', replace_original: false, ...message });
        }
        return;
      }
      const outcome = escapeMrkdwn(reply.text.split('\n')[0] ?? '');
      const done =
        actionId === ACTION_MARK_LEAVER
          ? `Marked as a leaver by <@${body.user.id}>: ${outcome}`
          : `Accepted into ${value.to} by <@${body.user.id}>: ${outcome}`;
      const channel = body.channel?.id;
      const ts = body.message?.ts;
      if (channel && ts) {
        const original = (body.message?.blocks ?? []) as types.KnownBlock[];
        await client.chat.update({ channel, ts, text: done, blocks: actedMessage(original, done) });
      }
    });
  }
}

/**
 * "Remind" on a digest line: runs `remind ADDRESS` as whoever clicked. The answer (done, or the
 * rule that stopped it) goes only to the clicker; the digest stays as it was for everyone else.
 */
export function registerRemindButton(app: App, deps: SlackDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION_REMIND, async ({ ack, body, action, client, respond }) => {
    await ack();
    if (
      !(await deps.lifecycle.firstDelivery(`slack:action:${body.user.id}:${action.action_ts}`, deps.clock()))
    )
      return;
    const value = JSON.parse(action.value ?? '{}') as RemindButtonValue;
    const teamId = body.team?.id ?? body.user.team_id ?? '';
    const reply = await runForSlackUser(
      deps,
      client,
      { teamId, userId: body.user.id, channelId: body.channel?.id },
      `remind ${value.address}`,
    );
    for (const message of replyMessages(reply)) {
      await respond({ response_type: 'ephemeral', replace_original: false, ...message });
    }
  });
}

/**
 * "Disable" on a manager's disable request: runs `disable ADDRESS --reason … [--until …]` as
 * whoever clicked, so only a local administrator (or NAS) succeeds. Done: the request is updated
 * in place to say who disabled it; refused: only the clicker is told, and the request stays.
 */
export function registerDisableButton(app: App, deps: SlackDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION_DISABLE, async ({ ack, body, action, client, respond }) => {
    await ack();
    if (
      !(await deps.lifecycle.firstDelivery(`slack:action:${body.user.id}:${action.action_ts}`, deps.clock()))
    )
      return;
    const value = JSON.parse(action.value ?? '{}') as DisableButtonValue;
    const teamId = body.team?.id ?? body.user.team_id ?? '';
    const words = [
      'disable',
      value.address,
      '--reason',
      value.reason,
      ...(value.until ? ['--until', value.until.slice(0, 10)] : []),
    ];
    const reply = await runForSlackUser(
      deps,
      client,
      { teamId, userId: body.user.id, channelId: body.channel?.id },
      words,
      { deciding: true },
    );
    if (!reply.ok) {
      for (const message of replyMessages(reply)) {
        await respond({ response_type: 'ephemeral', replace_original: false, ...message });
      }
      return;
    }
    const done = `Disabled by <@${body.user.id}>: ${escapeMrkdwn(reply.text.split('\n')[0] ?? '')}`;
    const channel = body.channel?.id;
    const ts = body.message?.ts;
    if (channel && ts) {
      const original = (body.message?.blocks ?? []) as types.KnownBlock[];
      await client.chat.update({ channel, ts, text: done, blocks: actedMessage(original, done) });
    }
  });
}
