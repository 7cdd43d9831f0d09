import { clip } from '../../../src/domain/quote.js';

/**
 * Block Kit's documented limits that the builders must keep to (docs.slack.dev, Block Kit
 * reference), and the helpers that keep text inside them. Slack refuses a whole message or view
 * (`invalid_blocks`, `invalid_arguments`) when one part is over, so long input is cut or split here
 * rather than sent.
 */
export const SLACK_LIMITS = {
  /** "Blocks": up to 50 blocks in a message, 100 in a modal or Home tab. */
  messageBlocks: 50,
  viewBlocks: 100,
  /** "Text object" and "Section block": 3,000 characters. */
  text: 3000,
  /** "Header block". */
  header: 150,
  /** "Button element". */
  buttonText: 75,
  /** "Modal views": title, submit and close. */
  modalTitle: 24,
} as const;

const ELLIPSIS = '…';

/** Escaped mrkdwn cut as `clip` cuts, never inside `&amp;`, `&lt;` or `&gt;`. */
export function truncateMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = clip(text, max).slice(0, -ELLIPSIS.length);
  return `${cut.replace(/&[a-z]{0,3}$/, '')}${ELLIPSIS}`;
}

/**
 * Escaped mrkdwn in pieces of at most `max` characters: whole lines where they fit, and a line
 * longer than a piece split anywhere but inside a character reference or a surrogate pair.
 */
export function splitMrkdwn(text: string, max: number): string[] {
  const pieces: string[] = [];
  let current = '';
  const push = (piece: string) => {
    if (current === '') current = piece;
    else if (current.length + 1 + piece.length <= max) current = `${current}\n${piece}`;
    else {
      pieces.push(current);
      current = piece;
    }
  };
  for (const line of text.split('\n')) {
    if (line.length <= max) {
      push(line);
      continue;
    }
    let part = '';
    for (const token of line.match(/&(?:amp|lt|gt);|[\uD800-\uDBFF][\uDC00-\uDFFF]|[\s\S]/g) ?? []) {
      if (part.length + token.length > max) {
        push(part);
        part = '';
      }
      part += token;
    }
    push(part);
  }
  if (current !== '' || pieces.length === 0) pieces.push(current || ' ');
  return pieces;
}
