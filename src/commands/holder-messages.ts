import {
  type HolderKind,
  type NotificationContent,
  type ReminderPayload,
  type StatusChangePayload,
  unhandledKind,
  type WarningPayload,
} from '../domain/notifications.js';

/** Kinds sent to the account holder directly: every kind whose audience is the holder. */
const HOLDER: Record<HolderKind, true> = {
  warning: true,
  leaver: true,
  joiner: true,
  'status-change': true,
  reminder: true,
};
export const HOLDER_KINDS = Object.keys(HOLDER) as readonly HolderKind[];

const day = (iso: string | null | undefined) => (iso ?? '').slice(0, 10);

/**
 * What the holder is told, in words a member of staff understands, with exactly what to do to keep
 * the account. Platform-neutral text: Slack sends it as a DM, Teams in the personal chat.
 */
export function holderText(n: NotificationContent): string {
  switch (n.kind) {
    case 'warning':
      return warningText(n.payload);
    case 'reminder':
      return reminderText(n.payload);
    case 'leaver': {
      const p = n.payload;
      if (p.gpLocum) {
        return `${p.org} has marked you as a leaver to work as a freelance GP locum. Your NHSmail account ${p.address} stays yours until ${day(p.graceExpiresAt)}: before then, email the NAS GP-locum team at ${p.gpLocum.mailbox} and ask them to join your account to the GP-locum organisation (${p.gpLocum.org}). You keep the same address and mailbox; if they have not done it by then, the account becomes inactive.`;
      }
      return `${p.org} has marked you as a leaver. Your NHSmail account ${p.address} stays yours until ${day(p.graceExpiresAt)}: ask the IT team of your next organisation to mark you as a joiner before then, and you keep the same address and mailbox.`;
    }
    case 'joiner': {
      const p = n.payload;
      return `Your NHSmail account ${p.address} now belongs to ${p.to} (it moved from ${p.from}): same address, same mailbox.`;
    }
    case 'status-change':
      return statusChangeText(n.payload);
    // Channels' kinds: never sent to a holder (HOLDER_KINDS), named here so a new kind must be placed.
    case 'leaver-request':
    case 'disable-request':
    case 'transfer-leaver':
    case 'transfer-joiner':
    case 'gp-locum-claim':
      return `A message about your NHSmail account ${n.payload.address}.`;
    case 'hr-import':
    case 'digest':
    case 'pending-digest':
    case 'delivery-failed':
    case 'directory-parked':
    case 'directory-drift':
      return 'A message about your NHSmail account.';
    case 'account-ready':
    case 'account-not-made':
      return `A message about your NHSmail account ${n.payload.address}.`;
    default:
      return unhandledKind(n);
  }
}

const PORTAL = 'https://portal.nhs.net';

/** A change of status, with what the holder can do about it now. */
function statusChangeText(p: StatusChangePayload): string {
  const now = `Your NHSmail account ${p.address} is now ${p.to}: ${p.reason}.`;
  switch (p.to) {
    case 'disabled':
      return `${now} Nothing is lost meanwhile; when you are back, ask your local administrator to enable it (type "contact" to see who).`;
    case 'deleted':
      return `${now} If you still need it, ask your local administrator (type "contact" to see who): only NAS can restore a deleted account, and only for a short time.`;
    case 'active':
    case 'pending':
    case 'leaver':
      return now;
    case 'inactive':
      return `${now} If you still need it, ask your local administrator to reactivate it (type "contact" to see who).`;
  }
}

/** A holder's warning that one of the account's clocks runs out, with what keeps it. */
function warningText(p: WarningPayload): string {
  const address = p.address;
  const left = p.daysLeft;
  const when = `${day(p.dueAt)} (${left} day${left === 1 ? '' : 's'} from now)`;
  switch (p.clock) {
    case 'grace':
      return `Your NHSmail account ${address} is marked as a leaver, and its grace period ends on ${when}. To keep the same address and mailbox, ask the IT team of the organisation you are joining to mark you as a joiner before then. If you have not left, ask your own organisation's IT team to undo the leaver.`;
    case 'inactivity':
      return `Your NHSmail account ${address} has not been used for a while: it becomes inactive on ${when} unless you log in or send an email before then. Log in at https://portal.nhs.net or send an email from it to keep it.`;
    case 'pending':
      return `Your new NHSmail account ${address} has not been used yet: it becomes inactive on ${when} unless you complete your first login before then. Sign in at ${PORTAL} with your temporary password, choose a new one and set up multi-factor authentication (MFA) when asked. Lost the password? Ask your local administrator (type "contact" to see who).`;
    case 'disabled':
      return `Your NHSmail account ${address} is disabled for a long absence, and it is deleted on ${when} unless it is enabled before then. If you are coming back, ask your local administrator to enable it (type "contact" to see who).`;
    case 'disabled-until':
      return `Your NHSmail account ${address} is disabled while you are away, and you are due back on ${when}. When you return, ask your local administrator to enable it (type "contact" to see who); if you will be away longer, ask them to change the return date.`;
  }
}

/** A reminder: for a pending account how to sign in; otherwise what keeps the account. */
function reminderText(p: ReminderPayload): string {
  const address = p.address;
  if (p.status === 'pending') {
    const password =
      p.route === 'sms'
        ? 'the temporary password sent to your mobile by text message'
        : p.route === 'envelope'
          ? 'the temporary password in your Day 1 letter'
          : 'the temporary password you were given';
    const lapses = p.dueAt ? ` If you have not by ${day(p.dueAt)}, it becomes inactive.` : '';
    return `Your new NHSmail account ${address} is ready and waiting for you. Sign in at ${PORTAL} with ${password}, choose a new password and set up multi-factor authentication (MFA) when asked. Until you do, the account cannot be used.${lapses} Lost the password, or it has expired? Ask your local administrator (type "contact" to see who).`;
  }
  if (p.status === 'leaver') {
    return `Reminder: your NHSmail account ${address} is marked as a leaver, and its grace period ends on ${day(p.dueAt)}. To keep the same address and mailbox, ask the IT team of the organisation you are joining to mark you as a joiner before then.`;
  }
  return `Reminder: your NHSmail account ${address} becomes inactive on ${day(p.dueAt)} unless you log in or send an email before then. Log in at ${PORTAL} or send an email from it to keep it.`;
}
