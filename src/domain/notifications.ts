import type { DriftKind } from './drift.js';
import type { WarnedClock } from './lapses.js';
import type { ChatPlatform } from './platform.js';
import type { Status } from './status.js';

/**
 * What the outbox holds: one variant per kind of notification, each with whom it may go to and
 * the payload it carries. Rows outlive deploys, so a payload's keys are part of the stored format:
 * renaming one needs a new payload version (PAYLOAD_VERSIONS) and a decoder for the old one
 * (notification-decoding.ts), never a silent change that sends people "undefined".
 */

/** An organisation's subscribed channels. */
export interface OrgAudience {
  type: 'org';
  ods: string;
}

/** The holder of an account, by direct message on each platform that can reach them. */
export interface HolderAudience {
  type: 'holder';
  address: string;
}

/** A team's mailbox (the NAS GP-locum team's locumadmin@nhs.net); `ods` is the organisation it serves. */
export interface MailboxAudience {
  type: 'mailbox';
  address: string;
  ods?: string;
}

/** The operators' channel (OPERATORS_CHANNEL), for notifications parked as failed. */
export interface OperatorsAudience {
  type: 'operators';
}

/** The chat conversation a request was typed in: the helpdesk person who asked is told there. */
export interface ConversationAudience {
  type: 'conversation';
  platform: ChatPlatform;
  tenant: string;
  channelId: string;
}

/**
 * Who a notification is for: an organisation's subscribed channels, the holder, a mailbox, the
 * operators, or the conversation a request came from.
 */
export type Audience =
  | OrgAudience
  | HolderAudience
  | MailboxAudience
  | OperatorsAudience
  | ConversationAudience;

/** An account marked as a leaver: the holder is told until when it stays theirs. */
export interface LeaverPayload {
  address: string;
  org: string;
  graceExpiresAt: string;
  /**
   * Marked for the GP-locum route (`leaver --gp-locum`): the GP-locum organisation and the NAS
   * team's mailbox the holder writes to. Optional, so rows written before it still read as v1.
   */
  gpLocum?: { org: string; mailbox: string };
}

/** An account accepted by its new organisation. */
export interface JoinerPayload {
  address: string;
  /** ODS code of the organisation it left. */
  from: string;
  /** ODS code of the organisation it joined. */
  to: string;
}

/** A sweep's change of status (grace ended, inactivity, retention ended). */
export interface StatusChangePayload {
  address: string;
  org: string;
  from: Status;
  to: Status;
  reason: string;
}

/** A holder's warning that a clock runs out; also one line of an organisation's digest. */
export interface WarningPayload {
  address: string;
  org: string;
  clock: WarnedClock;
  thresholdDays: number;
  daysLeft: number;
  dueAt: string;
}

/**
 * A reminder to the holder. The scheduled reminder of a pending account carries `mfaRegistered`;
 * one asked for by a person ("remind", the digest's button) carries `dueAt` and `remindedBy`.
 */
export interface ReminderPayload {
  address: string;
  org: string;
  status: Status;
  /** How the temporary password went: `sms`, `envelope`, or null when not recorded. */
  route: string | null;
  pendingDays: number;
  mfaRegistered?: boolean;
  /** When the account next changes unless the holder acts (a pending account's lapse included; absent in rows written before pending accounts lapsed). */
  dueAt?: string | null;
  remindedBy?: string;
}

/** A holder's own request to leave, for their organisation's administrators. */
export interface LeaverRequestPayload {
  address: string;
  org: string;
  requestedBy: string;
}

/** A manager's request that a local administrator disable an account for a long absence. */
export interface DisableRequestPayload {
  address: string;
  org: string;
  reason: string;
  /** The return date given, if any. */
  until: string | null;
  requestedBy: string;
}

/** A transfer request, posted to both organisations (`transfer-leaver`, `transfer-joiner`). */
export interface TransferPayload {
  /** Always written; absent from JSON only if the request's insert returned no row. */
  transferId?: number;
  address: string;
  from: string;
  to: string;
  requestedBy: string;
  graceDays: number;
}

