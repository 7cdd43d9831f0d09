import { describeCounts } from '../domain/drift.js';
import {
  type AccountNotMadePayload,
  type AccountReadyPayload,
  type ChannelKind,
  type DirectoryDriftPayload,
  type DirectoryParkedPayload,
  type DisableRequestPayload,
  type GpLocumClaimPayload,
  type HrImportPayload,
  isKindOf,
  type LeaverRequestPayload,
  type NotificationContent,
  PARKED_KIND,
  type ParkedPayload,
  type PendingDigestItem,
  type WarningPayload,
} from '../domain/notifications.js';
import { clip } from '../domain/quote.js';

/**
 * What organisations' channels are told, platform-neutral. The digests: what each line says and which button it carries. Slack
 * renders a page as blocks, Teams as a card; each platform chooses how many lines fit a message,
 * and a long digest continues over several messages, never cut short.
 */
export const DIGEST_KINDS = ['digest', 'pending-digest'] as const satisfies readonly ChannelKind[];

/** Every kind of notification an organisation's channel (or the operators' channel) is sent: all but the holders'. */
const CHANNEL: Record<ChannelKind, true> = {
  'transfer-leaver': true,
  'transfer-joiner': true,
  'gp-locum-claim': true,
  'leaver-request': true,
  'disable-request': true,
  'hr-import': true,
  [PARKED_KIND]: true,
  digest: true,
  'pending-digest': true,
  'account-ready': true,
  'account-not-made': true,
  'directory-parked': true,
  'directory-drift': true,
};
export const CHANNEL_KINDS = Object.keys(CHANNEL) as readonly ChannelKind[];

/** A line's button: the click runs the grammar's `joiner ADDRESS --org ORG` or `remind ADDRESS`. */
export type DigestAction =
  | { command: 'joiner'; label: 'Accept as joiner'; address: string; org: string }
  | { command: 'remind'; label: 'Remind'; address: string };

export interface DigestLine {
  address: string;
  /** e.g. `3 days left (2026-11-26)` or `pending 4 days`. */
  when: string;
  what: string;
  action: DigestAction | null;
}

export interface DigestPage {
  head: string;
  lines: DigestLine[];
  /** A closing hint, on the last page only. */
  footer: string | null;
}

/** A digest: an organisation's accounts whose clocks run out soon, or that wait for a first login. */
export type Digest = NotificationContent<(typeof DIGEST_KINDS)[number]>;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const isDigest = (n: NotificationContent): n is Digest => isKindOf(DIGEST_KINDS, n);

/** How many messages a digest takes at `perPage` lines each. */
export function digestPages(n: Digest, perPage: number): number {
  return Math.max(1, Math.ceil(n.payload.items.length / perPage));
}

function expiryLine(org: string, i: WarningPayload): DigestLine {
  const line = { address: i.address, when: `${plural(i.daysLeft, 'day')} left (${i.dueAt.slice(0, 10)})` };
  const remind = { command: 'remind', label: 'Remind', address: i.address } as const;
  switch (i.clock) {
    case 'grace':
      return {
        ...line,
        what: 'leaver: grace period ends, then the account becomes inactive',
        // The organisation can still take its leaver back (an undone leaver) until grace ends.
        action: { command: 'joiner', label: 'Accept as joiner', address: i.address, org },
      };
    case 'inactivity':
      return { ...line, what: 'no login or sent email: becomes inactive unless used', action: remind };
    case 'pending':
      return {
        ...line,
        what: 'never used: becomes inactive unless first login is completed',
        action: remind,
      };
    case 'disabled':
      return {
        ...line,
        what: `disabled (long absence): deleted unless enabled ("enable ${i.address}")`,
        action: null,
      };
    case 'disabled-until':
      return {
        ...line,
        what: `disabled: due back; enable it on return ("enable ${i.address}"), or extend with "disable ${i.address} --reason … --until YYYY-MM-DD"`,
        action: null,
      };
  }
}

function pendingLine(i: PendingDigestItem): DigestLine {
  const password =
    i.route === 'sms'
      ? 'password sent by SMS'
      : i.route === 'envelope'
        ? 'password in a Day 1 letter'
        : 'password sent';
  return {
    address: i.address,
    when: `pending ${plural(i.pendingDays, 'day')}`,
    what: `${password}; not signed in yet${i.mfaRegistered ? '' : ', no MFA'}. The holder was reminded by direct message.`,
    action: null,
  };
}

/** Page `part` (0-based) of a digest with `perPage` lines a message. */
export function digestPage(n: Digest & { part: number }, perPage: number): DigestPage {
  const org = n.payload.org;
  const pages = digestPages(n, perPage);
  const of = pages > 1 ? ` (part ${n.part + 1} of ${pages})` : '';
  const page = <T>(all: readonly T[]) => all.slice(n.part * perPage, (n.part + 1) * perPage);
  const last = n.part === pages - 1;
  if (n.kind === 'pending-digest') {
    const all = n.payload.items;
    return {
      head: `${plural(all.length, 'account')} in ${org} ${all.length === 1 ? 'is' : 'are'} still waiting for a first login${of}`,
      lines: page(all).map(pendingLine),
      footer: last
        ? 'When someone has signed in and set up MFA, record it with "first-login ADDRESS --mfa" (the activity report also does).'
        : null,
    };
  }
  const all = n.payload.items;
  return {
    head: `${plural(all.length, 'account')} in ${org} lose${all.length === 1 ? 's' : ''} access soon${of}`,
    lines: page(all).map((i) => expiryLine(org, i)),
    footer: null,
  };
}

/** How much of a platform's error a parked line quotes: the operator CLI shows all of it. */
const PARKED_ERROR_SHOWN = 500;

