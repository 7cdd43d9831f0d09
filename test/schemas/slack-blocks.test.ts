import type { types } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formView } from '../../adapters/slack/format/modal.js';
import { actedMessage, notificationMessage, slackParts } from '../../adapters/slack/format/notifications.js';
import { escapeMrkdwn, replyMessages } from '../../adapters/slack/format/reply.js';
import type { SlackDeps } from '../../adapters/slack/handle.js';
import { SlackIdentities } from '../../adapters/slack/identity.js';
import { outcomeView } from '../../adapters/slack/listeners/forms.js';
import { homeBlocks } from '../../adapters/slack/listeners/home.js';
import { CHANNEL_KINDS } from '../../src/commands/channel-messages.js';
import type { Reply } from '../../src/commands/execute.js';
import { FORMS } from '../../src/commands/forms.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import type { Actor } from '../../src/domain/roles.js';
import { createLogger } from '../../src/logger.js';
import type { RequestContext } from '../../src/service/context.js';
import { createLifecycle, type Lifecycle } from '../../src/service/lifecycle.js';
import { checkMessage, checkView } from '../support/block-kit.js';
import { createTestDatabase, type TestDatabase } from '../support/engines.js';
import { CapturingDelivery, day, operator, person, T0 } from '../support/service.js';
import {
  everyPart,
  LONG_ADDRESS,
  LONG_FAMILY,
  LONG_GIVEN,
  LONG_LINE,
  LONG_ORG_NAME,
  LONG_REFUSAL,
  MARKUP,
  NOTIFICATIONS,
  ODS,
  REPLIES,
  REPLY_EXPIRING,
  REPLY_STATUS,
} from './samples.js';

const ALL_REPLIES = { ...REPLIES, status: REPLY_STATUS, expiring: REPLY_EXPIRING(200) };
const SHORT: Reply = { ok: true, exitCode: 0, command: 'help', text: '', data: null };

describe('every Slack message, modal and Home tab the bot builds keeps to Block Kit’s documented limits', () => {
  it('covers every kind of channel notification', () => {
    expect(new Set(NOTIFICATIONS.map((n) => n.kind))).toEqual(new Set(CHANNEL_KINDS));
  });

  it.each(everyPart(slackParts).map((n) => [`${n.kind} #${n.id} part ${n.part + 1}`, n] as const))(
    'the channel message for %s',
    (_, n) => {
      expect(checkMessage(notificationMessage(n))).toEqual([]);
    },
  );

  it('a 200-line digest goes in several messages and loses no line', () => {
    const digest = NOTIFICATIONS.find((n) => n.kind === 'digest' && n.payload.items.length === 200);
    if (!digest) throw new Error('no long digest sample');
    const parts = Array.from({ length: slackParts(digest) }, (_, part) =>
      notificationMessage({ ...digest, part }),
    );
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.flatMap((m) => m.blocks).filter((b) => b.type === 'section')).toHaveLength(200);
  });

  it('a message acted on again and again (every line of a digest accepted) stays within the limits', () => {
    for (const n of everyPart(slackParts)) {
      let message = notificationMessage(n);
      for (let i = 0; i < 60; i++) {
        const done = escapeMrkdwn(
          `Accepted into ${ODS} by <@U0LAX>: ${i === 0 ? LONG_LINE : `${LONG_ADDRESS} is a joiner`}`,
        );
        message = { text: done, blocks: actedMessage(message.blocks, done) };
        expect(checkMessage(message)).toEqual([]);
      }
    }
  });

  it.each(Object.entries(ALL_REPLIES))(
    'the reply "%s", however long, in one or more messages',
    (_, reply) => {
      const messages = replyMessages(reply);
      expect(messages.length).toBeGreaterThan(0);
      for (const m of messages) {
        expect(checkMessage({ response_type: 'ephemeral', replace_original: false, ...m })).toEqual([]);
      }
    },
  );

  it('splits a long answer without losing a character or cutting a character reference in two', () => {
    const sectionTexts = (text: string) =>
      replyMessages({ ...SHORT, text })
        .flatMap((m) => m.blocks)
        .map((b) => (b.type === 'section' ? (b.text?.text ?? '') : ''));
    const line = sectionTexts(LONG_LINE);
    expect(line.length).toBeGreaterThan(1);
    expect(line.join('')).toBe(escapeMrkdwn(LONG_LINE));
    const lines = sectionTexts(LONG_REFUSAL);
    expect(lines.join('\n')).toBe(escapeMrkdwn(LONG_REFUSAL));
    for (const text of [...line, ...lines]) expect(text.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
  });

  it.each(FORMS.map((f) => [f.callbackId, f] as const))('the %s modal', (_, spec) => {
    expect(checkView(formView(spec, { channelId: 'C0123456789' }))).toEqual([]);
  });

  it('the modal after a form: each outcome, a duplicate with its joiner buttons, and the joiner’s answer', () => {
    for (const spec of FORMS) {
      for (const reply of Object.values(ALL_REPLIES)) {
        expect(checkView(outcomeView(spec, reply, ODS))).toEqual([]);
        expect(checkView(outcomeView(spec, reply, `${ODS}${'9'.repeat(300)}`, 'Joiner'))).toEqual([]);
      }
    }
  });
});

