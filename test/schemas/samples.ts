import type { Reply } from '../../src/commands/execute.js';
import { addressBase, addressCandidate } from '../../src/domain/address.js';
import { EXPIRING_CLOCKS } from '../../src/domain/clocks.js';
import { type DetailsArg, type ErrorCode, refused } from '../../src/domain/errors.js';
import { WARNED_CLOCK_NAMES } from '../../src/domain/lapses.js';
import { type OutgoingNotification, PARKED_KIND, type QueuedNotification } from '../../src/service/ports.js';
import type { PendingReminder } from '../../src/service/reminders.js';
import type { AccountView } from '../../src/service/store.js';
import type { QueuedWarning } from '../../src/service/sweep.js';
import { day, T0 } from '../support/service.js';

/**
 * Long and awkward inputs for every message, card and view the bot builds: the longest names an
 * NHS address is made from, text with every character that markup escapes, very long refusals,
 * 200-line digests and many duplicates. Built with the domain's own address rule, so they look like
 * what the bot really sends.
 */

export const LONG_GIVEN = 'Siân-Éloïse Anne-Marguerite';
export const LONG_FAMILY = 'O’Connor-Fitzgerald-Llewellyn-Ap-Gwilym';
/** `sian-eloise-anne-marguerite.oconnor-fitzgerald-llewellyn-ap-gwilym12@nhs.net` */
export const LONG_ADDRESS = addressCandidate(addressBase(LONG_GIVEN, LONG_FAMILY), 12);
export const address = (i: number) => addressCandidate(addressBase(LONG_GIVEN, LONG_FAMILY), i + 1);

/** Every character Slack's mrkdwn or Teams' markdown treats specially. */
export const MARKUP = `Tom & Jerry's <Practice> "Surgery" *bold* _it_ ~st~ \`code\` [link](x) | > quote`;
/** As long as an organisation's name may be (200 characters). */
export const LONG_ORG_NAME =
  `${MARKUP} — Northtown, Southville & Eastbridge Integrated Care Board ${'Trust '.repeat(30)}`
    .slice(0, 200)
    .trim();
export const ODS = 'RXX99';

/** A refusal longer than any one block or text element: many lines, each with markup. */
export const LONG_REFUSAL = Array.from(
  { length: 120 },
  (_, i) =>
    `${i + 1}. ${MARKUP}: ${LONG_ADDRESS} could not be changed because ${'the rule said so '.repeat(4)}`,
).join('\n');
/** One line with no breaks, longer than Slack's section and Teams' comfortable limits. */
export const LONG_LINE = `${MARKUP} ${'x&y<z>'.repeat(1500)}`;

const ok = (text: string, command: Reply['command'] = 'status', data: unknown = null): Reply => ({
  ok: true,
  exitCode: 0,
  command,
  text,
  data,
});
const refusal = <C extends ErrorCode>(code: C, text: string, ...details: DetailsArg<C>): Reply => ({
  ok: false,
  exitCode: 1,
  command: 'provision',
  text,
  data: { error: code },
  error: refused(code, text, ...details).value(),
});

export const MANY_DUPLICATES = Array.from({ length: 60 }, (_, i) => ({
  address: address(i),
  reasons: ['dob-and-name' as const],
}));

/** Replies of every shape the chat adapters lay out, with long and awkward text. */
export const REPLIES: Record<string, Reply> = {
  short: ok('Done.', 'help'),
  long: ok(LONG_REFUSAL, 'audit'),
  longLine: ok(LONG_LINE, 'help'),
  empty: ok('', 'help'),
  refused: refusal('NOT_YOUR_ORGANISATION', LONG_REFUSAL),
  invalid: {
    ...refusal('INVALID_DATE', LONG_LINE),
    exitCode: 2,
    error: { code: 'INVALID_DATE', kind: 'invalid', message: '', details: {} },
  },
  duplicate: refusal(
    'DUPLICATE_PERSON',
    `This person may already have an account: ${MANY_DUPLICATES.map((m) => `${m.address} (same name, date of birth)`).join('; ')}.`,
    { matches: MANY_DUPLICATES },
  ),
  duplicateWithoutMatches: refusal('DUPLICATE_PERSON', 'This person may already have an account.', {
    matches: [],
  }),
};

