import type { types } from '@slack/bolt';
import type { OutgoingNotification } from '../../../src/jobs/delivery.js';
import { escapeMrkdwn } from './reply.js';

/** Buttons on transfer requests: the click runs `leaver` / `joiner` as whoever clicked. */
export const ACTION_MARK_LEAVER = 'transfer_mark_leaver';
export const ACTION_ACCEPT_JOINER = 'transfer_accept_joiner';

export interface TransferButtonValue {
  address: string;
  from: string;
  to: string;
}

interface TransferPayload extends TransferButtonValue {
  requestedBy: string;
  graceDays: number;
}

export const SLACK_NOTIFICATION_KINDS = ['transfer-leaver', 'transfer-joiner', 'digest'] as const;

/** Digest lines per Slack message: one section each, under Slack's 50 blocks with the header. */
const DIGEST_ITEMS_PER_MESSAGE = 45;

interface DigestItem {
  address: string;
  clock: 'grace' | 'inactivity';
  daysLeft: number;
  dueAt: string;
  thresholdDays: number;
}

interface DigestPayload {
  org: string;
  at: string;
  items: DigestItem[];
}

/** How many messages a notification takes in Slack. */
export function slackParts(n: Pick<OutgoingNotification, 'kind' | 'payload'>): number {
  if (n.kind !== 'digest') return 1;
  return Math.max(
    1,
    Math.ceil((n.payload as unknown as DigestPayload).items.length / DIGEST_ITEMS_PER_MESSAGE),
  );
}

/**
 * The daily digest for an organisation's channel: accounts whose grace or activity window ends
 * soon, soonest first, each with its days left; leavers carry "Accept as joiner" (the
 * organisation can still take them back). Long digests continue in further messages.
 */
function digestMessage(n: OutgoingNotification): { text: string; blocks: types.KnownBlock[] } {
  const p = n.payload as unknown as DigestPayload;
  const parts = slackParts(n);
  const items = p.items.slice(n.part * DIGEST_ITEMS_PER_MESSAGE, (n.part + 1) * DIGEST_ITEMS_PER_MESSAGE);
  const head = `${p.items.length} account${p.items.length === 1 ? '' : 's'} in ${p.org} lose${p.items.length === 1 ? 's' : ''} access soon${parts > 1 ? ` (part ${n.part + 1} of ${parts})` : ''}`;
  const blocks: types.KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: head.slice(0, 150) } },
  ];
  for (const item of items) {
    const what =
      item.clock === 'grace'
        ? 'leaver: grace period ends, then the account becomes inactive'
        : 'no login or sent email: becomes inactive unless used';
    const line = `*${escapeMrkdwn(item.address)}* — ${item.daysLeft} day${item.daysLeft === 1 ? '' : 's'} left (${item.dueAt.slice(0, 10)}): ${what}`;
    blocks.push(
      item.clock === 'grace'
        ? {
            type: 'section',
            text: { type: 'mrkdwn', text: line },
            accessory: button(
              'Accept as joiner',
              ACTION_ACCEPT_JOINER,
              JSON.stringify({ address: item.address, from: p.org, to: p.org } satisfies TransferButtonValue),
              'primary',
            ),
          }
        : section(line),
    );
  }
  return { text: head, blocks };
}

/** A channel message for a queued notification, with its buttons. */
export function notificationMessage(n: OutgoingNotification): { text: string; blocks: types.KnownBlock[] } {
  if (n.kind === 'digest') return digestMessage(n);
  const p = n.payload as unknown as TransferPayload;
  const value = JSON.stringify({ address: p.address, from: p.from, to: p.to } satisfies TransferButtonValue);
  const who = escapeMrkdwn(p.address);
  if (n.kind === 'transfer-leaver') {
    const text = `Transfer request: ${p.address} is moving from ${p.from} to ${p.to}. A local administrator of ${p.from}, please mark them as a leaver.`;
    return {
      text,
      blocks: [
        section(
          `*Transfer request* — *${who}* is moving from *${p.from}* to *${p.to}* (asked by ${escapeMrkdwn(p.requestedBy)}).\nA local administrator of ${p.from}: mark them as a leaver. Their ${p.graceDays}-day grace period then starts, and ${p.to} can accept them.`,
        ),
        {
          type: 'actions',
          block_id: `transfer_${n.id}`,
          elements: [button('Mark as leaver', ACTION_MARK_LEAVER, value, 'danger')],
        },
      ],
    };
  }
  const text = `Transfer request: ${p.address} is moving from ${p.from} to ${p.to}. A local administrator of ${p.to}, please accept them as a joiner.`;
  return {
    text,
    blocks: [
      section(
        `*Transfer request* — *${who}* is joining *${p.to}* from *${p.from}* (asked by ${escapeMrkdwn(p.requestedBy)}).\nA local administrator of ${p.to}: accept them as a joiner. Same address, same mailbox; the move completes once ${p.from} has marked them as a leaver.`,
      ),
      {
        type: 'actions',
        block_id: `transfer_${n.id}`,
        elements: [button('Accept as joiner', ACTION_ACCEPT_JOINER, value, 'primary')],
      },
    ],
  };
}

/** The message after someone acted: the request kept, the button replaced by who did what (mrkdwn). */
export function actedMessage(original: types.KnownBlock[], doneMrkdwn: string): types.KnownBlock[] {
  return [
    ...original.filter((b) => b.type !== 'actions'),
    { type: 'context', elements: [{ type: 'mrkdwn', text: `:white_check_mark: ${doneMrkdwn}` }] },
  ];
}

const section = (text: string): types.KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });

function button(text: string, actionId: string, value: string, style: 'primary' | 'danger'): types.Button {
  return { type: 'button', text: { type: 'plain_text', text }, action_id: actionId, value, style };
}