describe('the Slack Home tab, from the real service, keeps to the limits', () => {
  let test: TestDatabase;
  let lifecycle: Lifecycle;
  let deps: SlackDeps;

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    lifecycle = await createLifecycle({
      db: test.database.db,
      policy: DEFAULT_POLICY,
      delivery: new CapturingDelivery(),
    });
    deps = {
      lifecycle,
      identities: new SlackIdentities(lifecycle),
      logger: createLogger({ level: 'silent' }),
      clock: () => T0,
    };
    await lifecycle.addOrganisation(operator(), { ods: ODS, name: LONG_ORG_NAME, kind: 'trust' });
    await lifecycle.grantRole(operator(), { address: 'la.x@nhs.net', role: 'local-admin', org: ODS });
    for (let i = 0; i < 30; i++) {
      const made = await lifecycle.provision(operator(day(-26)), {
        ...person(LONG_GIVEN, LONG_FAMILY),
        org: ODS,
      });
      await lifecycle.firstLogin(operator(day(-26)), { address: made.account.address, mfa: true });
    }
  });
  afterAll(async () => {
    await test.close();
  });

  const home = async (actor: Actor) => {
    const ctx: RequestContext = { actor, platform: 'slack', now: T0 };
    const blocks: types.KnownBlock[] = await homeBlocks(deps, ctx, actor);
    return { type: 'home', blocks };
  };

  it('for a guest, a holder with a long name and a local administrator with a long expiring list', async () => {
    const holder = await lifecycle.expiring(operator(), { org: ODS, within: 7 });
    expect(holder.length).toBe(30);
    const views = [
      await home({ kind: 'guest', label: `slack:T0001:U0GUEST ${MARKUP}` }),
      await home({ kind: 'person', address: holder[0]?.address ?? '' }),
      await home({ kind: 'person', address: 'la.x@nhs.net' }),
    ];
    expect(JSON.stringify(views[2])).toContain('…and 20 more');
    for (const view of views) expect(checkView(view)).toEqual([]);
  });
});