export const ACCOUNT: AccountView = {
  address: LONG_ADDRESS,
  status: 'leaver',
  org: ODS,
  orgName: LONG_ORG_NAME,
  kind: 'person',
  name: `${LONG_GIVEN} ${LONG_FAMILY} ${MARKUP}`,
  mobile: null,
  createdAt: day(-400).toISOString(),
  firstLoginAt: day(-399).toISOString(),
  mfaRegistered: true,
  lastActivityAt: day(-2).toISOString(),
  activityExpiresAt: null,
  graceExpiresAt: day(30).toISOString(),
  inactiveSince: null,
  pendingExpiresAt: null,
  disabledAt: null,
  disabledReason: null,
  disabledUntil: null,
  deleteAfter: null,
  deletedAt: null,
  restoreUntil: null,
  purged: false,
  leavesAt: null,
};

export const expiringRows = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    address: address(i),
    status: 'active' as const,
    org: ODS,
    reason: EXPIRING_CLOCKS[i % EXPIRING_CLOCKS.length]?.name ?? 'grace',
    dueAt: day(i % 7).toISOString(),
  }));

export const REPLY_STATUS: Reply = ok(`${LONG_ADDRESS}: leaver`, 'status', ACCOUNT);

export const REPLY_EXPIRING = (n: number): Reply => ok(`${n} ending soon`, 'expiring', expiringRows(n));

const warnings = (n: number): QueuedWarning[] =>
  Array.from({ length: n }, (_, i) => ({
    address: address(i),
    org: ODS,
    clock: WARNED_CLOCK_NAMES[i % WARNED_CLOCK_NAMES.length] ?? 'grace',
    thresholdDays: 7,
    daysLeft: (i % 7) + 1,
    dueAt: day((i % 7) + 1).toISOString(),
  }));

const pending = (n: number): PendingReminder[] =>
  Array.from({ length: n }, (_, i) => ({
    address: address(i),
    org: ODS,
    pendingDays: 200 - i,
    route: [null, 'sms', 'envelope'][i % 3] ?? null,
    mfaRegistered: i % 2 === 0,
  }));

const transfer = {
  transferId: 42,
  address: LONG_ADDRESS,
  from: ODS,
  to: 'RYY88',
  requestedBy: `${LONG_ADDRESS} ${MARKUP}`,
  graceDays: 30,
};

/**
 * One notification of every kind an organisation's (or the operators') channel is sent, part 0;
 * digests with 200 lines, and the short ones a run can also queue (one line).
 */
