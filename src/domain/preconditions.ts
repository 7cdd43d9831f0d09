import { type DomainError, refused } from './errors.js';
import type { Organisation } from './organisation.js';
import type { Status } from './status.js';
import { type AccountFacts, mayLeave, RECORDS_ACTIVITY, TRANSITIONS } from './transitions.js';

/**
 * Changes to an account that are not transitions (a sign-in, a transfer request, a leaving date
 * to come) still depend on its status. Their refusals live here, beside the table they read.
 */
/**
 * Why a sign-in cannot be recorded on this account, or null when it can: activity keeps active
 * accounts (and leavers still using theirs) alive, but never brings one back.
 */
export function refuseActivity(account: AccountFacts): DomainError | null {
  if (RECORDS_ACTIVITY.includes(account.status)) return null;
  if (account.status === 'pending') {
    return refused(
      'FIRST_LOGIN_NEEDED',
      `${account.address} is pending: its first login (password change and MFA) has not been recorded. Use "first-login ${account.address} --mfa".`,
    );
  }
  const back =
    account.status === 'disabled'
      ? `Enable it with "enable ${account.address}"`
      : account.status === 'inactive'
        ? `Reactivate it with "reactivate ${account.address}"`
        : 'A NAS administrator can restore it with "reactivate"';
  return refused(
    'NOT_ACTIVE',
    `${account.address} is ${account.status}; activity does not bring it back. ${back} if the person still needs it.`,
  );
}

/** Why a transfer to `target` cannot be asked for, or null: only a pending or active account moves. */
export function refuseTransferRequest(account: AccountFacts, target: Organisation): DomainError | null {
  if (account.status === TRANSITIONS.leaver.to) {
    return refused(
      'ALREADY_LEAVER',
      `${account.address} is already a leaver, so no transfer request is needed: ${target.ods}'s IT team can accept it now with "joiner ${account.address} --org ${target.ods}" before the grace period ends.`,
    );
  }
  return mayLeave(account)
    ? null
    : refused(
        'NOT_ACTIVE',
        `${account.address} is ${account.status}, so it cannot be transferred. It must be reactivated first ("contact" shows who can).`,
      );
}

/** Why an HR leaving date cannot be set, or null: only pending and active accounts leave. */
export const refuseLeavingDate = (account: AccountFacts): DomainError | null =>
  mayLeave(account)
    ? null
    : refused(
        'NOT_ACTIVE',
        `${account.address} is ${account.status}, so no leaving date can be set (only pending, active and disabled accounts leave). Nothing was changed.`,
      );

/** True when the account is already a leaver (an HR leaver import has nothing to do). */
export const isLeaver = (account: AccountFacts): boolean => account.status === TRANSITIONS.leaver.to;

/** The status of accounts whose holder has still to sign in for the first time. */
export const AWAITING_FIRST_LOGIN = TRANSITIONS['first-login'].from[0];

/** True when the holder has still to complete first login. */
export const awaitsFirstLogin = (account: { status: Status }): boolean =>
  account.status === AWAITING_FIRST_LOGIN;

/** Why a reminder cannot help this account's holder, or null when it can (a clock is running). */
export function refuseReminder(account: AccountFacts): DomainError | null {
  if (account.kind !== 'person') {
    return refused(
      'NOTHING_TO_REMIND',
      `${account.address} is a shared mailbox: it has no single holder to remind, and the inactivity rule does not apply to it.`,
    );
  }
  if (awaitsFirstLogin(account) || RECORDS_ACTIVITY.includes(account.status)) return null;
  return refused(
    'NOTHING_TO_REMIND',
    account.status === TRANSITIONS.disable.to
      ? `${account.address} is disabled (a long absence): the holder cannot sign in until it is enabled ("enable ${account.address}"), so a reminder cannot help.`
      : account.status === TRANSITIONS['grace-ended'].to
        ? `${account.address} is already inactive: a reminder cannot keep it. A local administrator can bring it back with "reactivate ${account.address}".`
        : `${account.address} is deleted: a reminder cannot keep it. NAS administrators can restore it within the restore window with "reactivate ${account.address}".`,
  );
}
