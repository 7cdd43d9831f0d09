import { invalid } from '../../domain/errors.js';
import { quote } from '../../domain/quote.js';
import { parseAddress, parseOds } from '../../domain/validation.js';
import type { SubscriptionChange } from '../../service/chat.js';
import type { ChatUserRef, RequestContext } from '../../service/context.js';
import { defineCommand, type Values } from '../command.js';
import { at, optional, required, str } from '../options.js';
import { day, type Rendered } from '../render.js';

/** Who a chat user is (`link`), and which channels get an organisation's alerts. */

export const link = defineCommand({
  name: 'link',
  usage: 'link @USER ADDRESS',
  summary:
    'Vouch that a chat user is the holder of an @nhs.net address. Local admins link only their organisation’s addresses holding no role beyond their own (never nas-admin), and change only links they could have made; NAS links anyone.',
  options: {},
  positionals: [2, 2],
  parse: ({ positionals }) => ({
    name: 'link',
    user: at(positionals, 0),
    address: parseAddress(at(positionals, 1)),
  }),
  run: (l, ctx, c) => l.linkChatUser(ctx, { user: chatUser(ctx, c.user), address: c.address }),
  render(r) {
    const text = `${r.user.platform} user ${r.user.userId} now acts as ${r.address}${r.previous && r.previous !== r.address ? ` (was ${r.previous})` : ''}.`;
    return { text, data: r };
  },
});

/**
 * A chat user named in a command: a mention in the platform's own syntax, or, anywhere,
 * `slack:TEAM:USER` / `teams:TENANT:USER`.
 */
export function chatUser(ctx: RequestContext, token: string): ChatUserRef {
  const canonical = /^(slack|teams):([^:\s]+):([^:\s]+)$/.exec(token);
  if (canonical) {
    return {
      platform: canonical[1] as ChatUserRef['platform'],
      tenant: canonical[2] ?? '',
      userId: canonical[3] ?? '',
    };
  }
  const userId = ctx.chat?.parseMention(token) ?? null;
  if (ctx.chat && userId) return { platform: ctx.chat.platform, tenant: ctx.chat.tenant, userId };
  throw invalid(
    'INVALID_CHAT_USER',
    `${quote(token)} is not a chat user. Mention them (@name) in Slack or Teams, or write slack:TEAM:USER or teams:TENANT:USER.`,
  );
}

const orgOf = (values: Values, usage: string) => parseOds(required(values, 'org', usage));
const change = (r: SubscriptionChange, text: string): Rendered => ({ text, data: r });
const orgText = (r: SubscriptionChange) => `${r.orgName} (${r.org})`;

export const subscribe = defineCommand({
  name: 'subscribe',
  usage: 'subscribe --org ODS',
  summary: 'Send an organisation’s alerts to this channel (its managers and local admins).',
  options: { org: str },
  positionals: [0, 0],
  parse: ({ values, usage }) => ({ name: 'subscribe', org: orgOf(values, usage) }),
  run: (l, ctx, c) => l.subscribe(ctx, c),
  render: (r) =>
    r.changed
      ? change(r, `This channel now receives alerts for ${orgText(r)}.`)
      : change(r, `This channel already receives alerts for ${orgText(r)}.`),
});

export const unsubscribe = defineCommand({
  name: 'unsubscribe',
  usage: 'unsubscribe --org ODS',
  summary: 'Stop sending an organisation’s alerts to this channel.',
  options: { org: str },
  positionals: [0, 0],
  parse: ({ values, usage }) => ({ name: 'unsubscribe', org: orgOf(values, usage) }),
  run: (l, ctx, c) => l.unsubscribe(ctx, c),
  render: (r) =>
    r.changed
      ? change(r, `This channel no longer receives alerts for ${orgText(r)}.`)
      : change(r, `This channel was not receiving alerts for ${orgText(r)}.`),
});

export const subscriptions = defineCommand({
  name: 'subscriptions',
  usage: 'subscriptions [--org ODS]',
  summary: 'Which organisations’ alerts come to this channel (or, with --org, which channels get them).',
  options: { org: str },
  positionals: [0, 0],
  parse: ({ values }) => {
    const org = optional(values, 'org');
    return { name: 'subscriptions', org: org === undefined ? undefined : parseOds(org) };
  },
  run: (l, ctx, c) => l.subscriptions(ctx, c),
  render(rows, { org }) {
    if (rows.length === 0) {
      return {
        text: org
          ? `No channel receives alerts for ${org}.`
          : 'This channel receives no organisation’s alerts.',
        data: rows,
      };
    }
    const lines = org
      ? rows.map(
          (r) =>
            `  ${r.platform} channel ${r.channelId} (since ${day(r.subscribedAt)}, by ${r.subscribedBy})`,
        )
      : rows.map((r) => `  ${r.org} (since ${day(r.subscribedAt)}, by ${r.subscribedBy})`);
    return {
      text: [org ? `Alerts for ${org} go to:` : 'This channel receives alerts for:', ...lines].join('\n'),
      data: rows,
    };
  },
});
