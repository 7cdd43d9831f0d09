import type { ExpiryReason } from '../domain/clocks.js';
import { daysLeft, londonDate } from '../domain/time.js';
import type { DirectoryState } from '../service/directory-effects.js';
import type { FirstLoginWatch } from '../service/directory-first-logins.js';
import type { AccountView } from '../service/store.js';

/** Text and JSON for each command's result; chat adapters may build richer layouts from `data`. */
export interface Rendered {
  text: string;
  data: unknown;
  /** The result itself went to the caller's `output` stream (a CSV export): print nothing more. */
  streamed?: boolean;
}

/** The day of an ISO timestamp. */
export const day = (iso: string) => iso.slice(0, 10);

/** How long until `iso`, in days, or overdue. */
export function left(now: Date, iso: string): string {
  const n = daysLeft(now, new Date(iso));
  if (n <= 0) return 'overdue';
  return n === 1 ? '1 day left' : `${n} days left`;
}

/** What happens when each clock `expiring` lists runs out, in words. */
export const ENDING: Readonly<Record<ExpiryReason, string>> = {
  grace: 'grace period ends',
  inactivity: 'inactive unless used',
  pending: 'inactive unless first login is completed',
  disabled: 'disabled: deleted unless enabled',
  'disabled-until': 'disabled: due back (enable it, or extend with --until)',
  retention: 'deleted unless reactivated',
};

/** The clock that matters for the account's status, in words. */
export function clockLine(a: AccountView, now: Date): string | null {
  if (a.status === 'leaver' && a.graceExpiresAt) {
    return `Grace period ends ${day(a.graceExpiresAt)} (${left(now, a.graceExpiresAt)}): a new organisation can accept them as a joiner until then.`;
  }
  if (a.status === 'active' && a.activityExpiresAt) {
    return `Activity window ends ${day(a.activityExpiresAt)} (${left(now, a.activityExpiresAt)}) unless they log in or send an email.`;
  }
  if (a.status === 'inactive' && a.deleteAfter) {
    return `Deleted on ${day(a.deleteAfter)} (${left(now, a.deleteAfter)}) unless reactivated.`;
  }
  if (a.status === 'deleted') {
    return a.restoreUntil
      ? `NAS can restore it until ${day(a.restoreUntil)} (${left(now, a.restoreUntil)}).`
      : 'Purged: it cannot be restored; the address stays reserved.';
  }
  if (a.status === 'disabled' && a.deleteAfter) {
    const back = a.disabledUntil ? ` Due back ${day(a.disabledUntil)} (${left(now, a.disabledUntil)}).` : '';
    return `Disabled since ${day(a.disabledAt ?? a.deleteAfter)}: ${a.disabledReason ?? 'no reason recorded'}. Kept until ${day(a.deleteAfter)} (${left(now, a.deleteAfter)}), then deleted unless enabled ("enable ${a.address}").${back}`;
  }
  if (a.status === 'pending') {
    const lapse = a.pendingExpiresAt
      ? ` Becomes inactive on ${day(a.pendingExpiresAt)} (${left(now, a.pendingExpiresAt)}) unless it is completed.`
      : '';
    return `Waiting for first login (password change and MFA registration).${lapse}`;
  }
  return null;
}

/** Where the account stands with the directory, in one line, with what to do about a parked change. */
export function directorySummary(d: DirectoryState): string {
  switch (d.state) {
    case 'ledger':
      return 'none connected. The bot records decisions only, so each change must be made in the directory by hand.';
    case 'in-step':
      return 'in step: every change has been applied.';
    case 'waiting':
      return `waiting: ${d.pending} change(s) not yet applied, the oldest since ${d.since}${d.lastError ? ` (last attempt: ${d.lastError})` : ''}.`;
    case 'failed':
    case 'conflict': {
      const change = `change ${d.effect.id} (${d.effect.kind})`;
      const held = `Later changes to this account wait until it is applied (${d.heldBack} waiting)`;
      const error = d.lastError ?? 'no error was recorded';
      return d.state === 'failed'
        ? `failed: ${change} could not be applied: ${error}. ${held}; an operator can retry it with "directory retry ${d.effect.id}".`
        : `conflict: ${change} was not applied: the address is held in the directory by an account the bot did not make (${error}). ${held}; ${
            d.effect.kind === 'create-user'
              ? `if that account is this very person, an operator or NAS can adopt it with "directory retry ${d.effect.id} --adopt"; otherwise `
              : ''
          }NAS must resolve it in the directory.`;
    }
  }
}

/** How a pending account's first login will be recorded: seen in the directory, or by hand, and why. */
export function firstLoginSummary(w: FirstLoginWatch, address: string): string {
  const byHand = `until then an administrator records it with "first-login ${address} --mfa" once the person has signed in and registered MFA.`;
  switch (w.state) {
    case 'watching':
      return `watched in the directory (last looked ${w.checkedAt}): it becomes active on its own once the person has signed in and, where the sector needs it, registered MFA.`;
    case 'mfa-unreadable':
      return `the directory's sign-ins are read (last looked ${w.checkedAt}), but not MFA registration: ${w.reason} Accounts that need MFA stay pending; ${byHand}`;
    case 'unreadable':
      return `the directory could not be read at ${w.checkedAt}: ${w.reason} ${byHand.replace(/^until then/, 'Meanwhile')}`;
  }
}

/**
 * With a directory connected, what a home organisation without a directory group means for the
 * account; null otherwise. The worker reads the group when it applies a change, so one set later
 * counts for changes still queued, but a user already made is not added to it.
 */
export function directoryGroupNote(d: DirectoryState, ods: string): string | null {
  if (d.state === 'ledger' || d.group !== null) return null;
  return `${ods} has no directory group, so this account is in no group in the directory. NAS or an operator sets one with "org group --ods ${ods} --group OBJECT_ID"; users the directory already holds are not added to it then.`;
}

export function accountText(a: AccountView, now: Date): string {
  const lines = [
    `${a.address}: ${a.status}${a.kind === 'shared' ? ' (shared mailbox)' : ''}, ${a.orgName} (${a.org})`,
  ];
  if (a.name) lines.push(`Name: ${a.name}`);
  const clock = clockLine(a, now);
  if (clock) lines.push(clock);
  if (a.leavesAt) {
    lines.push(
      `Leaving on ${londonDate(new Date(a.leavesAt))} (HR feed): marked as a leaver that day, and the grace period starts then.`,
    );
  }
  return lines.join('\n');
}

export function account(a: AccountView, now: Date, headline: string): Rendered {
  return { text: `${headline}.\n${accountText(a, now)}`, data: a };
}
