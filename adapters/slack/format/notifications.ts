import type { types } from '@slack/bolt';
import {
  accountNotMadeText,
  accountReadyText,
  CHANNEL_KINDS,
  type DigestAction,
  digestPage,
  digestPages,
  directoryDriftText,
  directoryParkedText,
  disableRequestText,
  GP_LOCUM_CLAIM_BUTTON,
  gpLocumClaimText,
  hrImportText,
  isDigest,
  leaverRequestText,
  parkedText,
} from '../../../src/commands/channel-messages.js';
import { PARKED_KIND, unhandledKind } from '../../../src/domain/notifications.js';
import { clip } from '../../../src/domain/quote.js';
import type { OutgoingNotification, QueuedNotification } from '../../../src/service/ports.js';
import { SLACK_LIMITS, truncateMrkdwn } from './limits.js';
import { escapeMrkdwn } from './reply.js';

/**
 * Buttons on transfer requests (and the joiner button of a GP-locum claim): the click runs
 * `leaver` / `joiner` as whoever clicked.
 */
export const ACTION_MARK_LEAVER = 'transfer_mark_leaver';
export const ACTION_ACCEPT_JOINER = 'transfer_accept_joiner';
/** "Disable" on a manager's disable request: runs `disable ADDRESS --reason … [--until …]`. */
export const ACTION_DISABLE = 'disable_request_disable';

/** What a "Disable" button carries: the request as the manager made it. */
export interface DisableButtonValue {
  address: string;
  reason: string;
  until: string | null;
}

export interface TransferButtonValue {
  address: string;
  from: string;
  to: string;
}

export const ACTION_REMIND = 'digest_remind';

export interface RemindButtonValue {
  address: string;
}

export const SLACK_NOTIFICATION_KINDS = CHANNEL_KINDS;

/** Digest lines per Slack message: one section each, under Slack's 50 blocks with header and footer. */
const DIGEST_ITEMS_PER_MESSAGE = 45;

/** How many messages a notification takes in Slack. */
export function slackParts(n: QueuedNotification): number {
  return isDigest(n) ? digestPages(n, DIGEST_ITEMS_PER_MESSAGE) : 1;
}

function lineButton(action: DigestAction): types.Button {
  return action.command === 'joiner'
    ? button(
        action.label,
        ACTION_ACCEPT_JOINER,
        JSON.stringify({
          address: action.address,
          from: action.org,
          to: action.org,
        } satisfies TransferButtonValue),
        'primary',
      )
    : button(
        action.label,
        ACTION_REMIND,
        JSON.stringify({ address: action.address } satisfies RemindButtonValue),
      );
}

/**
 * A channel digest: accounts whose grace or activity window ends soon (each with its days left,
 * and "Accept as joiner" or "Remind"), or accounts still waiting for a first login. Long
 * digests continue in further messages.
 */
function digestMessage(n: OutgoingNotification<'digest' | 'pending-digest'>): {
  text: string;
  blocks: types.KnownBlock[];
} {
  const page = digestPage(n, DIGEST_ITEMS_PER_MESSAGE);
  const blocks: types.KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(page.head, SLACK_LIMITS.header) } },
  ];
  for (const line of page.lines) {
    const text = `*${escapeMrkdwn(line.address)}* — ${line.when}: ${line.what}`;
    blocks.push(
      line.action
        ? {
            type: 'section',
            text: { type: 'mrkdwn', text: truncateMrkdwn(text, SLACK_LIMITS.text) },
            accessory: lineButton(line.action),
          }
        : section(text),
    );
  }
  if (page.footer) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(page.footer) }] });
  }
  return { text: page.head, blocks };
}

