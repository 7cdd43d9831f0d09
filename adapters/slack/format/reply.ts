import type { types } from '@slack/bolt';

type KnownBlock = types.KnownBlock;

import type { Reply } from '../../../src/commands/execute.js';

/** Slack's limit for one section's text. */
const SECTION_LIMIT = 3000;
/** Slack's limit of blocks in one message. */
const BLOCK_LIMIT = 50;

export const escapeMrkdwn = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A reply as Block Kit: refusals lead with what stopped the command; long answers are split into
 * sections at line breaks, and into several messages beyond Slack's block limit, never cut off.
 */
export function replyMessages(reply: Reply): Array<{ text: string; blocks: KnownBlock[] }> {
  const lead = reply.ok
    ? null
    : `${reply.error?.kind === 'invalid' ? ':warning: That command could not be read' : ':no_entry: Refused'} (${reply.error?.code})`;
  const sections = chunk(escapeMrkdwn(reply.text), SECTION_LIMIT - 10).map(
    (part): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: part } }),
  );
  const blocks: KnownBlock[] = lead
    ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: lead }] }, ...sections]
    : sections;
  const messages: Array<{ text: string; blocks: KnownBlock[] }> = [];
  for (let i = 0; i < blocks.length; i += BLOCK_LIMIT) {
    const part = blocks.slice(i, i + BLOCK_LIMIT);
    messages.push({ text: fallbackText(reply, i === 0), blocks: part });
  }
  return messages;
}

/** The notification text and the screen-reader fallback for a message. */
function fallbackText(reply: Reply, first: boolean): string {
  const head = reply.text.split('\n')[0] ?? '';
  return `${first ? '' : '(continued) '}${head}`.slice(0, 300);
}

function chunk(text: string, size: number): string[] {
  const parts: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    const pieces = line.length > size ? (line.match(new RegExp(`.{1,${size}}`, 'g')) ?? []) : [line];
    for (const piece of pieces) {
      if (current.length + piece.length + 1 > size) {
        parts.push(current);
        current = piece;
      } else current = current ? `${current}\n${piece}` : piece;
    }
  }
  if (current || parts.length === 0) parts.push(current || ' ');
  return parts;
}
