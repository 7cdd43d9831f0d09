import type { App } from '@slack/bolt';
import { formForText } from '../../../src/commands/forms.js';
import { decodeSlackText } from '../decode.js';
import { formView } from '../format/modal.js';
import { replyMessages } from '../format/reply.js';
import { postInChannel, runForSlackUser, type SlackDeps } from '../handle.js';

/**
 * `/nhsmail <command>`: acknowledged at once (Slack allows 3 seconds, and the database may be
 * slow), then answered through the command's response_url, ephemerally unless it is channel news.
 * The manifest asks Slack to escape users, channels and links (`should_escape`), so the text is
 * decoded first: `<mailto:jane.doe@nhs.net|jane.doe@nhs.net>` is the address that was typed.
 */
export function registerSlashCommand(app: App, deps: SlackDeps): void {
  app.command('/nhsmail', async ({ command, ack, respond, client }) => {
    await ack();
    // A signed request replayed within Slack's 5 minutes passes the signature check again; each
    // invocation has its own trigger id, so a replay is run once.
    if (!(await deps.lifecycle.firstDelivery(`slack:command:${command.trigger_id}`, deps.clock()))) return;
    const typed = decodeSlackText(command.text);
    const form = formForText(typed);
    if (form) {
      // The trigger id lasts 3 seconds: open the form before anything else.
      await client.views.open({
        trigger_id: command.trigger_id,
        view: formView(form, { channelId: command.channel_id }),
      });
      return;
    }
    const reply = await runForSlackUser(
      deps,
      client,
      { teamId: command.team_id, userId: command.user_id, channelId: command.channel_id },
      typed,
    );
    const responseType = postInChannel(reply) ? 'in_channel' : 'ephemeral';
    for (const message of replyMessages(reply)) {
      await respond({ response_type: responseType, replace_original: false, ...message });
    }
  });
}
