import { type Attachment, CardFactory } from 'botbuilder';
import {
  accountNotMadeText,
  accountReadyText,
  type DigestAction,
  digestPage,
  digestPages,
  directoryDriftText,
  directoryParkedText,
  disableRequestText,
  GP_LOCUM_CLAIM_BUTTON,
  gpLocumClaimText,
  hrImportText,
  isDigest,
  leaverRequestText,
  parkedText,
} from '../../../src/commands/channel-messages.js';
import type { FormSpec } from '../../../src/commands/forms.js';
import { PARKED_KIND, unhandledKind } from '../../../src/domain/notifications.js';
import { clip } from '../../../src/domain/quote.js';
import type { OutgoingNotification, QueuedNotification } from '../../../src/service/ports.js';

type Element = Record<string, unknown>;

/** What an Action.Submit sends back in `activity.value`: which of our actions, and its data. */
export type CardSubmit =
  | { nhsmail: 'form'; form: string; [flag: string]: string }
  | { nhsmail: 'transfer_mark_leaver' | 'transfer_accept_joiner'; address: string; from: string; to: string }
  | { nhsmail: 'duplicate_start_joiner'; address: string; org: string }
  | { nhsmail: 'digest_accept_joiner'; address: string; org: string }
  | { nhsmail: 'digest_remind'; address: string }
  /** `until` is the return date's day, or '' when none was given. */
  | { nhsmail: 'disable_request_disable'; address: string; reason: string; until: string };

/** Every kind of CardSubmit: what a card's Action.Execute may name as its verb. */
const CARD_SUBMIT_KINDS: Record<CardSubmit['nhsmail'], true> = {
  form: true,
  transfer_mark_leaver: true,
  transfer_accept_joiner: true,
  duplicate_start_joiner: true,
  digest_accept_joiner: true,
  digest_remind: true,
  disable_request_disable: true,
};

export const isCardSubmitKind = (kind: unknown): kind is CardSubmit['nhsmail'] =>
  typeof kind === 'string' && Object.hasOwn(CARD_SUBMIT_KINDS, kind);

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
 * The longest value a form's text field takes (an organisation's name, 200 characters); Teams stops
 * the typing there. What is shown again after a failed submission is kept to it too, and each
 * field's problem (which quotes the value) to `PROBLEM_SHOWN`, so that a card full of very long
 * input stays well inside Teams' message size ("Format your bot messages": about 100 KB).
 */
const TEXT_MAX = 200;
const PROBLEM_SHOWN = 500;

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
    const value = values[f.flag];
    const common = {
      id: f.flag,
      label: f.label,
      isRequired: !f.optional,
      ...(value ? { value: value.slice(0, TEXT_MAX) } : {}),
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
      body.push({
        type: 'Input.Text',
        ...(f.placeholder ? { placeholder: f.placeholder } : {}),
        ...common,
        maxLength: TEXT_MAX,
      });
    if (f.hint) body.push(text(f.hint, { isSubtle: true, size: 'Small', spacing: 'None' }));
    const error = errors[f.flag];
    if (error)
      body.push(text(clip(error, PROBLEM_SHOWN), { color: 'Attention', size: 'Small', spacing: 'None' }));
  }
  return adaptiveCard(body, [submit(spec.submit, { nhsmail: 'form', form: spec.callbackId })]);
}

/** The outcome that replaces a form card (or a transfer card once someone acted). */
export function outcomeCard(title: string, lines: string[], actions: Element[] = []): Attachment {
  return adaptiveCard([text(title, { weight: 'Bolder' }), ...lines.map((l) => text(l))], actions);
}

export const duplicateJoinerAction = (address: string, org: string): Element =>
  submit(`Start a joiner for ${address} into ${org}`, { nhsmail: 'duplicate_start_joiner', address, org });

