import { invalid } from '../../domain/errors.js';
import { parseAddress, parseOds } from '../../domain/validation.js';
import { defineCommand } from '../command.js';
import { at, bool, optional, required, str } from '../options.js';
import { accountText } from '../render.js';

/** An account leaving its organisation, joining another, or asked to move. */

export const leaver = defineCommand({
  name: 'leaver',
  usage: 'leaver ADDRESS [--gp-locum]',
  summary:
    'Mark someone as a leaver: the 30-day grace period starts. --gp-locum: they leave to work as a freelance GP locum; they email the NAS GP-locum team (locumadmin@nhs.net), who join them to its organisation before grace ends.',
  options: { 'gp-locum': bool },
  positionals: [1, 1],
  parse: ({ values, positionals }) => ({
    name: 'leaver',
    address: parseAddress(at(positionals, 0)),
    gpLocum: values['gp-locum'] === true,
  }),
  run: (l, ctx, c) => l.leaver(ctx, c),
  render(r, _c, { now }) {
    if (r.outcome === 'requested') {
      return {
        text: `Your request to leave was sent to ${r.sentTo}. Your account stays ${r.account.status} until they mark you as a leaver.`,
        data: { ...r.account, outcome: r.outcome, sentTo: r.sentTo },
      };
    }
    const role = (g: { role: string; org: string | null }) => (g.org ? `${g.role} of ${g.org}` : g.role);
    const roleLines = [
      ...(r.rolesRevoked.length > 0
        ? [`Revoked, as a leaver keeps no admin rights: ${r.rolesRevoked.map(role).join(', ')}.`]
        : []),
      ...(r.rolesKept.length > 0
        ? [
            `Still held, for you to decide: ${r.rolesKept.map(role).join(', ')}. Remove any that should go with "revoke ${r.account.address} ROLE --org ODS".`,
          ]
        : []),
    ];
    const grace = r.account.graceExpiresAt?.slice(0, 10) ?? '';
    const text = [
      r.transferCompleted
        ? `Marked as a leaver, and the transfer ${r.transferCompleted.to} had accepted is now complete.`
        : r.gpLocum
          ? `Marked as a leaver for the GP-locum route. The NAS GP-locum team (${r.gpLocum.mailbox}) is asked to join them to ${r.gpLocum.org} before the grace period ends on ${grace}; the holder is told to email them.`
          : 'Marked as a leaver.',
      ...roleLines,
      accountText(r.account, now),
    ].join('\n');
    return {
      text,
      data: {
        ...r.account,
        outcome: r.outcome,
        transferCompleted: r.transferCompleted,
        rolesRevoked: r.rolesRevoked,
        rolesKept: r.rolesKept,
        gpLocum: r.gpLocum,
      },
    };
  },
});

export const joiner = defineCommand({
  name: 'joiner',
  usage: 'joiner ADDRESS --org ODS',
  summary:
    'Accept a leaver into your organisation: same address, same mailbox. An account whose first login is still due stays pending.',
  options: { org: str },
  positionals: [1, 1],
  parse({ values, positionals, usage }) {
    return {
      name: 'joiner',
      address: parseAddress(at(positionals, 0)),
      org: parseOds(required(values, 'org', usage)),
    };
  },
  run: (l, ctx, c) => l.joiner(ctx, c),
  render(r, _c, { now }) {
    if (r.outcome === 'accepted') {
      return {
        text: `Transfer accepted. ${r.account.address} moves here as soon as ${r.waitingFor} marks them as a leaver.\n${accountText(r.account, now)}`,
        data: { ...r.account, outcome: r.outcome, waitingFor: r.waitingFor },
      };
    }
    return {
      text: `Joined from ${r.from}: same address, same mailbox.\n${accountText(r.account, now)}`,
      data: { ...r.account, outcome: r.outcome, from: r.from },
    };
  },
});

export const transfer = defineCommand({
  name: 'transfer',
  usage: 'transfer [ADDRESS] --to ODS',
  summary: 'Ask for an account (your own by default) to move to another organisation.',
  options: { to: str },
  positionals: [0, 3],
  parse({ values, positionals, usage }) {
    // "transfer to RXX" and "transfer jane.doe@nhs.net to RXX" read naturally in a chat.
    const words = [...positionals];
    let to = optional(values, 'to');
    const toIndex = words.findIndex((w) => w.toLowerCase() === 'to');
    if (to === undefined && toIndex >= 0 && toIndex === words.length - 2) {
      to = words[toIndex + 1];
      words.splice(toIndex, 2);
    }
    if (words.length > 1) throw invalid('TOO_MANY_WORDS', `Too many words. Usage: ${usage}`);
    if (to === undefined) throw invalid('MISSING_OPTION', `Say where to: ${usage}`);
    return {
      name: 'transfer',
      address: words[0] === undefined ? undefined : parseAddress(words[0]),
      to: parseOds(to),
    };
  },
  run: (l, ctx, c) => l.requestTransfer(ctx, c),
  render(r) {
    const text = [
      `Transfer of ${r.account.address} from ${r.from} to ${r.to} requested.`,
      `1. ${r.leaverAskedOf} is asked to mark them as a leaver (a ${r.graceDays}-day grace period then starts).`,
      `2. ${r.to} is asked to accept them as a joiner ("joiner ${r.account.address} --org ${r.to}").`,
      'The move completes when both have happened, in either order.',
      ...(r.superseded ? [`This replaces the earlier request to ${r.superseded}.`] : []),
    ].join('\n');
    return {
      text,
      data: { ...r.account, transfer: { from: r.from, to: r.to, leaverAskedOf: r.leaverAskedOf } },
    };
  },
});