export const NOTIFICATIONS: QueuedNotification[] = [
  { id: 101, kind: 'transfer-leaver', payload: transfer },
  { id: 102, kind: 'transfer-joiner', payload: transfer },
  {
    id: 120,
    kind: 'gp-locum-claim',
    payload: {
      address: LONG_ADDRESS,
      from: ODS,
      to: 'Y0LOC',
      markedBy: `${LONG_ADDRESS} ${MARKUP}`,
      daysLeft: 30,
      graceExpiresAt: day(30).toISOString(),
    },
  },
  {
    id: 103,
    kind: 'leaver-request',
    payload: { address: LONG_ADDRESS, org: ODS, requestedBy: LONG_ADDRESS },
  },
  {
    id: 124,
    kind: 'disable-request',
    payload: {
      address: LONG_ADDRESS,
      org: ODS,
      reason: `maternity leave ${MARKUP}`,
      until: day(200).toISOString(),
      requestedBy: LONG_ADDRESS,
    },
  },
  {
    id: 125,
    kind: 'disable-request',
    payload: {
      address: LONG_ADDRESS,
      org: ODS,
      reason: 'long sickness',
      until: null,
      requestedBy: 'operator',
    },
  },
  {
    id: 104,
    kind: 'hr-import',
    payload: {
      org: ODS,
      file: 'starters',
      at: T0.toISOString(),
      created: 1234,
      scheduled: 5678,
      duplicates: MANY_DUPLICATES.map((m) => m.address),
      errors: 910,
    },
  },
  {
    id: 105,
    kind: 'hr-import',
    payload: { org: ODS, file: 'leavers', at: T0.toISOString(), marked: 1, scheduled: 0, errors: 1 },
  },
  {
    id: 106,
    kind: PARKED_KIND,
    payload: {
      delivery: 7,
      kind: 'digest',
      target: `slack:T0001:C0123456789 ${MARKUP}`,
      attempts: 8,
      error: `HTTP 400 ${LONG_LINE}`,
    },
  },
  {
    id: 107,
    kind: PARKED_KIND,
    payload: { delivery: 8, kind: 'leaver', target: 'teams:x', attempts: 1, error: null },
  },
  { id: 108, kind: 'digest', payload: { org: ODS, at: T0.toISOString(), items: warnings(200) } },
  { id: 109, kind: 'digest', payload: { org: ODS, at: T0.toISOString(), items: warnings(1) } },
  { id: 110, kind: 'pending-digest', payload: { org: ODS, at: T0.toISOString(), items: pending(200) } },
  { id: 111, kind: 'pending-digest', payload: { org: ODS, at: T0.toISOString(), items: pending(1) } },
  {
    id: 112,
    kind: 'account-ready',
    payload: {
      address: LONG_ADDRESS,
      org: ODS,
      route: 'sms',
      recipient: '07*** ***456',
      credential: 'password',
    },
  },
  {
    id: 113,
    kind: 'account-ready',
    payload: {
      address: LONG_ADDRESS,
      org: ODS,
      route: 'envelope',
      recipient: `/var/lib/nhsmail/envelopes/${LONG_ADDRESS}.pdf`,
      credential: 'tap',
    },
  },
  {
    id: 114,
    kind: 'account-not-made',
    payload: {
      address: LONG_ADDRESS,
      org: ODS,
      effect: 41,
      state: 'conflict',
      made: false,
      error: `${MARKUP} ${LONG_LINE}`,
    },
  },
  {
    id: 117,
    kind: 'account-not-made',
    payload: {
      address: LONG_ADDRESS,
      org: ODS,
      effect: 44,
      state: 'failed',
      made: true,
      error: `The directory has the user, but its credential could not be delivered: ${LONG_LINE}`,
    },
  },
  {
    id: 115,
    kind: 'directory-parked',
    payload: {
      effect: 42,
      kind: 'create-user',
      address: LONG_ADDRESS,
      state: 'failed',
      attempts: 8,
      error: `403 Authorization_RequestDenied ${MARKUP} ${LONG_LINE}`,
    },
  },
  {
    id: 116,
    kind: 'directory-parked',
    payload: {
      effect: 43,
      kind: 'disable',
      address: LONG_ADDRESS,
      state: 'conflict',
      attempts: 1,
      error: null,
    },
  },
  {
    id: 117,
    kind: 'directory-drift',
    payload: {
      total: 100_000,
      new: 99_999,
      settled: 12_345,
      counts: {
        'not-in-bot': 50_000,
        'not-in-directory': 10_000,
        'deleted-in-directory': 10_000,
        'enabled-mismatch': 10_000,
        'group-mismatch': 10_000,
        'name-mismatch': 10_000,
      },
    },
  },
];

/** Every part of every sample notification, as a platform splits it (`parts` is its notifier's). */
export function everyPart(parts: (n: QueuedNotification) => number): OutgoingNotification[] {
  return NOTIFICATIONS.flatMap((n) => Array.from({ length: parts(n) }, (_, part) => ({ ...n, part })));
}

/** A value for every field of a form, long and awkward, and a long problem for each. */
export const formValuesFor = (flags: readonly string[]) =>
  Object.fromEntries(flags.map((flag) => [flag, `${LONG_FAMILY} ${MARKUP} ${'9'.repeat(200)}`]));
export const formErrorsFor = (flags: readonly string[]) =>
  Object.fromEntries(flags.map((flag) => [flag, `${flag}: ${LONG_LINE}`]));