/**
 * A leaver marked for the GP-locum route, for the NAS GP-locum team to claim: `to` is the
 * GP-locum organisation, `daysLeft` the grace days left when it was marked.
 */
export interface GpLocumClaimPayload {
  address: string;
  /** ODS code of the organisation it left. */
  from: string;
  /** ODS code of the GP-locum organisation the team joins it to. */
  to: string;
  markedBy: string;
  daysLeft: number;
  graceExpiresAt: string;
}

/** What an HR starters file did for one organisation. */
export interface HrStartersImportPayload {
  org: string;
  file: 'starters';
  at: string;
  created: number;
  scheduled: number;
  /** Addresses of people skipped because they already have an account. */
  duplicates: string[];
  errors: number;
}

/** What an HR leavers file did for one organisation. */
export interface HrLeaversImportPayload {
  org: string;
  file: 'leavers';
  at: string;
  marked: number;
  scheduled: number;
  errors: number;
}

export type HrImportPayload = HrStartersImportPayload | HrLeaversImportPayload;

/** An organisation's digest of accounts whose grace or activity window ends soon. */
export interface ExpiryDigestPayload {
  org: string;
  at: string;
  items: WarningPayload[];
}

/** One account still waiting for its first login. */
export interface PendingDigestItem {
  address: string;
  org: string;
  pendingDays: number;
  route: string | null;
  mfaRegistered: boolean;
}

/** An organisation's digest of accounts still waiting for a first login. */
export interface PendingDigestPayload {
  org: string;
  at: string;
  items: PendingDigestItem[];
}

/** The operators' line about a delivery parked as failed. */
export interface ParkedPayload {
  /** The parked delivery's id (`notifications retry ID`). */
  delivery: number;
  /** The parked notification's kind, as stored: it may be one this build cannot decode. */
  kind: string;
  target: string;
  attempts: number;
  error: string | null;
}

/** A new account the directory now holds, with its credential delivered (issue 14). */
export interface AccountReadyPayload {
  address: string;
  org: string;
  /** How the credential went: `sms` or `envelope`. */
  route: 'sms' | 'envelope';
  /** The masked mobile number, or where the Day 1 letter was written. */
  recipient: string;
  /** A temporary password, or an Entra Temporary Access Pass. */
  credential: 'password' | 'tap';
}

/** A new account the directory could not make (parked), so no credential was sent. */
export interface AccountNotMadePayload {
  address: string;
  org: string;
  /** The parked directory effect (`directory retry ID`). */
  effect: number;
  /** `failed`, or `conflict` when the address is held by a user the bot did not make. */
  state: 'failed' | 'conflict';
  /** True when the directory has the user but its credential could not be delivered. */
  made: boolean;
  error: string;
}

/** The operators' line about a directory effect parked as failed or in conflict. */
export interface DirectoryParkedPayload {
  /** The parked effect's id (`directory retry ID`). */
  effect: number;
  /** The effect's kind, as stored. */
  kind: string;
  address: string;
  state: 'failed' | 'conflict';
  attempts: number;
  error: string | null;
}

/** The operators' line when the directory drift report's set of lines changed (issue 15). */
export interface DirectoryDriftPayload {
  total: number;
  /** Lines not in the previous report, and the previous report's lines now gone. */
  new: number;
  settled: number;
  counts: Record<DriftKind, number>;
}