/** The operators' channel line when a notification is parked as failed. */
export function parkedText(p: ParkedPayload): string {
  const shown = clip(p.error ?? 'no reason given', PARKED_ERROR_SHOWN);
  return `A notification could not be delivered and is parked as failed: ${p.kind} to ${p.target} after ${p.attempts} attempt${p.attempts === 1 ? '' : 's'} (${shown}). Run "notifications failed" on the operator CLI to see every parked notification.`;
}

/** The operators' channel line when a directory change is parked as failed or in conflict. */
export function directoryParkedText(p: DirectoryParkedPayload): string {
  const shown = clip(p.error ?? 'no reason given', PARKED_ERROR_SHOWN);
  const what =
    p.state === 'conflict'
      ? 'is parked as a conflict: the directory holds something the bot did not make, and nothing was overwritten'
      : `is parked as failed after ${p.attempts} attempt${p.attempts === 1 ? '' : 's'}`;
  return `A directory change ${what}: ${p.kind} of ${p.address}, effect ${p.effect} (${shown}). Later changes to that account wait behind it. Run "directory failed" to see every parked change, and "directory retry ${p.effect}" once the cause is fixed.`;
}

/** The operators' summary line when the directory drift report changed. */
export function directoryDriftText(p: DirectoryDriftPayload): string {
  const kinds = describeCounts(p.counts);
  return `Directory drift: ${plural(p.total, 'line')}, ${p.new} new and ${p.settled} settled since the last run${kinds ? ` — ${kinds}` : ''}. Run "directory drift" for each line and the command that settles it.`;
}

/** To whoever made an account: the directory has it and its credential has gone. */
export function accountReadyText(p: AccountReadyPayload): string {
  const credential = p.credential === 'tap' ? 'Temporary Access Pass' : 'temporary password';
  const how =
    p.route === 'sms'
      ? `was sent by SMS to ${p.recipient}`
      : `is in a Day 1 envelope letter (${p.recipient})`;
  return `${p.address} (${p.org}) now exists in the directory, and its ${credential} ${how}. The account stays pending until the holder's first login.`;
}

/** To whoever made an account: the directory could not make it (or its credential could not go). */
export function accountNotMadeText(p: AccountNotMadePayload): string {
  const shown = clip(p.error, PARKED_ERROR_SHOWN);
  if (p.made) {
    return `${p.address} (${p.org}) exists in the directory, but its credential could not be sent, so the holder has none yet: ${shown}. Once the cause is fixed, an operator retries it with "directory retry ${p.effect}": a new credential is set and sent.`;
  }
  const next =
    p.state === 'conflict'
      ? `The address is already held in the directory by a user the bot did not make, and nothing was overwritten. An operator or NAS checks that user: if it is this person, "directory retry ${p.effect} --adopt" takes it over.`
      : `An operator retries it with "directory retry ${p.effect}" once the cause is fixed.`;
  return `${p.address} (${p.org}) could not be created in the directory, so no credential was sent: ${shown}. ${next}`;
}

/** A holder's own request to leave, as their organisation's administrators (or NAS) see it. */
export function leaverRequestText(p: LeaverRequestPayload): string {
  return `Leaver request: ${p.address} asks to leave ${p.org}. A local administrator of ${p.org}: if they are leaving, mark them as a leaver; their grace period then starts.`;
}

/** A manager asks for an account to be disabled: what the local administrators are asked to do. */
export function disableRequestText(p: DisableRequestPayload): string {
  const back = p.until ? `, due back ${p.until.slice(0, 10)}` : '';
  return `Disable request: ${p.requestedBy} asks for ${p.address} to be disabled for a long absence (${p.reason}${back}). A local administrator of ${p.org}: disabling keeps the account out of the 30-day activity rule until it is enabled again.`;
}

/** The button on a GP-locum claim: the click runs `joiner ADDRESS --org ORG` as whoever clicked. */
export const GP_LOCUM_CLAIM_BUTTON = 'Accept as joiner';

/** A leaver marked for the GP-locum route, as the NAS GP-locum team sees it in its channels. */
export function gpLocumClaimText(p: GpLocumClaimPayload): { head: string; body: string } {
  const left = `${plural(p.daysLeft, 'day')} left (grace ends ${p.graceExpiresAt.slice(0, 10)})`;
  return {
    head: `GP-locum claim: ${p.address} is leaving ${p.from} to work as a freelance GP locum`,
    body: `Marked as a leaver of ${p.from} by ${p.markedBy}, for the GP-locum route: ${left}. A NAS administrator: accept them as a joiner into ${p.to} before then. Same address, same mailbox; if no one does, the account becomes inactive when grace ends.`,
  };
}

/** After an HR file is imported: what it did for this organisation, in one message. */
export function hrImportText(p: HrImportPayload): string {
  const rejected =
    p.errors > 0
      ? `; ${p.errors} row${p.errors === 1 ? '' : 's'} rejected (the importer has the reasons)`
      : '';
  if (p.file === 'leavers') {
    return `HR leavers file imported for ${p.org}: ${p.marked} marked as leavers now, ${p.scheduled} scheduled for their leaving date${rejected}.`;
  }
  const duplicates = p.duplicates;
  const existing =
    duplicates.length > 0
      ? `; ${duplicates.length} skipped as people who already have an account (${duplicates.slice(0, 20).join(', ')}${duplicates.length > 20 ? ', …' : ''}): mark them as joiners instead`
      : '';
  return `HR starters file imported for ${p.org}: ${p.created} account${p.created === 1 ? '' : 's'} created, ${p.scheduled} scheduled for their provisioning day${existing}${rejected}.`;
}