/** A transfer request as posted into a subscribed channel, with its button. */
export function transferCard(n: OutgoingNotification<'transfer-leaver' | 'transfer-joiner'>): Attachment {
  const p = n.payload;
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

export function teamsParts(n: QueuedNotification): number {
  return isDigest(n) ? digestPages(n, DIGEST_ITEMS_PER_CARD) : 1;
}

function lineAction(action: DigestAction): Element {
  return action.command === 'joiner'
    ? submit(
        action.label,
        { nhsmail: 'digest_accept_joiner', address: action.address, org: action.org },
        'positive',
      )
    : submit(action.label, { nhsmail: 'digest_remind', address: action.address });
}

/**
 * A channel digest as a card (one of several for long digests): a row per account with its days
 * left and, where there is something to do, its button ("Accept as joiner", "Remind").
 */
export function digestCard(n: OutgoingNotification<'digest' | 'pending-digest'>): Attachment {
  const page = digestPage(n, DIGEST_ITEMS_PER_CARD);
  const rows = page.lines.map(
    (line): Element => ({
      type: 'ColumnSet',
      separator: true,
      columns: [
        {
          type: 'Column',
          width: 'stretch',
          items: [
            text(`**${line.address}** — ${line.when}`),
            text(line.what, { isSubtle: true, spacing: 'None' }),
          ],
        },
        ...(line.action
          ? [
              {
                type: 'Column',
                width: 'auto',
                verticalContentAlignment: 'Center',
                items: [{ type: 'ActionSet', actions: [lineAction(line.action)] }],
              },
            ]
          : []),
      ],
    }),
  );
  return adaptiveCard([
    text(page.head, { weight: 'Bolder' }),
    ...rows,
    ...(page.footer ? [text(page.footer, { isSubtle: true })] : []),
  ]);
}

/** The card for any queued channel notification. */
export function notificationCard(n: OutgoingNotification): Attachment {
  switch (n.kind) {
    case 'digest':
    case 'pending-digest':
      return digestCard(n);
    case PARKED_KIND:
      return adaptiveCard([text(`⚠️ ${parkedText(n.payload)}`)]);
    case 'hr-import':
      return adaptiveCard([text(hrImportText(n.payload))]);
    case 'directory-parked':
      return adaptiveCard([text(`⚠️ ${directoryParkedText(n.payload)}`)]);
    case 'directory-drift':
      return adaptiveCard([text(`🔎 ${directoryDriftText(n.payload)}`)]);
    case 'account-ready':
      return adaptiveCard([text(`✅ ${accountReadyText(n.payload)}`)]);
    case 'account-not-made':
      return adaptiveCard([text(`⚠️ ${accountNotMadeText(n.payload)}`)]);
    case 'leaver-request': {
      const { address, org } = n.payload;
      return adaptiveCard(
        [text('Leaver request', { weight: 'Bolder' }), text(leaverRequestText(n.payload))],
        [
          submit(
            'Mark as leaver',
            { nhsmail: 'transfer_mark_leaver', address, from: org, to: org },
            'destructive',
          ),
        ],
      );
    }
    case 'disable-request': {
      const { address, reason, until } = n.payload;
      return adaptiveCard(
        [text('Disable request', { weight: 'Bolder' }), text(disableRequestText(n.payload))],
        [
          submit(
            'Disable',
            { nhsmail: 'disable_request_disable', address, reason, until: until?.slice(0, 10) ?? '' },
            'destructive',
          ),
        ],
      );
    }
    case 'transfer-leaver':
    case 'transfer-joiner':
      return transferCard(n);
    case 'gp-locum-claim': {
      const p = n.payload;
      const { head, body } = gpLocumClaimText(p);
      // The transfer's joiner button: `joiner ADDRESS --org TO` as whoever clicked.
      return adaptiveCard(
        [text(head, { weight: 'Bolder' }), text(body)],
        [
          submit(
            GP_LOCUM_CLAIM_BUTTON,
            { nhsmail: 'transfer_accept_joiner', address: p.address, from: p.from, to: p.to },
            'positive',
          ),
        ],
      );
    }
    // The holders' kinds go to their personal chat as text (holderText); `kinds` never routes them here.
    case 'leaver':
    case 'joiner':
    case 'status-change':
    case 'warning':
    case 'reminder':
      throw new Error(`a ${n.kind} notification is for its holder, not a channel`);
    default:
      return unhandledKind(n);
  }
}
