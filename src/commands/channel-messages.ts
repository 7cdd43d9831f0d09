import { clip } from '../domain/quote.js';
import { type OutgoingNotification, PARKED_KIND } from '../service/ports.js';

/**
 * What organisations' channels are told, platform-neutral. The digests: what each line says and which button it carries. Slack
 * renders a page as blocks, Teams as a card; each platform chooses how many lines fit a message,
 * and a long digest continues over several messages, never cut short.
 */
export const DIGEST_KINDS = ['digest', 'pending-digest'] as const;

/** Every kind of notification an organisation's channel (or the operators' channel) is sent. */
export const CHANNEL_KINDS = [
  'transfer-leaver',
  'transfer-joiner',
  'leaver-request',
  'hr-import',
  PARKED_KIND,
  ...DIGEST_KINDS,
] as const;

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

interface ExpiryItem {
  address: string;
  clock: 'grace' | 'inactivity';
  daysLeft: number;
  dueAt: string;
}

interface PendingItem {
  address: string;
  pendingDays: number;
  route: string | null;
  mfaRegistered: boolean;
}

type Digest = Pick<OutgoingNotification, 'kind' | 'payload'>;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function items(n: Digest): unknown[] {
  const list = n.payload.items;
  return Array.isArray(list) ? list : [];
}

/** How many messages a digest takes at `perPage` lines each. */
export function digestPages(n: Digest, perPage: number): number {
  return Math.max(1, Math.ceil(items(n).length / perPage));
}

function expiryLine(org: string, i: ExpiryItem): DigestLine {
  const when = `${plural(i.daysLeft, 'day')} left (${i.dueAt.slice(0, 10)})`;
  return i.clock === 'grace'
    ? {
        address: i.address,
        when,
        what: 'leaver: grace period ends, then the account becomes inactive',
        // The organisation can still take its leaver back (an undone leaver) until grace ends.
        action: { command: 'joiner', label: 'Accept as joiner', address: i.address, org },
      }
    : {
        address: i.address,
        when,
        what: 'no login or sent email: becomes inactive unless used',
        action: { command: 'remind', label: 'Remind', address: i.address },
      };
}

function pendingLine(i: PendingItem): DigestLine {
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
  const org = String(n.payload.org ?? '');
  const all = items(n);
  const pages = digestPages(n, perPage);
  const of = pages > 1 ? ` (part ${n.part + 1} of ${pages})` : '';
  const slice = all.slice(n.part * perPage, (n.part + 1) * perPage);
  const last = n.part === pages - 1;
  if (n.kind === 'pending-digest') {
    return {
      head: `${plural(all.length, 'account')} in ${org} ${all.length === 1 ? 'is' : 'are'} still waiting for a first login${of}`,
      lines: (slice as PendingItem[]).map(pendingLine),
      footer: last
        ? 'When someone has signed in and set up MFA, record it with "first-login ADDRESS --mfa" (the activity report also does).'
        : null,
    };
  }
  return {
    head: `${plural(all.length, 'account')} in ${org} lose${all.length === 1 ? 's' : ''} access soon${of}`,
    lines: (slice as ExpiryItem[]).map((i) => expiryLine(org, i)),
    footer: null,
  };
}

/** How much of a platform's error a parked line quotes: the operator CLI shows all of it. */
const PARKED_ERROR_SHOWN = 500;

/** The operators' channel line when a notification is parked as failed. */
export function parkedText(p: Record<string, unknown>): string {
  const error = String(p.error ?? 'no reason given');
  const shown = clip(error, PARKED_ERROR_SHOWN);
  return `A notification could not be delivered and is parked as failed: ${String(p.kind)} to ${String(p.target)} after ${String(p.attempts)} attempt${p.attempts === 1 ? '' : 's'} (${shown}). Run "notifications failed" on the operator CLI to see every parked notification.`;
}

/** A holder's own request to leave, as their organisation's administrators (or NAS) see it. */
export function leaverRequestText(p: Record<string, unknown>): string {
  return `Leaver request: ${String(p.address)} asks to leave ${String(p.org)}. A local administrator of ${String(p.org)}: if they are leaving, mark them as a leaver; their grace period then starts.`;
}

/** After an HR file is imported: what it did for this organisation, in one message. */
export function hrImportText(p: Record<string, unknown>): string {
  const n = (key: string) => Number(p[key] ?? 0);
  const errors = n('errors');
  const rejected =
    errors > 0 ? `; ${errors} row${errors === 1 ? '' : 's'} rejected (the importer has the reasons)` : '';
  if (p.file === 'leavers') {
    return `HR leavers file imported for ${String(p.org)}: ${n('marked')} marked as leavers now, ${n('scheduled')} scheduled for their leaving date${rejected}.`;
  }
  const duplicates = Array.isArray(p.duplicates) ? (p.duplicates as string[]) : [];
  const existing =
    duplicates.length > 0
      ? `; ${duplicates.length} skipped as people who already have an account (${duplicates.slice(0, 20).join(', ')}${duplicates.length > 20 ? ', …' : ''}): mark them as joiners instead`
      : '';
  return `HR starters file imported for ${String(p.org)}: ${n('created')} account${n('created') === 1 ? '' : 's'} created, ${n('scheduled')} scheduled for their provisioning day${existing}${rejected}.`;
}
