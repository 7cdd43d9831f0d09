import { invalid } from '../../domain/errors.js';
import { quote } from '../../domain/quote.js';
import { ROLE_NAMES, type RoleName } from '../../domain/roles.js';
import { parseAddress, parseOds } from '../../domain/validation.js';
import type { RoleChange } from '../../service/organisations.js';
import { defineCommand, type ParseInput } from '../command.js';
import { at, optional, str } from '../options.js';
import type { Rendered } from '../render.js';

export const grant = defineCommand({
  name: 'grant',
  usage: 'grant ADDRESS nas-admin|local-admin|site-owner|manager [--org ODS]',
  summary: 'Give someone a role (local admins may make managers of their organisation).',
  options: { org: str },
  positionals: [2, 2],
  parse: (input) => ({ name: 'grant', ...roleArguments(input) }),
  run: (l, ctx, c) => l.grantRole(ctx, c),
  render(r) {
    const what = roleText(r);
    return r.changed
      ? rendered(r, `${r.address} is now ${what}.`)
      : rendered(r, `${r.address} was already ${what}; nothing changed.`);
  },
});

export const revoke = defineCommand({
  name: 'revoke',
  usage: 'revoke ADDRESS nas-admin|local-admin|site-owner|manager [--org ODS]',
  summary: 'Take a role away again.',
  options: { org: str },
  positionals: [2, 2],
  parse: (input) => ({ name: 'revoke', ...roleArguments(input) }),
  run: (l, ctx, c) => l.revokeRole(ctx, c),
  render(r) {
    const what = roleText(r);
    return r.changed
      ? rendered(r, `${r.address} is no longer ${what}.`)
      : rendered(r, `${r.address} was not ${what}; nothing changed.`);
  },
});

function roleArguments({ values, positionals }: ParseInput) {
  const org = optional(values, 'org');
  return {
    address: parseAddress(at(positionals, 0)),
    role: parseRole(at(positionals, 1)),
    org: org === undefined ? undefined : parseOds(org),
  };
}

function parseRole(input: string): RoleName {
  const value = input.trim().toLowerCase();
  if ((ROLE_NAMES as readonly string[]).includes(value)) return value as RoleName;
  throw invalid('INVALID_ROLE', `${quote(input)} is not a role. Use one of: ${ROLE_NAMES.join(', ')}.`);
}

const roleText = (r: RoleChange) => `${r.role}${r.org ? ` of ${r.org}` : ''}`;
const rendered = (r: RoleChange, text: string): Rendered => ({ text, data: r });
