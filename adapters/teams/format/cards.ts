import { type Attachment, CardFactory } from 'botbuilder';
import type { FormSpec } from '../../../src/commands/forms.js';
import type { OutgoingNotification } from '../../../src/jobs/delivery.js';

type Element = Record<string, unknown>;

/** What an Action.Submit sends back in `activity.value`: which of our actions, and its data. */
export type CardSubmit =
  | { nhsmail: 'form'; form: string; [flag: string]: string }
  | { nhsmail: 'transfer_mark_leaver' | 'transfer_accept_joiner'; address: string; from: string; to: string }
  | { nhsmail: 'duplicate_start_joiner'; address: string; org: string };

export const adaptiveCard = (body: Element[], actions: Element[] = []): Attachment =>
  CardFactory.adaptiveCard({
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body,
    ...(actions.length ? { actions } : {}),
  });

const text = (t: string, extra: Element = {}): Element => ({
  type: 'TextBlock',
  text: t,
  wrap: true,
  ...extra,
});
const submit = (title: string, data: CardSubmit, style?: 'positive' | 'destructive'): Element => ({
  type: 'Action.Submit',
  title,
  data,
  ...(style ? { style } : {}),
});

/**
 * A form as an Adaptive Card: one input per grammar flag. After a failed submission it is shown
 * again with what was typed and each field's problem beneath it.
 */
export function formCard(
  spec: FormSpec,
  values: Record<string, string> = {},
  errors: Record<string, string> = {},
): Attachment {
  const body: Element[] = [text(spec.title, { weight: 'Bolder', size: 'Medium' })];
  for (const f of spec.fields) {
    const common = {
      id: f.flag,
      label: f.label,
      isRequired: !f.optional,
      ...(values[f.flag] ? { value: values[f.flag] } : {}),
    };
    if (f.kind === 'select') {
      body.push({
        type: 'Input.ChoiceSet',
        style: 'compact',
        choices: (f.options ?? []).map((o) => ({ title: o, value: o })),
        ...common,
      });
    } else if (f.kind === 'date') body.push({ type: 'Input.Date', ...common });
    else
      body.push({ type: 'Input.Text', ...(f.placeholder ? { placeholder: f.placeholder } : {}), ...common });
    if (f.hint) body.push(text(f.hint, { isSubtle: true, size: 'Small', spacing: 'None' }));
    const error = errors[f.flag];
    if (error) body.push(text(error, { color: 'Attention', size: 'Small', spacing: 'None' }));
  }
  return adaptiveCard(body, [submit(spec.submit, { nhsmail: 'form', form: spec.callbackId })]);
}

/** The outcome that replaces a form card (or a transfer card once someone acted). */
export function outcomeCard(title: string, lines: string[], actions: Element[] = []): Attachment {
  return adaptiveCard([text(title, { weight: 'Bolder' }), ...lines.map((l) => text(l))], actions);
}

export const duplicateJoinerAction = (address: string, org: string): Element =>
  submit(`Start a joiner for ${address} into ${org}`, { nhsmail: 'duplicate_start_joiner', address, org });

interface TransferPayload {
  address: string;
  from: string;
  to: string;
  requestedBy: string;
  graceDays: number;
}

/** A transfer request as posted into a subscribed channel, with its button. */
export function transferCard(n: OutgoingNotification): Attachment {
  const p = n.payload as unknown as TransferPayload;
  const data = { address: p.address, from: p.from, to: p.to };
  if (n.kind === 'transfer-leaver') {
    return adaptiveCard(
      [
        text('Transfer request', { weight: 'Bolder' }),
        text(`${p.address} is moving from ${p.from} to ${p.to} (asked by ${p.requestedBy}).`),
        text(
          `A local administrator of ${p.from}: mark them as a leaver. Their ${p.graceDays}-day grace period then starts, and ${p.to} can accept them.`,
        ),
      ],
      [submit('Mark as leaver', { nhsmail: 'transfer_mark_leaver', ...data }, 'destructive')],
    );
  }
  return adaptiveCard(
    [
      text('Transfer request', { weight: 'Bolder' }),
      text(`${p.address} is joining ${p.to} from ${p.from} (asked by ${p.requestedBy}).`),
      text(
        `A local administrator of ${p.to}: accept them as a joiner. Same address, same mailbox; the move completes once ${p.from} has marked them as a leaver.`,
      ),
    ],
    [submit('Accept as joiner', { nhsmail: 'transfer_accept_joiner', ...data }, 'positive')],
  );
}

/** Digest lines per Teams card: cards over about 28 KB are refused, so long digests are split. */
const DIGEST_ITEMS_PER_CARD = 40;

interface DigestPayload {
  org: string;
  items: Array<{ address: string; clock: 'grace' | 'inactivity'; daysLeft: number; dueAt: string }>;
}

export function teamsParts(n: Pick<OutgoingNotification, 'kind' | 'payload'>): number {
  if (n.kind !== 'digest') return 1;
  return Math.max(1, Math.ceil((n.payload as unknown as DigestPayload).items.length / DIGEST_ITEMS_PER_CARD));
}

/** The daily digest for an organisation's channel, as a card (one of several for long digests). */
export function digestCard(n: OutgoingNotification): Attachment {
  const p = n.payload as unknown as DigestPayload;
  const parts = teamsParts(n);
  const items = p.items.slice(n.part * DIGEST_ITEMS_PER_CARD, (n.part + 1) * DIGEST_ITEMS_PER_CARD);
  const head = `${p.items.length} account${p.items.length === 1 ? '' : 's'} in ${p.org} lose${p.items.length === 1 ? 's' : ''} access soon${parts > 1 ? ` (part ${n.part + 1} of ${parts})` : ''}`;
  return adaptiveCard([
    text(head, { weight: 'Bolder' }),
    {
      type: 'FactSet',
      facts: items.map((i) => ({
        title: `${i.daysLeft} day${i.daysLeft === 1 ? '' : 's'} (${i.dueAt.slice(0, 10)})`,
        value: `${i.address}: ${i.clock === 'grace' ? 'leaver, grace period ends' : 'becomes inactive unless used'}`,
      })),
    },
  ]);
}

/** The card for any queued channel notification. */
export const notificationCard = (n: OutgoingNotification): Attachment =>
  n.kind === 'digest' ? digestCard(n) : transferCard(n);
