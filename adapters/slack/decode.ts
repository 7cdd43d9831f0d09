import { decodeUriPart } from '../uri.js';

/**
 * What a person typed, from what Slack sends: the one decoding step for every way a person types
 * to the bot in Slack, before the grammar sees the words.
 *
 * Slack delivers typed text in its own markup ("Formatting text for app surfaces"): `&`, `<` and
 * `>` arrive as `&amp;`, `&lt;` and `&gt;`; an address, a link or a phone number the client
 * recognised arrives as `<mailto:jane.doe@nhs.net|jane.doe@nhs.net>`, `<https://…|label>` or
 * `<tel:…|label>`; a user picked from the list as `<@U…>` or `<@U…|name>`; a channel as
 * `<#C…|name>`; and `<!here>`, `<!subteam^S…|@team>`, `<!date^…|fallback>`. A message also
 * carries the same words as rich_text elements, unescaped, which is the more reliable form.
 *
 * Users stay `<@U…>`, the mention form the grammar's `link` reads. Markup the bot has no use for
 * (channels, broadcasts, user groups) becomes what the person saw, so the grammar's validators
 * say what was wrong with it.
 */

const ESCAPES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>' };

/** Slack's three escapes undone, in one pass (so `&amp;lt;` stays `&lt;`, as typed). */
export const unescapeSlack = (text: string): string =>
  text.replace(/&(?:amp|lt|gt);/g, (e) => ESCAPES[e] ?? e);

/** The address or number a `mailto:`/`tel:` link points to; any other link as written. */
function linkTarget(url: string): string {
  const scheme = /^(mailto|tel):(.*)$/i.exec(url);
  return scheme ? decodeUriPart(scheme[2] ?? '') : url;
}

/** One `<…>` of Slack markup (its inside, still escaped) as the words the person typed. */
function decodeMarkup(inner: string): string {
  const bar = inner.indexOf('|');
  const target = bar === -1 ? inner : inner.slice(0, bar);
  const label = bar === -1 ? '' : unescapeSlack(inner.slice(bar + 1));
  switch (target[0]) {
    case '@': // a user: the id is what identifies them
      return `<${target}>`;
    case '#': // a channel
      return `#${label || target.slice(1)}`;
    case '!': {
      // <!here>, <!channel>, <!everyone>, <!subteam^ID|@handle>, <!date^…|fallback>
      if (label) return label;
      return `@${target.slice(1).split('^')[0] ?? ''}`;
    }
    default: {
      const url = unescapeSlack(target);
      // An e-mail link is its address, whatever label it shows; other links are what was typed.
      if (/^mailto:/i.test(url)) return linkTarget(url);
      return label || linkTarget(url);
    }
  }
}

/**
 * Typed text as Slack sends it in a slash command's `text` or a message's `text`, decoded to what
 * the person typed: links to what they show, the three escapes undone, users kept as `<@U…>`.
 */
export function decodeSlackText(text: string): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(/<([^<>]*)>/g)) {
    out += unescapeSlack(text.slice(last, match.index));
    out += decodeMarkup(match[1] ?? '');
    last = match.index + match[0].length;
  }
  return out + unescapeSlack(text.slice(last));
}

/** The inline elements of Slack's rich_text that carry typed words (the rest are ignored). */
export type RichTextInline =
  | { type: 'text'; text: string; style?: Record<string, boolean> }
  | { type: 'link'; url: string; text?: string; style?: Record<string, boolean> }
  | { type: 'user'; user_id: string }
  | { type: 'usergroup'; usergroup_id: string }
  | { type: 'channel'; channel_id: string }
  | { type: 'broadcast'; range: string }
  | { type: 'emoji'; name: string; unicode?: string }
  | { type: 'date'; timestamp: number; format: string; fallback?: string }
  | { type: 'team'; team_id: string }
  | { type: 'color'; value: string };

interface RichTextContainer {
  type: string;
  elements?: unknown[];
}

function inlineText(element: RichTextInline): string {
  switch (element.type) {
    case 'text':
      return element.text;
    case 'link':
      // A typed address is a mailto link whose text is the address; a pasted link shows its text.
      return /^mailto:/i.test(element.url)
        ? linkTarget(element.url)
        : (element.text ?? linkTarget(element.url));
    case 'user':
      return `<@${element.user_id}>`;
    case 'usergroup':
      return `@${element.usergroup_id}`;
    case 'channel':
      return `#${element.channel_id}`;
    case 'broadcast':
      return `@${element.range}`;
    case 'emoji':
      return `:${element.name}:`;
    case 'date':
      return element.fallback ?? String(element.timestamp);
    case 'team':
      return element.team_id;
    case 'color':
      return element.value;
  }
}

function containerText(container: RichTextContainer): string {
  return (container.elements ?? [])
    .map((e) => {
      const element = e as { type?: unknown; elements?: unknown };
      if (Array.isArray(element.elements)) return containerText(e as RichTextContainer);
      return typeof element.type === 'string' ? inlineText(e as RichTextInline) : '';
    })
    .join(container.type === 'rich_text_list' ? '\n' : '');
}

/**
 * The words of a message's rich_text blocks (sections, lists, quotes, preformatted), unescaped;
 * null when the message has none (sent by an older client or through the API).
 */
export function richTextOf(blocks: unknown): string | null {
  if (!Array.isArray(blocks)) return null;
  const rich = blocks.filter(
    (b): b is RichTextContainer =>
      typeof b === 'object' && b !== null && (b as { type?: unknown }).type === 'rich_text',
  );
  if (rich.length === 0) return null;
  return rich
    .map((block) => (block.elements ?? []).map((e) => containerText(e as RichTextContainer)).join('\n'))
    .join('\n');
}

/** A message as typed: its rich_text where Slack sent it, otherwise its decoded `text`. */
export function messageText(message: { text?: string | undefined; blocks?: unknown }): string {
  return richTextOf(message.blocks) ?? decodeSlackText(message.text ?? '');
}