/** A channel message for a queued notification, with its buttons. */
export function notificationMessage(n: OutgoingNotification): { text: string; blocks: types.KnownBlock[] } {
  switch (n.kind) {
    case 'digest':
    case 'pending-digest':
      return digestMessage(n);
    case PARKED_KIND: {
      const text = parkedText(n.payload);
      return { text, blocks: [section(`:warning: ${escapeMrkdwn(text)}`)] };
    }
    case 'hr-import': {
      const text = hrImportText(n.payload);
      return { text, blocks: [section(escapeMrkdwn(text))] };
    }
    case 'directory-parked': {
      const text = directoryParkedText(n.payload);
      return { text, blocks: [section(`:warning: ${escapeMrkdwn(text)}`)] };
    }
    case 'directory-drift': {
      const text = directoryDriftText(n.payload);
      return { text, blocks: [section(`:mag: ${escapeMrkdwn(text)}`)] };
    }
    case 'account-ready': {
      const text = accountReadyText(n.payload);
      return { text, blocks: [section(`:white_check_mark: ${escapeMrkdwn(text)}`)] };
    }
    case 'account-not-made': {
      const text = accountNotMadeText(n.payload);
      return { text, blocks: [section(`:warning: ${escapeMrkdwn(text)}`)] };
    }
    case 'leaver-request': {
      const text = leaverRequestText(n.payload);
      const { address, org } = n.payload;
      return {
        text,
        blocks: [
          section(escapeMrkdwn(text)),
          {
            type: 'actions',
            block_id: `leaver_request_${n.id}`,
            elements: [
              button(
                'Mark as leaver',
                ACTION_MARK_LEAVER,
                JSON.stringify({ address, from: org, to: org } satisfies TransferButtonValue),
                'danger',
              ),
            ],
          },
        ],
      };
    }
    case 'disable-request': {
      const text = disableRequestText(n.payload);
      const { address, reason, until } = n.payload;
      return {
        text,
        blocks: [
          section(escapeMrkdwn(text)),
          {
            type: 'actions',
            block_id: `disable_request_${n.id}`,
            elements: [
              button(
                'Disable',
                ACTION_DISABLE,
                JSON.stringify({ address, reason, until } satisfies DisableButtonValue),
                'danger',
              ),
            ],
          },
        ],
      };
    }
    case 'transfer-leaver':
    case 'transfer-joiner':
      return transferMessage(n);
    case 'gp-locum-claim': {
      const p = n.payload;
      const { head, body } = gpLocumClaimText(p);
      const value = JSON.stringify({
        address: p.address,
        from: p.from,
        to: p.to,
      } satisfies TransferButtonValue);
      return {
        text: head,
        blocks: [
          section(`*${escapeMrkdwn(head)}*\n${escapeMrkdwn(body)}`),
          {
            type: 'actions',
            block_id: `gp_locum_claim_${n.id}`,
            elements: [button(GP_LOCUM_CLAIM_BUTTON, ACTION_ACCEPT_JOINER, value, 'primary')],
          },
        ],
      };
    }
    // The holders' kinds go by direct message (holderText); the notifier's `kinds` never route them here.
    case 'leaver':
    case 'joiner':
    case 'status-change':
    case 'warning':
    case 'reminder':
      throw new Error(`a ${n.kind} notification is for its holder, not a channel`);
    default:
      return unhandledKind(n);
  }
}

/** A transfer request, to the organisation the account leaves or the one it joins, with its button. */
function transferMessage(n: OutgoingNotification<'transfer-leaver' | 'transfer-joiner'>): {
  text: string;
  blocks: types.KnownBlock[];
} {
  const p = n.payload;
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

const DONE = ':white_check_mark: ';

const isDoneNote = (b: types.KnownBlock) =>
  b.type === 'context' && b.elements[0]?.type === 'mrkdwn' && b.elements[0].text.startsWith(DONE);

/**
 * The message after someone acted: the request kept, the button replaced by who did what (mrkdwn).
 * A digest's lines each have a button, so one message can be acted on many times: each act adds a
 * note, and once the message is at Slack's 50 blocks the oldest notes make room for the newest.
 */
export function actedMessage(original: types.KnownBlock[], doneMrkdwn: string): types.KnownBlock[] {
  const kept = original.filter((b) => b.type !== 'actions');
  while (kept.length >= SLACK_LIMITS.messageBlocks) {
    const oldest = kept.findIndex(isDoneNote);
    kept.splice(oldest === -1 ? kept.length - 1 : oldest, 1);
  }
  return [
    ...kept,
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: truncateMrkdwn(`${DONE}${doneMrkdwn}`, SLACK_LIMITS.text) }],
    },
  ];
}

/** A section of escaped mrkdwn, cut to Slack's 3,000 characters if it is longer. */
const section = (text: string): types.KnownBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: truncateMrkdwn(text, SLACK_LIMITS.text) },
});

function button(text: string, actionId: string, value: string, style?: 'primary' | 'danger'): types.Button {
  return {
    type: 'button',
    text: { type: 'plain_text', text: clip(text, SLACK_LIMITS.buttonText) },
    action_id: actionId,
    value,
    ...(style ? { style } : {}),
  };
}
