import type { types } from '@slack/bolt';
import type { Reply } from '../../../src/commands/execute.js';
import { SLACK_LIMITS, splitMrkdwn } from './limits.js';

type KnownBlock = types.KnownBlock;

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
  const sections = splitMrkdwn(escapeMrkdwn(reply.text), SLACK_LIMITS.text).map(
    (part): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: part } }),
  );
  const blocks: KnownBlock[] = lead
    ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: lead }] }, ...sections]
    : sections;
  const messages: Array<{ text: string; blocks: KnownBlock[] }> = [];
  for (let i = 0; i < blocks.length; i += SLACK_LIMITS.messageBlocks) {
    const part = blocks.slice(i, i + SLACK_LIMITS.messageBlocks);
    messages.push({ text: fallbackText(reply, i === 0), blocks: part });
  }
  return messages;
}

/** The notification text and the screen-reader fallback for a message. */
function fallbackText(reply: Reply, first: boolean): string {
  const head = reply.text.split('\n')[0] ?? '';
  return `${first ? '' : '(continued) '}${head}`.slice(0, 300);
}
