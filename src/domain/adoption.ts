import { isDomainError } from './errors.js';
import type { Status } from './status.js';
import { parseAddress } from './validation.js';

/**
 * What the bot makes of a directory user it does not yet have (issue 15, `directory import`): an
 * account in the state the directory shows, or the reason it cannot take it. Pure: the import
 * reads the directory and writes what this decides.
 *
 * - Enabled in the directory: `active`, its activity clock at the last successful sign-in (the
 *   directory's own evidence of use), or at the import when the person never signed in, so the
 *   30-day rule starts from the day the bot took the account over rather than lapsing it at once.
 * - Disabled: `inactive` from the import, so the retention clock starts then. Not `disabled`: that
 *   status is the bot's record of a long-term absence a local administrator asked for, which a
 *   disabled directory account does not show.
 */

/** The facts of a directory user the decision reads. */
export interface DirectoryFacts {
  userPrincipalName: string | null;
  givenName: string | null;
  surname: string | null;
  /** Null when the directory did not say. */
  accountEnabled: boolean | null;
}

export interface AdoptedAccount {
  address: string;
  given: string | null;
  family: string | null;
  status: Extract<Status, 'active' | 'inactive'>;
  firstLoginAt: Date | null;
  lastActivityAt: Date | null;
  inactiveSince: Date | null;
}

export type AdoptionDecision =
  | { kind: 'account'; account: AdoptedAccount }
  | { kind: 'refused'; reason: string };

const tidy = (name: string | null) => {
  const value = name?.trim().replace(/\s+/g, ' ') ?? '';
  return value === '' ? null : value;
};

/** The directory user's address as the bot spells addresses, or why it is not one. */
export function directoryAddress(upn: string | null): { address: string } | { reason: string } {
  if (upn === null || upn.trim() === '') return { reason: 'has no userPrincipalName in the directory.' };
  try {
    return { address: parseAddress(upn) };
  } catch (e) {
    if (!isDomainError(e)) throw e;
    return { reason: e.message };
  }
}

export function decideAdoption(user: DirectoryFacts, lastSignIn: Date | null, now: Date): AdoptionDecision {
  const address = directoryAddress(user.userPrincipalName);
  if ('reason' in address) return { kind: 'refused', reason: address.reason };
  const given = tidy(user.givenName);
  const family = tidy(user.surname);
  if (given === null && family === null) {
    return {
      kind: 'refused',
      reason:
        'has no given name or surname in the directory, so the bot could not tell this person from another when checking for duplicates: set them in Entra, then import again.',
    };
  }
  if (user.accountEnabled === null) {
    return {
      kind: 'refused',
      reason: 'the directory did not say whether the account is enabled: import again.',
    };
  }
  const account: AdoptedAccount = user.accountEnabled
    ? {
        address: address.address,
        given,
        family,
        status: 'active',
        firstLoginAt: lastSignIn,
        lastActivityAt: lastSignIn ?? now,
        inactiveSince: null,
      }
    : {
        address: address.address,
        given,
        family,
        status: 'inactive',
        firstLoginAt: lastSignIn,
        lastActivityAt: lastSignIn,
        inactiveSince: now,
      };
  return { kind: 'account', account };
}

/** The audit row's reason for an adopted account: what the directory showed. */
export function adoptionReason(account: AdoptedAccount): string {
  if (account.status === 'inactive') return 'adopted from the directory: disabled there';
  return account.firstLoginAt
    ? `adopted from the directory: enabled, last signed in ${account.firstLoginAt.toISOString()}`
    : 'adopted from the directory: enabled, never signed in';
}
