import { parseAddress, parseDate, parseInstant, parseReason } from '../../domain/validation.js';
import { defineCommand } from '../command.js';
import { at, bool, optional, required, str } from '../options.js';
import { account } from '../render.js';

/** Commands that record one change to an account and show it with its clock. */

export const firstLogin = defineCommand({
  name: 'first-login',
  usage: 'first-login ADDRESS [--mfa]',
  summary: 'Record a first login (password changed; --mfa: Authenticator registered) → active.',
  options: { mfa: bool },
  positionals: [1, 1],
  parse: ({ values, positionals }) => ({
    name: 'first-login',
    address: parseAddress(at(positionals, 0)),
    mfa: values.mfa === true,
  }),
  run: (l, ctx, c) => l.firstLogin(ctx, c),
  render: (a, _c, ctx) => account(a, ctx.now, 'First login recorded'),
});

export const activity = defineCommand({
  name: 'activity',
  usage: 'activity ADDRESS [--at ISO-8601]',
  summary: 'Record a sign-in or a sent email: restarts the 30-day activity clock.',
  options: { at: str },
  positionals: [1, 1],
  parse: ({ values, positionals }) => {
    const when = optional(values, 'at');
    return {
      name: 'activity',
      address: parseAddress(at(positionals, 0)),
      at: when === undefined ? undefined : parseInstant(when, 'activity time'),
    };
  },
  run: (l, ctx, c) => l.recordActivity(ctx, c),
  render: (a, _c, ctx) => account(a, ctx.now, 'Activity recorded'),
});

export const reactivate = defineCommand({
  name: 'reactivate',
  usage: 'reactivate ADDRESS',
  summary: 'Bring back an inactive account (or, NAS only, a deleted one within the restore window).',
  options: {},
  positionals: [1, 1],
  parse: ({ positionals }) => ({ name: 'reactivate', address: parseAddress(at(positionals, 0)) }),
  run: (l, ctx, c) => l.reactivate(ctx, c),
  render: (a, _c, ctx) => account(a, ctx.now, 'Reactivated'),
});

export const disable = defineCommand({
  name: 'disable',
  usage: 'disable ADDRESS --reason TEXT [--until YYYY-MM-DD]',
  summary:
    'Disable an account for a long absence (maternity leave, long sickness): out of the activity rule, kept 18 months. A manager asks a local administrator.',
  options: { reason: str, until: str },
  positionals: [1, 1],
  parse: ({ values, positionals, usage }) => {
    const until = optional(values, 'until');
    return {
      name: 'disable',
      address: parseAddress(at(positionals, 0)),
      reason: parseReason(required(values, 'reason', usage)),
      until: until === undefined ? null : new Date(`${parseDate(until, 'return date')}T00:00:00Z`),
    };
  },
  run: (l, ctx, c) => l.disable(ctx, c),
  render: (r, _c, ctx) =>
    r.outcome === 'requested'
      ? {
          text: `Asked ${r.sentTo} to disable ${r.account.address}; it stays ${r.account.status} until one of them does.`,
          data: { ...r.account, requested: { sentTo: r.sentTo } },
        }
      : account(r.account, ctx.now, r.updated ? 'Absence updated' : 'Disabled'),
});

export const enable = defineCommand({
  name: 'enable',
  usage: 'enable ADDRESS',
  summary: 'Enable a disabled account when its holder is back: active again, activity clock restarted.',
  options: {},
  positionals: [1, 1],
  parse: ({ positionals }) => ({ name: 'enable', address: parseAddress(at(positionals, 0)) }),
  run: (l, ctx, c) => l.enable(ctx, c),
  render: (a, _c, ctx) => account(a, ctx.now, 'Enabled'),
});
