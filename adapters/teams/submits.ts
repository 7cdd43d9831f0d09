import type { TurnContext } from 'botbuilder';
import type { Reply } from '../../src/commands/execute.js';
import { FORMS, fieldErrors, fieldOfRefusal, formValues, formWords } from '../../src/commands/forms.js';
import { type CardSubmit, duplicateJoinerAction, formCard, outcomeCard } from './format/cards.js';
import { teamsText } from './format/reply.js';

/** Runs grammar words as the person who clicked or submitted. */
export type RunWords = (words: string[]) => Promise<Reply>;

/** Replaces the card the click came from (the activity it replies to) with another card. */
async function replaceCard(context: TurnContext, attachment: ReturnType<typeof outcomeCard>): Promise<void> {
  const id = context.activity.replyToId;
  if (!id) {
    await context.sendActivity({ attachments: [attachment] });
    return;
  }
  await context.updateActivity({
    id,
    type: 'message',
    conversation: context.activity.conversation,
    attachments: [attachment],
  });
}

const firstLine = (reply: Reply) => reply.text.split('\n')[0] ?? '';

/**
 * Adaptive Card submissions: forms (checked field by field with the grammar's validators, then run
 * as the grammar's words), transfer buttons and the duplicate → joiner button. Success replaces
 * the card in place; a refusal of a button is answered to the clicker and leaves the card as it was.
 */
export async function onCardSubmit(
  context: TurnContext,
  submitted: CardSubmit,
  run: RunWords,
  now: Date,
): Promise<void> {
  const who = context.activity.from.name ?? context.activity.from.id;
  if (submitted.nhsmail === 'form') {
    const spec = FORMS.find((f) => f.callbackId === submitted.form);
    if (!spec) return;
    const raw = Object.fromEntries(
      Object.entries(submitted).filter(([k]) => k !== 'nhsmail' && k !== 'form'),
    ) as Record<string, string>;
    const values = formValues(spec, raw);
    const errors = fieldErrors(spec, values, now);
    if (Object.keys(errors).length > 0) {
      await replaceCard(context, formCard(spec, raw, errors));
      return;
    }
    const reply = await run(formWords(spec, values));
    const field = reply.error ? fieldOfRefusal(spec, reply.error.code) : undefined;
    if (field) {
      await replaceCard(context, formCard(spec, raw, { [field]: reply.text }));
      return;
    }
    const target = values.get('org') ?? values.get('site');
    const matches = (reply.error?.code === 'DUPLICATE_PERSON' ? reply.error.details.matches : undefined) as
      | Array<{ address: string }>
      | undefined;
    const actions =
      matches && target && spec.command !== 'site register'
        ? matches.slice(0, 5).map((m) => duplicateJoinerAction(m.address, target))
        : [];
    await replaceCard(
      context,
      outcomeCard(reply.ok ? 'Done' : `Not done (${reply.error?.code})`, reply.text.split('\n'), actions),
    );
    return;
  }
  if (submitted.nhsmail === 'duplicate_start_joiner') {
    const reply = await run(['joiner', submitted.address, '--org', submitted.org]);
    await replaceCard(
      context,
      outcomeCard(reply.ok ? 'Joiner done' : `Not done (${reply.error?.code})`, reply.text.split('\n')),
    );
    return;
  }
  if (submitted.nhsmail === 'digest_accept_joiner' || submitted.nhsmail === 'digest_remind') {
    // A digest serves many accounts: the outcome is a reply, and the digest stays as it was.
    const reply = await run(
      submitted.nhsmail === 'digest_remind'
        ? ['remind', submitted.address]
        : ['joiner', submitted.address, '--org', submitted.org],
    );
    await context.sendActivity(
      teamsText(reply.ok ? `✅ ${who}: ${reply.text}` : `**Refused (${reply.error?.code})**\n${reply.text}`),
    );
    return;
  }
  const leaver = submitted.nhsmail === 'transfer_mark_leaver';
  const reply = await run(
    leaver ? ['leaver', submitted.address] : ['joiner', submitted.address, '--org', submitted.to],
  );
  if (!reply.ok) {
    await context.sendActivity(teamsText(`**Refused (${reply.error?.code})**\n${reply.text}`));
    return;
  }
  const done = leaver
    ? `Marked as a leaver by ${who}: ${firstLine(reply)}`
    : `Accepted into ${submitted.to} by ${who}: ${firstLine(reply)}`;
  await replaceCard(
    context,
    outcomeCard('Transfer request', [
      submitted.from === submitted.to
        ? `${submitted.address} (${submitted.from})`
        : `${submitted.address}: ${submitted.from} → ${submitted.to}`,
      `✅ ${done}`,
    ]),
  );
}
