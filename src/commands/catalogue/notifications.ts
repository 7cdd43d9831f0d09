import type { FailedDelivery } from '../../service/notifications.js';
import { defineCommand } from '../command.js';
import { bool, numberOrAll } from '../options.js';

/** Notifications parked after their retries: listed, and put back in the delivery queue. */

const parkedLine = (r: FailedDelivery) =>
  `${String(r.id).padStart(6)}  ${r.createdAt}  ${r.kind.padEnd(16)} ${r.target}  after ${r.attempts} attempt(s): ${r.lastError ?? ''}`;

export const notificationsFailed = defineCommand({
  name: 'notifications failed',
  usage: 'notifications failed',
  summary: 'Notifications that could not be delivered after their retries (operator only).',
  operatorOnly: {
    to: 'operator',
    refusal: 'Failed notifications are listed for operators on the bot’s command line.',
  },
  options: {},
  positionals: [0, 0],
  parse: () => ({ name: 'notifications failed' }),
  run: (l, ctx) => l.failedNotifications(ctx),
  render(rows) {
    if (rows.length === 0) return { text: 'No failed notifications.', data: rows };
    return {
      text: [
        `${rows.length} notification(s) could not be delivered:`,
        ...rows.map(parkedLine),
        'Send one again with "notifications retry NUMBER" (the first column), or all with "notifications retry --all".',
      ].join('\n'),
      data: rows,
    };
  },
});

export const notificationsRetry = defineCommand({
  name: 'notifications retry',
  usage: 'notifications retry ID|--all',
  summary:
    'Put a parked notification (its number in "notifications failed"), or all of them, back in the delivery queue (operator only).',
  operatorOnly: {
    to: 'operator',
    refusal: 'Failed notifications are retried for operators on the bot’s command line.',
  },
  options: { all: bool },
  positionals: [0, 1],
  parse: (args) => ({
    name: 'notifications retry',
    ...numberOrAll(args, 'notification', 'notifications failed', 'notifications retry 42'),
  }),
  run: (l, ctx, c) => l.retryNotifications(ctx, c),
  render(r, { id }) {
    if (r.requeued.length === 0) return { text: 'No failed notifications to retry.', data: r };
    const shown = r.requeued.slice(0, 50);
    const text = [
      id === undefined
        ? `Requeued ${r.requeued.length} parked notification(s); the delivery worker sends them again within seconds:`
        : `Requeued notification ${id}; the delivery worker sends it again within seconds:`,
      ...shown.map(parkedLine),
      ...(r.requeued.length > shown.length ? ['  (list shortened; --json has them all)'] : []),
    ].join('\n');
    return { text, data: r };
  },
});
