import { parseOds } from '../../domain/validation.js';
import type { ProvisionResult } from '../../service/accounts.js';
import type { ProvisionedDelivery } from '../../service/provisioning.js';
import { defineCommand } from '../command.js';
import { person, personOptions, required, str } from '../options.js';
import type { Rendered } from '../render.js';

export const provision = defineCommand({
  name: 'provision',
  usage:
    'provision --given G --family F --org ODS [--mobile M] [--dob YYYY-MM-DD] [--reg BODY:NUMBER] [--delivery sms|envelope] [--override-duplicate REASON]',
  summary: 'Create a new starter’s account (duplicate check first; password by SMS or Day 1 envelope).',
  options: { ...personOptions, org: str },
  positionals: [0, 0],
  parse({ values, now, usage }) {
    return {
      name: 'provision',
      org: parseOds(required(values, 'org', usage)),
      person: person(values, now, usage),
    };
  },
  run: (l, ctx, c) => l.provision(ctx, { ...c.person, org: c.org }),
  render: (r) => provisioned(r),
});

/**
 * How a new account's temporary password travels: sent now, or (with a directory) once the
 * directory has the user, when whoever asked is told.
 */
export function credentialLine(delivery: ProvisionedDelivery): string {
  if (delivery.state === 'waiting') {
    const how = delivery.route === 'sms' ? `by SMS to ${delivery.recipient}` : 'in a Day 1 envelope letter';
    return `The temporary password goes ${how} once the directory has the account; you will be told here when it has gone`;
  }
  return delivery.route === 'sms'
    ? `The temporary password was sent by SMS to ${delivery.recipient}`
    : `The temporary password is in a Day 1 envelope letter (${delivery.recipient})`;
}

/** A new account and how its temporary password travels (`provision`, `site request-account`). */
export function provisioned(
  r: Omit<ProvisionResult, 'duplicateOverride'> & Partial<ProvisionResult>,
): Rendered {
  const waiting = r.delivery.state === 'waiting';
  const lines = [
    waiting
      ? `Created ${r.account.address} (pending) in ${r.account.orgName} (${r.account.org}); it is being made in the directory.`
      : `Created ${r.account.address} (pending) in ${r.account.orgName} (${r.account.org}).`,
    `${credentialLine(r.delivery)}.`,
    'At first login they must change the password and register Microsoft Authenticator; then record it with first-login.',
  ];
  if (r.duplicateOverride) {
    lines.push(
      `Duplicate check overridden (${r.duplicateOverride.matches.join(', ')}): ${r.duplicateOverride.reason}`,
    );
  }
  return {
    text: lines.join('\n'),
    data: { ...r.account, delivery: r.delivery, duplicateOverride: r.duplicateOverride ?? null },
  };
}
