import type { Attachment, TurnContext } from 'botbuilder';
import type { Reply } from '../../src/commands/execute.js';
import { FORMS, fieldErrors, fieldOfRefusal, formValues, formWords } from '../../src/commands/forms.js';
import type { RequestContext } from '../../src/service/context.js';
import { type CardSubmit, duplicateJoinerAction, formCard, outcomeCard } from './format/cards.js';
import { teamsText } from './format/reply.js';

/** Runs grammar words as the person who clicked or submitted (`deciding`: a click on a request). */
export type RunWords = (words: string[], options?: Pick<RequestContext, 'deciding'>) => Promise<Reply>;

/**
 * What a click or a form submission comes to: the card it came from replaced (a form's next
 * state, an outcome), or an answer beside it that leaves the card as it was (a refusal of a
 * button, a digest line's outcome).
 */
export type SubmitOutcome = { replace: Attachment } | { answer: string };

const firstLine = (reply: Reply) => reply.text.split('\n')[0] ?? '';
const refusal = (reply: Reply) => `**Refused (${reply.error?.code})**\n${reply.text}`;

/**
 * Adaptive Card submissions (Action.Submit, or Action.Execute through Universal Actions): forms
 * (checked field by field with the grammar's validators, then run as the grammar's words),
 * transfer buttons and the duplicate → joiner button. Success replaces the card; a refusal of a
 * button is answered to the clicker and leaves the card as it was.
 */
export async function cardSubmitOutcome(
  submitted: CardSubmit,
  who: string,
  run: RunWords,
  now: Date,
): Promise<SubmitOutcome> {
  if (submitted.nhsmail === 'form') {
    const spec = FORMS.find((f) => f.callbackId === submitted.form);
    if (!spec) {
      return { answer: 'That form is no longer offered: type the command again to get a fresh one.' };
    }
    const raw = Object.fromEntries(
      Object.entries(submitted).filter(([k]) => k !== 'nhsmail' && k !== 'form'),
    ) as Record<string, string>;
    const values = formValues(spec, raw);
    const errors = fieldErrors(spec, values, now);
    if (Object.keys(errors).length > 0) return { replace: formCard(spec, raw, errors) };
    const reply = await run(formWords(spec, values));
    const field = reply.error ? fieldOfRefusal(spec, reply.error.code) : undefined;
    if (field) return { replace: formCard(spec, raw, { [field]: reply.text }) };
    const target = values.get('org') ?? values.get('site');
    const matches = reply.error?.code === 'DUPLICATE_PERSON' ? reply.error.details.matches : undefined;
    const actions =
      matches && target && spec.command !== 'site register'
        ? matches.slice(0, 5).map((m) => duplicateJoinerAction(m.address, target))
        : [];
    return {
      replace: outcomeCard(
        reply.ok ? 'Done' : `Not done (${reply.error?.code})`,
        reply.text.split('\n'),
        actions,
      ),
    };
  }
  if (submitted.nhsmail === 'duplicate_start_joiner') {
    const reply = await run(['joiner', submitted.address, '--org', submitted.org]);
    return {
      replace: outcomeCard(
        reply.ok ? 'Joiner done' : `Not done (${reply.error?.code})`,
        reply.text.split('\n'),
      ),
    };
  }
  if (submitted.nhsmail === 'digest_accept_joiner' || submitted.nhsmail === 'digest_remind') {
    // A digest serves many accounts: the outcome is an answer, and the digest stays as it was.
    const reply = await run(
      submitted.nhsmail === 'digest_remind'
        ? ['remind', submitted.address]
        : ['joiner', submitted.address, '--org', submitted.org],
    );
    return { answer: reply.ok ? `✅ ${who}: ${reply.text}` : refusal(reply) };
  }
  if (submitted.nhsmail === 'disable_request_disable') {
    const { address, reason, until } = submitted;
    const reply = await run(['disable', address, '--reason', reason, ...(until ? ['--until', until] : [])], {
      deciding: true,
    });
    if (!reply.ok) return { answer: refusal(reply) };
    return {
      replace: outcomeCard('Disable request', [`✅ Disabled by ${who}: ${firstLine(reply)}`]),
    };
  }
  const leaver = submitted.nhsmail === 'transfer_mark_leaver';
  const reply = await run(
    leaver ? ['leaver', submitted.address] : ['joiner', submitted.address, '--org', submitted.to],
  );
  if (!reply.ok) return { answer: refusal(reply) };
  const done = leaver
    ? `Marked as a leaver by ${who}: ${firstLine(reply)}`
    : `Accepted into ${submitted.to} by ${who}: ${firstLine(reply)}`;
  return {
    replace: outcomeCard('Transfer request', [
      submitted.from === submitted.to
        ? `${submitted.address} (${submitted.from})`
        : `${submitted.address}: ${submitted.from} → ${submitted.to}`,
      `✅ ${done}`,
    ]),
  };
}

/** An Action.Submit's outcome in the conversation: the card it came from updated, or an answer. */
export async function applyOutcome(context: TurnContext, outcome: SubmitOutcome): Promise<void> {
  if ('answer' in outcome) {
    await context.sendActivity(teamsText(outcome.answer));
    return;
  }
  const id = context.activity.replyToId;
  if (!id) {
    await context.sendActivity({ attachments: [outcome.replace] });
    return;
  }
  await context.updateActivity({
    id,
    type: 'message',
    conversation: context.activity.conversation,
    attachments: [outcome.replace],
  });
}
