import { parseAddress, parseOds, parseWholeNumber } from '../../domain/validation.js';
import { defineCommand } from '../command.js';
import { optional, str } from '../options.js';
import {
  accountText,
  day,
  directoryGroupNote,
  directorySummary,
  ENDING,
  firstLoginSummary,
  left,
} from '../render.js';

/** What an account is, what ends soon, and what happened to it. */

export const status = defineCommand({
  name: 'status',
  usage: 'status [ADDRESS]',
  summary: 'An account’s status, organisation and clocks (your own by default).',
  options: {},
  positionals: [0, 1],
  parse: ({ positionals }) => ({
    name: 'status',
    address: positionals[0] === undefined ? undefined : parseAddress(positionals[0]),
  }),
  run: (l, ctx, c) => l.status(ctx, c),
  render(r, _c, { now }) {
    const lines = [accountText(r.account, now)];
    if (r.transfer) {
      lines.push(
        `Transfer to ${r.transfer.to} requested ${day(r.transfer.requestedAt)}: leaver ${r.transfer.leaverDone ? 'marked' : 'not yet marked'}, ${r.transfer.to} ${r.transfer.accepted ? 'has accepted' : 'has not yet accepted'}.`,
      );
    }
    lines.push(`Directory: ${directorySummary(r.directory)}`);
    const noGroup = directoryGroupNote(r.directory, r.account.org);
    if (noGroup) lines.push(noGroup);
    if (r.firstLogin) lines.push(`First login: ${firstLoginSummary(r.firstLogin, r.account.address)}`);
    return {
      text: lines.join('\n'),
      data: { ...r.account, transfer: r.transfer, directory: r.directory, firstLogin: r.firstLogin },
    };
  },
});

export const expiring = defineCommand({
  name: 'expiring',
  usage: 'expiring [--org ODS] [--within DAYS]',
  summary: 'Grace periods, activity windows and retention that end soon (default: 7 days).',
  options: { org: str, within: str },
  positionals: [0, 0],
  parse: ({ values }) => {
    const org = optional(values, 'org');
    const within = optional(values, 'within');
    return {
      name: 'expiring',
      org: org === undefined ? undefined : parseOds(org),
      within: within === undefined ? 7 : parseWholeNumber(within, 'days', 0, 3650),
    };
  },
  run: (l, ctx, c) => l.expiring(ctx, c),
  render(rows, { within }, { now }) {
    if (rows.length === 0) return { text: `Nothing ends in the next ${within} days.`, data: rows };
    const lines = rows.map(
      (r) =>
        `${day(r.dueAt)}  ${left(now, r.dueAt).padEnd(12)} ${r.address} (${r.org}, ${r.status}): ${ENDING[r.reason]}`,
    );
    return { text: [`${rows.length} ending within ${within} days:`, ...lines].join('\n'), data: rows };
  },
});

export const audit = defineCommand({
  name: 'audit',
  usage: 'audit [ADDRESS]',
  summary: 'Every change to an account, oldest first (your own by default).',
  options: {},
  positionals: [0, 1],
  parse: ({ positionals }) => ({
    name: 'audit',
    address: positionals[0] === undefined ? undefined : parseAddress(positionals[0]),
  }),
  run: (l, ctx, c) => l.auditTrail(ctx, c),
  render(rows, { address }) {
    if (rows.length === 0)
      return { text: `No audit entries${address ? ` for ${address}` : ''}.`, data: rows };
    const lines = rows.map((r) => {
      const change = r.from === r.to ? (r.to ?? '') : `${r.from ?? '—'} → ${r.to ?? '—'}`;
      return `${r.at}  ${r.action.padEnd(18)} ${change.padEnd(20)} by ${r.actor} (${r.platform})${r.reason ? `: ${r.reason}` : ''}`;
    });
    return { text: lines.join('\n'), data: rows };
  },
});