/** Every kind: whom it may go to and what it carries. */
interface NotificationVariants {
  leaver: { audience: HolderAudience; payload: LeaverPayload };
  joiner: { audience: HolderAudience; payload: JoinerPayload };
  'status-change': { audience: HolderAudience; payload: StatusChangePayload };
  warning: { audience: HolderAudience; payload: WarningPayload };
  reminder: { audience: HolderAudience; payload: ReminderPayload };
  'leaver-request': { audience: OrgAudience | MailboxAudience; payload: LeaverRequestPayload };
  'disable-request': { audience: OrgAudience; payload: DisableRequestPayload };
  'transfer-leaver': { audience: OrgAudience | MailboxAudience; payload: TransferPayload };
  'transfer-joiner': { audience: OrgAudience; payload: TransferPayload };
  'gp-locum-claim': { audience: MailboxAudience; payload: GpLocumClaimPayload };
  'hr-import': { audience: OrgAudience; payload: HrImportPayload };
  digest: { audience: OrgAudience; payload: ExpiryDigestPayload };
  'pending-digest': { audience: OrgAudience; payload: PendingDigestPayload };
  'delivery-failed': { audience: OperatorsAudience; payload: ParkedPayload };
  'account-ready': { audience: OrgAudience | ConversationAudience; payload: AccountReadyPayload };
  'account-not-made': { audience: OrgAudience | ConversationAudience; payload: AccountNotMadePayload };
  'directory-parked': { audience: OperatorsAudience; payload: DirectoryParkedPayload };
  'directory-drift': { audience: OperatorsAudience; payload: DirectoryDriftPayload };
}

export type NotificationKind = keyof NotificationVariants;
export type NotificationPayload<K extends NotificationKind> = NotificationVariants[K]['payload'];
export type NotificationAudience<K extends NotificationKind> = NotificationVariants[K]['audience'];

/**
 * The payload version `enqueue` writes for each kind. Bump one when its payload changes shape,
 * and keep a decoder for every version still in the outbox.
 */
export const PAYLOAD_VERSIONS = {
  leaver: 1,
  joiner: 1,
  'status-change': 1,
  warning: 1,
  reminder: 1,
  'leaver-request': 1,
  'disable-request': 1,
  'transfer-leaver': 1,
  'transfer-joiner': 1,
  'gp-locum-claim': 1,
  'hr-import': 1,
  digest: 1,
  'pending-digest': 1,
  'delivery-failed': 1,
  'account-ready': 1,
  'account-not-made': 1,
  'directory-parked': 1,
  'directory-drift': 1,
} as const satisfies Record<NotificationKind, number>;

export const NOTIFICATION_KINDS = Object.keys(PAYLOAD_VERSIONS) as readonly NotificationKind[];

export const isNotificationKind = (kind: string): kind is NotificationKind =>
  Object.hasOwn(PAYLOAD_VERSIONS, kind);

/** A notification to queue: its kind, whom it goes to, and its payload. */
export type Notification = {
  [K in NotificationKind]: { kind: K; audience: NotificationAudience<K>; payload: NotificationPayload<K> };
}[NotificationKind];

/** A notification as renderers see it (read back from a row): its kind and payload, one of `K`. */
export type NotificationContent<K extends NotificationKind = NotificationKind> = {
  [P in K]: { kind: P; payload: NotificationPayload<P> };
}[K];

/** Kinds sent to the holder of an account. */
export type HolderKind = {
  [K in NotificationKind]: NotificationAudience<K> extends HolderAudience ? K : never;
}[NotificationKind];

/** Kinds posted into channels (an organisation's, a mailbox team's or the operators'). */
export type ChannelKind = Exclude<NotificationKind, HolderKind>;

/** Whether a notification is one of `kinds`, narrowing it to them. */
export const isKindOf = <K extends NotificationKind>(
  kinds: readonly K[],
  n: NotificationContent,
): n is Extract<NotificationContent, { kind: K }> => (kinds as readonly string[]).includes(n.kind);

/** The `default` of a switch on every kind: a kind added to the union fails to compile there. */
export function unhandledKind(n: never): never {
  throw new Error(`no case for notification kind ${String((n as { kind?: unknown }).kind)}`);
}

/** The kind of the operators' line about a parked notification. */
export const PARKED_KIND = 'delivery-failed' satisfies NotificationKind;

/** Kinds for the operators' channel: parked notifications and parked directory effects. */
export const OPERATOR_KINDS = [
  PARKED_KIND,
  'directory-parked',
  'directory-drift',
] as const satisfies readonly NotificationKind[];
