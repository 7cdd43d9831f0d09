import { parseAddress, parseInstant } from '../../domain/validation.js';
import { defineCommand } from '../command.js';
import { at, bool, optional, str } from '../options.js';
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