describe('the Block Kit checker', () => {
  const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
  const button = (text: string, value = 'v') => ({
    type: 'button',
    text: { type: 'plain_text', text },
    action_id: 'a',
    value,
  });
  const modal = (extra: Record<string, unknown> = {}) => ({
    type: 'modal',
    title: { type: 'plain_text', text: 'Title' },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [section('x')],
    ...extra,
  });

  it('takes what is within every limit', () => {
    expect(checkMessage({ text: 'x', blocks: [section('x'.repeat(3000))] })).toEqual([]);
    expect(checkView(modal({ title: { type: 'plain_text', text: 'x'.repeat(24) } }))).toEqual([]);
  });

  it('refuses each limit broken', () => {
    const cases: Array<[unknown, string, 'message' | 'view']> = [
      [{ text: 'x'.repeat(40_001) }, '/text is 40001 characters long; the limit is 40000', 'message'],
      [
        { blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })) },
        '/blocks has 51 items; the limit is 50',
        'message',
      ],
      [
        modal({ blocks: Array.from({ length: 101 }, () => ({ type: 'divider' })) }),
        '/blocks has 101 items; the limit is 100',
        'view',
      ],
      [
        modal({ title: { type: 'plain_text', text: 'x'.repeat(25) } }),
        '/title/text is 25 characters long; the limit is 24',
        'view',
      ],
      [
        modal({ submit: { type: 'plain_text', text: 'x'.repeat(25) } }),
        '/submit/text is 25 characters long; the limit is 24',
        'view',
      ],
      [modal({ close: { type: 'mrkdwn', text: 'Close' } }), '/close/type must be plain_text', 'view'],
      [
        modal({ private_metadata: 'x'.repeat(3001) }),
        '/private_metadata is 3001 characters long; the limit is 3000',
        'view',
      ],
      [
        { blocks: [section('x'.repeat(3001))] },
        '/blocks/0/text/text is 3001 characters long; the limit is 3000',
        'message',
      ],
      [{ blocks: [section('')] }, '/blocks/0/text/text must not be empty', 'message'],
      [
        { blocks: [{ type: 'header', text: { type: 'plain_text', text: 'x'.repeat(151) } }] },
        '/blocks/0/text/text is 151 characters long; the limit is 150',
        'message',
      ],
      [
        {
          blocks: [
            { type: 'section', text: { type: 'mrkdwn', text: 'x' }, accessory: button('x'.repeat(76)) },
          ],
        },
        '/blocks/0/accessory/text/text is 76 characters long; the limit is 75',
        'message',
      ],
      [
        { blocks: [{ type: 'actions', elements: [button('x', 'v'.repeat(2001))] }] },
        '/blocks/0/elements/0/value is 2001 characters long; the limit is 2000',
        'message',
      ],
      [
        { blocks: [{ type: 'actions', elements: [{ ...button('x'), action_id: 'a'.repeat(256) }] }] },
        '/blocks/0/elements/0/action_id is 256 characters long; the limit is 255',
        'message',
      ],
      [
        {
          blocks: [
            {
              type: 'actions',
              elements: Array.from({ length: 26 }, (_, i) => ({ ...button('x'), action_id: `a${i}` })),
            },
          ],
        },
        '/blocks/0/elements has 26 items; the limit is 25',
        'message',
      ],
      [
        {
          blocks: [
            { type: 'context', elements: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'x' })) },
          ],
        },
        '/blocks/0/elements has 11 items; the limit is 10',
        'message',
      ],
      [
        {
          blocks: [
            { type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'x' })) },
          ],
        },
        '/blocks/0/fields has 11 items; the limit is 10',
        'message',
      ],
      [
        { blocks: [{ type: 'section', fields: [{ type: 'mrkdwn', text: 'x'.repeat(2001) }] }] },
        '/blocks/0/fields/0/text is 2001 characters long; the limit is 2000',
        'message',
      ],
      [
        { blocks: [{ ...section('x'), block_id: 'b'.repeat(256) }] },
        '/blocks/0/block_id is 256 characters long; the limit is 255',
        'message',
      ],
      [
        {
          blocks: [
            { ...section('x'), block_id: 'same' },
            { ...section('y'), block_id: 'same' },
          ],
        },
        '/blocks/1/block_id "same" is used twice',
        'message',
      ],
      [
        modal({
          blocks: [
            {
              type: 'input',
              label: { type: 'plain_text', text: 'x'.repeat(2001) },
              element: { type: 'plain_text_input', action_id: 'a' },
            },
          ],
          submit: { type: 'plain_text', text: 'Go' },
        }),
        '/blocks/0/label/text is 2001 characters long; the limit is 2000',
        'view',
      ],
      [
        modal({
          blocks: [
            {
              type: 'input',
              label: { type: 'plain_text', text: 'L' },
              element: {
                type: 'plain_text_input',
                action_id: 'a',
                placeholder: { type: 'plain_text', text: 'x'.repeat(151) },
              },
            },
          ],
          submit: { type: 'plain_text', text: 'Go' },
        }),
        '/blocks/0/element/placeholder/text is 151 characters long; the limit is 150',
        'view',
      ],
      [
        modal({
          blocks: [
            {
              type: 'input',
              label: { type: 'plain_text', text: 'L' },
              element: {
                type: 'static_select',
                action_id: 'a',
                options: Array.from({ length: 101 }, (_, i) => ({
                  text: { type: 'plain_text', text: `o${i}` },
                  value: `o${i}`,
                })),
              },
            },
          ],
          submit: { type: 'plain_text', text: 'Go' },
        }),
        '/blocks/0/element/options has 101 items; the limit is 100',
        'view',
      ],
      [
        modal({
          blocks: [
            {
              type: 'input',
              label: { type: 'plain_text', text: 'L' },
              element: { type: 'datepicker', action_id: 'a' },
            },
          ],
        }),
        '/submit is required when the view has an input block',
        'view',
      ],
      [
        { blocks: [{ type: 'image', image_url: 'https://x', alt_text: 'x' }] },
        '/blocks/0/type "image" is not a block type this checker knows',
        'message',
      ],
    ];
    for (const [payload, problem, kind] of cases) {
      expect(kind === 'message' ? checkMessage(payload) : checkView(payload)).toContain(problem);
    }
  });

  it('refuses a real builder’s modal once its title is too long', () => {
    const spec = FORMS[0];
    if (!spec) throw new Error('no form');
    expect(checkView(formView({ ...spec, title: 'A new starter for the trust' }, {}))).toEqual([
      '/title/text is 27 characters long; the limit is 24',
    ]);
  });
});
