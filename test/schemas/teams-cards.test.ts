import type { Activity, Attachment } from 'botbuilder';
import { describe, expect, it } from 'vitest';
import {
  duplicateJoinerAction,
  formCard,
  notificationCard,
  outcomeCard,
  teamsParts,
  transferCard,
} from '../../adapters/teams/format/cards.js';
import { replyActivities, statusCard } from '../../adapters/teams/format/reply.js';
import { CHANNEL_KINDS } from '../../src/commands/channel-messages.js';
import { FORMS } from '../../src/commands/forms.js';
import { validateAdaptiveCard } from '../support/schemas.js';
import { T0 } from '../support/service.js';
import { MESSAGE_SIZE_LIMIT, messageSize } from '../teams/support/fake-connector.js';
import {
  ACCOUNT,
  everyPart,
  formErrorsFor,
  formValuesFor,
  LONG_ADDRESS,
  LONG_LINE,
  LONG_REFUSAL,
  MANY_DUPLICATES,
  NOTIFICATIONS,
  ODS,
  REPLIES,
  REPLY_EXPIRING,
} from './samples.js';

const cardsOf = (activities: Array<Partial<Activity>>): Attachment[] =>
  activities.flatMap((a) => a.attachments ?? []);

/**
 * Valid against Adaptive Cards 1.5 as Teams takes it (or the problems listed in the failure), and
 * within Teams' message size once sent.
 */
function expectValid(attachment: Attachment): void {
  expect(attachment.contentType).toBe('application/vnd.microsoft.card.adaptive');
  expect(validateAdaptiveCard(attachment.content)).toEqual([]);
  expect(messageSize({ type: 'message', attachments: [attachment] })).toBeLessThanOrEqual(MESSAGE_SIZE_LIMIT);
}

describe('every Adaptive Card the Teams adapter builds is valid Adaptive Cards 1.5, with long and awkward input', () => {
  it.each(FORMS.map((f) => [f.callbackId, f] as const))(
    'the %s form: blank, and shown again with values and problems',
    (_, spec) => {
      const flags = spec.fields.map((f) => f.flag);
      expectValid(formCard(spec));
      expectValid(formCard(spec, formValuesFor(flags), formErrorsFor(flags)));
    },
  );

  it('outcome cards: done, refused with a long text, a duplicate with its joiner buttons, a transfer acted on', () => {
    expectValid(outcomeCard('Done', REPLIES.long?.text.split('\n') ?? []));
    expectValid(outcomeCard('Not done (NOT_YOUR_ORGANISATION)', LONG_REFUSAL.split('\n')));
    expectValid(
      outcomeCard(
        'Not done (DUPLICATE_PERSON)',
        REPLIES.duplicate?.text.split('\n') ?? [],
        MANY_DUPLICATES.map((m) => duplicateJoinerAction(m.address, ODS)),
      ),
    );
    expectValid(outcomeCard('Transfer request', [`${LONG_ADDRESS}: ${ODS} → RYY88`, `✅ ${LONG_REFUSAL}`]));
  });

  it('covers every kind of channel notification', () => {
    expect(new Set(NOTIFICATIONS.map((n) => n.kind))).toEqual(new Set(CHANNEL_KINDS));
  });

  it.each(everyPart(teamsParts).map((n) => [`${n.kind} #${n.id} part ${n.part + 1}`, n] as const))(
    'the channel card for %s',
    (_, n) => {
      expectValid(notificationCard(n));
    },
  );

  it('transfer request cards', () => {
    for (const n of everyPart(teamsParts).filter(
      (n) => n.kind === 'transfer-leaver' || n.kind === 'transfer-joiner',
    )) {
      expectValid(transferCard(n));
    }
  });

  it.each(Object.entries(REPLIES))('the reply "%s"', (_, reply) => {
    const activities = replyActivities(reply, T0);
    for (const card of cardsOf(activities)) expectValid(card);
    for (const activity of activities) expect(messageSize(activity)).toBeLessThanOrEqual(MESSAGE_SIZE_LIMIT);
  });

  it('status cards and expiring lists, short and 200 rows long', () => {
    expectValid(statusCard(ACCOUNT, T0));
    expectValid(statusCard({ ...ACCOUNT, name: null, status: 'pending', graceExpiresAt: null }, T0));
    expectValid(statusCard({ ...ACCOUNT, directory: { state: 'ledger' } }, T0));
    const noGroup = statusCard({ ...ACCOUNT, directory: { state: 'in-step', group: null } }, T0);
    expectValid(noGroup);
    expect(JSON.stringify(noGroup)).toContain(`${ACCOUNT.org} has no directory group`);
    expectValid(
      statusCard(
        {
          ...ACCOUNT,
          directory: {
            state: 'failed',
            lastError: LONG_LINE,
            effect: { id: 123456789, kind: 'mark-leaver' },
            heldBack: 40,
            group: null,
          },
        },
        T0,
      ),
    );
    for (const n of [1, 40, 41, 200]) {
      const cards = cardsOf(replyActivities(REPLY_EXPIRING(n), T0));
      expect(cards).toHaveLength(Math.ceil(n / 40));
      for (const card of cards) expectValid(card);
    }
  });
});

describe('the Adaptive Card validator', () => {
  const card = (body: unknown[], extra: Record<string, unknown> = {}) => ({
    type: 'AdaptiveCard',
    version: '1.5',
    body,
    ...extra,
  });

  it('takes a card with Teams’ documented msteams extras', () => {
    expect(
      validateAdaptiveCard(card([{ type: 'TextBlock', text: 'x' }], { msteams: { width: 'Full' } })),
    ).toEqual([]);
  });

  it('refuses an unknown property, an unknown element type, a wrong value and undocumented msteams keys', () => {
    expect(validateAdaptiveCard(card([{ type: 'TextBlock', text: 'x', wrapp: true }]))).toEqual([
      '/body/0 must NOT have the property "wrapp"',
    ]);
    expect(validateAdaptiveCard(card([{ type: 'TextBlok', text: 'x' }]))[0]).toMatch(
      /^\/body\/0 is of type "TextBlok", which is none of .*TextBlock/,
    );
    expect(validateAdaptiveCard(card([{ type: 'FactSet', facts: [{ title: 'a', value: 3 }] }]))).toEqual([
      '/body/0/facts/0/value must be string',
    ]);
    expect(validateAdaptiveCard(card([], { msteams: { width: 'Wide' } }))).toEqual([
      '/msteams/width must be one of "Full"',
    ]);
    expect(validateAdaptiveCard(card([], { version: '1.6' }))).toEqual([
      '/version must be at most 1.5, the highest Teams renders',
    ]);
  });

  it('refuses a real builder’s card once it is broken', () => {
    const spec = FORMS[0];
    if (!spec) throw new Error('no form');
    const broken = formCard(spec) as { content: { body: Array<Record<string, unknown>> } };
    broken.content.body.push({ type: 'Input.Text', label: 'no id' });
    expect(validateAdaptiveCard(broken.content)).toEqual([
      `/body/${broken.content.body.length - 1} must have required property 'id'`,
    ]);
  });
});
