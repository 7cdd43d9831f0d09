import type { Activity } from 'botbuilder';
import { Parser } from 'htmlparser2';
import { decodeUriPart } from '../uri.js';

/**
 * What a person typed, from what Teams sends: the one decoding step for every Teams message
 * (personal, group chat, channel) before the grammar sees the words.
 *
 * Teams keeps a message as HTML. It sends a plain rendering in `text` (`textFormat: "plain"`), in
 * which @mentions are still `<at>Name</at>` and entities such as `&nbsp;` can remain, and the HTML
 * itself as a `text/html` attachment (a typed message is `<p>…</p>`, a pasted one nested `<div>`s
 * with `<strong>`…). The HTML is read where Teams sent it: it is unambiguous (a typed `<` is
 * `&lt;`) and it keeps what the plain rendering can lose from a paste. Otherwise `text` is read,
 * leniently: only HTML's own tags and `<at>` are markup there, so a typed `<Market St>` stays.
 *
 * Mentions are matched to the activity's mention entities (the structured form): the bot's own is
 * dropped, anyone else's becomes one token `<at:USER-ID>` that `link` reads, even when Teams
 * split a display name into one `<at>` per word.
 */
export function commandText(activity: Activity): string {
  const html = activity.attachments?.find(
    (a) => a.contentType === 'text/html' && typeof a.content === 'string',
  )?.content as string | undefined;
  return decodeTeamsText(html ?? activity.text ?? '', mentionsOf(activity), activity.recipient?.id);
}

/** A Teams mention token (`<at:USER-ID>`) → the user id. */
export function parseTeamsMention(token: string): string | null {
  return /^<at:([^>]+)>$/.exec(token.trim())?.[1] ?? null;
}

interface Mention {
  id: string;
  /** The mention's words as they appear inside `<at>…</at>`; absent in some recordings. */
  words: string | undefined;
}

function mentionsOf(activity: Activity): Mention[] {
  return (activity.entities ?? []).flatMap((entity) => {
    if (entity.type !== 'mention') return [];
    const m = entity as unknown as { text?: string; mentioned?: { id?: string } };
    if (!m.mentioned?.id) return [];
    return [{ id: m.mentioned.id, words: m.text === undefined ? undefined : innerText(m.text) }];
  });
}

/** The words of an entity's `<at>…</at>`, as text. */
const innerText = (markup: string) =>
  decodeTeamsText(markup.replace(/^<at[^>]*>|<\/at>$/g, ''), [], undefined);

/** Tags of Teams' HTML whose end separates words. */
const BLOCK = new Set([
  'p',
  'div',
  'br',
  'li',
  'ul',
  'ol',
  'tr',
  'td',
  'th',
  'table',
  'pre',
  'hr',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
]);
/** Inline tags: markup, not words. */
const INLINE = new Set([
  'span',
  'strong',
  'b',
  'em',
  'i',
  'u',
  's',
  'strike',
  'del',
  'ins',
  'code',
  'a',
  'font',
  'sup',
  'sub',
  'mark',
  'small',
  'tbody',
  'thead',
  'img',
  'emoji',
  'blockquote',
  'at',
]);
const MENTION_TYPE = 'http://schema.skype.com/Mention';

/**
 * Teams text or HTML → the typed words. `mentions` are the activity's mention entities in order;
 * `botId` is the bot's own id, whose mention is dropped.
 */
export function decodeTeamsText(source: string, mentions: Mention[], botId: string | undefined): string {
  let out = '';
  const used = new Set<number>();
  /** Open elements: whether each is a mention being collected, or a quoted reply being skipped. */
  const stack: Array<{
    name: string;
    mention?: { index: number | undefined; words: string };
    skip?: boolean;
  }> = [];
  let lastMentionId: string | null = null;
  let afterMention = '';
  const skipping = () => stack.some((e) => e.skip);
  const collecting = () => [...stack].reverse().find((e) => e.mention)?.mention;

  const emit = (text: string) => {
    if (skipping()) return;
    const mention = collecting();
    if (mention) {
      mention.words += text;
      return;
    }
    if (lastMentionId !== null && /^\s*$/.test(text)) {
      afterMention += text; // whitespace between two mentions of the same person is theirs
      return;
    }
    lastMentionId = null;
    out += afterMention + text;
    afterMention = '';
  };

  const closeMention = (mention: { index: number | undefined; words: string }) => {
    const words = mention.words.replace(/\s+/g, ' ').trim();
    let index = mentions.findIndex(
      (m, i) => !used.has(i) && m.words !== undefined && m.words.trim() === words,
    );
    if (index === -1 && mention.index !== undefined && !used.has(mention.index)) index = mention.index;
    if (index === -1) index = mentions.findIndex((m, i) => !used.has(i) && m.words === undefined);
    const found = mentions[index];
    if (!found) {
      emit(words); // not a mention Teams told us about: the words reach the validators as they are
      return;
    }
    used.add(index);
    if (found.id === botId) return;
    if (lastMentionId === found.id) {
      afterMention = ''; // one person's name split into several <at>s: one token
      return;
    }
    out += `${afterMention}<at:${found.id}>`;
    afterMention = '';
    lastMentionId = found.id;
  };

  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (!BLOCK.has(name) && !INLINE.has(name)) {
          emit(source.slice(parser.startIndex, parser.endIndex + 1)); // not HTML: what was typed
          stack.push({ name: `literal:${name}` });
          return;
        }
        const itemType = attributes.itemtype ?? '';
        if (name === 'at' || itemType === MENTION_TYPE) {
          const id = Number.parseInt(attributes.itemid ?? '', 10);
          stack.push({ name, mention: { index: Number.isNaN(id) ? undefined : id, words: '' } });
          return;
        }
        // A reply quotes the message it answers: those are not the words of this command.
        stack.push({ name, skip: name === 'blockquote' && itemType.endsWith('/Reply') });
        if (name === 'img' || name === 'emoji') emit(attributes.alt ?? '');
        if (name === 'a' && /^mailto:/i.test(attributes.href ?? '')) {
          // An address link is its address.
          emit(decodeUriPart((attributes.href ?? '').replace(/^mailto:/i, '')));
          stack.push({ name: 'a-text', skip: true });
        }
      },
      ontext(text) {
        emit(text);
      },
      onclosetag(name, implied) {
        const index = stack.findLastIndex((e) => e.name === name || e.name === `literal:${name}`);
        if (index === -1) {
          if (!implied) emit(source.slice(parser.startIndex, parser.endIndex + 1));
          return;
        }
        const [element] = stack.splice(index); // with anything left open inside it
        if (element?.name.startsWith('literal:')) {
          if (!implied) emit(source.slice(parser.startIndex, parser.endIndex + 1));
          return;
        }
        if (element?.mention) closeMention(element.mention);
        else if (BLOCK.has(name)) emit(' ');
      },
    },
    { decodeEntities: true, lowerCaseTags: true, recognizeSelfClosing: true },
  );
  parser.write(source);
  parser.end();
  return (out + afterMention).replace(/\s+/g, ' ').trim();
}
