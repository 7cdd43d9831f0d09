import { escapeMrkdwn } from '../../../adapters/slack/format/reply.js';

/**
 * What Slack sends for words a person typed, so every test types through the same markup the
 * real platform delivers (recorded shapes: test/slack/fixtures/recorded/SOURCES.md).
 *
 * Tests write a user picked from Slack's list as `<@U…>`. The client turns an e-mail address into
 * a mailto link and a web address into a link; the text is escaped (`&amp;`, `&lt;`, `&gt;`);
 * a slash command (with the manifest's `should_escape: true`) names users as `<@U…|name>`, a
 * message as `<@U…>`. A message also carries the words as rich_text elements, unescaped.
 */

const PIECES =
  /<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|([A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})|(https?:\/\/[^\s<>"]+)/g;

type Piece =
  | { kind: 'text'; text: string }
  | { kind: 'user'; id: string }
  | { kind: 'email'; address: string }
  | { kind: 'url'; url: string };

function pieces(typed: string): Piece[] {
  const out: Piece[] = [];
  let last = 0;
  for (const m of typed.matchAll(PIECES)) {
    if (m.index > last) out.push({ kind: 'text', text: typed.slice(last, m.index) });
    if (m[1]) out.push({ kind: 'user', id: m[1] });
    else if (m[2]) out.push({ kind: 'email', address: m[2] });
    else if (m[3]) out.push({ kind: 'url', url: m[3] });
    last = m.index + m[0].length;
  }
  if (last < typed.length) out.push({ kind: 'text', text: typed.slice(last) });
  return out;
}

function markup(typed: string, userLabel: (id: string) => string): string {
  return pieces(typed)
    .map((p) => {
      if (p.kind === 'user') return `<@${p.id}${userLabel(p.id)}>`;
      if (p.kind === 'email') return `<mailto:${p.address}|${escapeMrkdwn(p.address)}>`;
      if (p.kind === 'url') return `<${p.url}>`;
      return escapeMrkdwn(p.text);
    })
    .join('');
}

/** A slash command's `text` field, as Slack sends it with `should_escape: true`. */
export const slashCommandText = (typed: string): string => markup(typed, (id) => `|${id.toLowerCase()}`);

/** A message event's `text` and `blocks` for words typed in Slack's composer. */
export function messageFields(typed: string): { text: string; blocks: Array<Record<string, unknown>> } {
  const elements = pieces(typed).map((p) => {
    if (p.kind === 'user') return { type: 'user', user_id: p.id };
    if (p.kind === 'email') return { type: 'link', url: `mailto:${p.address}`, text: p.address };
    if (p.kind === 'url') return { type: 'link', url: p.url };
    return { type: 'text', text: p.text };
  });
  return {
    text: markup(typed, () => ''),
    blocks: [
      {
        type: 'rich_text',
        block_id: `b${Math.random().toString(36).slice(2, 7)}`,
        elements: [{ type: 'rich_text_section', elements }],
      },
    ],
  };
}
