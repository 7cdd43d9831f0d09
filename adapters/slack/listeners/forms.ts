import type { App, BlockAction, ButtonAction, types } from '@slack/bolt';
import type { Reply } from '../../../src/commands/execute.js';
import {
  FORMS,
  type FormSpec,
  fieldErrors,
  fieldOfRefusal,
  formValues,
  formWords,
} from '../../../src/commands/forms.js';
import { clip } from '../../../src/domain/quote.js';
import { SLACK_LIMITS } from '../format/limits.js';
import { modalValues } from '../format/modal.js';
import { replyMessages } from '../format/reply.js';
import { runForSlackUser, type SlackDeps } from '../handle.js';

export const ACTION_DUPLICATE_JOINER = 'duplicate_start_joiner';

interface DuplicateButtonValue {
  address: string;
  org: string;
}

/**
 * Form submissions: each field is checked with the grammar's own validator and a bad value is
 * shown next to its field; then the form's words run as the command, and the modal is replaced
 * by the outcome. A duplicate person is shown with the existing account and a button to start
 * a joiner into the organisation instead.
 */
export function registerForms(app: App, deps: SlackDeps): void {
  for (const spec of FORMS) {
    app.view(spec.callbackId, async ({ ack, body, view, client }) => {
      const values = formValues(spec, modalValues(spec, view.state.values));
      const errors = fieldErrors(spec, values, deps.clock());
      if (Object.keys(errors).length > 0) {
        await ack({ response_action: 'errors', errors });
        return;
      }
      const meta = JSON.parse(view.private_metadata || '{}') as { channelId?: string };
      const teamId = body.team?.id ?? body.user.team_id ?? '';
      const reply = await runForSlackUser(
        deps,
        client,
        { teamId, userId: body.user.id, channelId: meta.channelId },
        formWords(spec, values),
      );
      const field = reply.error ? fieldOfRefusal(spec, reply.error.code) : undefined;
      if (field) {
        await ack({ response_action: 'errors', errors: { [field]: reply.text } });
        return;
      }
      const target = values.get('org') ?? values.get('site');
      await ack({ response_action: 'update', view: outcomeView(spec, reply, target) });
    });
  }

  app.action<BlockAction<ButtonAction>>(ACTION_DUPLICATE_JOINER, async ({ ack, body, action, client }) => {
    await ack();
    const value = JSON.parse(action.value ?? '{}') as DuplicateButtonValue;
    const teamId = body.team?.id ?? body.user.team_id ?? '';
    const reply = await runForSlackUser(deps, client, { teamId, userId: body.user.id }, [
      'joiner',
      value.address,
      '--org',
      value.org,
    ]);
    const spec = FORMS.find((f) => f.callbackId === body.view?.callback_id) ?? FORMS[0];
    if (body.view?.id && spec) {
      await client.views.update({
        view_id: body.view.id,
        view: outcomeView(spec, reply, value.org, 'Joiner'),
      });
    }
  });
}

/** The modal after submission: the answer, or the refusal and what to do, with any duplicate’s joiner button. */
export function outcomeView(
  spec: FormSpec,
  reply: Reply,
  target: string | undefined,
  title?: string,
): types.ModalView {
  const matches = reply.error?.code === 'DUPLICATE_PERSON' ? reply.error.details.matches : undefined;
  const buttons: types.KnownBlock[] =
    matches && target && spec.command !== 'site register'
      ? matches.slice(0, 10).map((match) => ({
          type: 'section',
          text: { type: 'mrkdwn', text: `Existing account: *${match.address}*` },
          accessory: {
            type: 'button',
            text: {
              type: 'plain_text',
              text: clip(`Start a joiner into ${target}`, SLACK_LIMITS.buttonText),
            },
            action_id: ACTION_DUPLICATE_JOINER,
            value: JSON.stringify({ address: match.address, org: target } satisfies DuplicateButtonValue),
          },
        }))
      : [];
  // A modal holds 100 blocks: a very long answer gives way to the duplicates' buttons.
  const blocks = [
    ...replyMessages(reply)
      .flatMap((m) => m.blocks)
      .slice(0, SLACK_LIMITS.viewBlocks - buttons.length),
    ...buttons,
  ];
  return {
    type: 'modal',
    callback_id: `${spec.callbackId}_done`,
    title: {
      type: 'plain_text',
      text: clip(title ?? (reply.ok ? 'Done' : 'Not done'), SLACK_LIMITS.modalTitle),
    },
    close: { type: 'plain_text', text: 'Close' },
    blocks,
  };
}
