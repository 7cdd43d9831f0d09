import type { Effect, EffectKind } from '../domain/effects.js';
import type { NotificationContent, NotificationKind } from '../domain/notifications.js';
import type { OrgKind } from '../domain/organisation.js';
import type { ChatPlatform } from '../domain/platform.js';
import type { Mobile } from '../domain/validation.js';

export const DELIVERY_ROUTES = ['sms', 'envelope'] as const;
export type DeliveryRoute = (typeof DELIVERY_ROUTES)[number];

/** What a credential delivery needs: the secret travels in memory only, through this call. */
export interface CredentialRequest {
  address: string;
  given: string;
  family: string;
  /** The new home organisation; its kind says whom the holder asks for help. */
  org: { ods: string; name: string; kind: OrgKind };
  /** Whether the first login must register MFA (policy may exempt the organisation's sector). */
  mfaRequired: boolean;
  route: DeliveryRoute;
  mobile?: Mobile | undefined;
  /** The secret: a temporary password, or with `credential: 'tap'` an Entra Temporary Access Pass. */
  temporaryPassword: string;
  /** Which secret it is; a password when absent. */
  credential?: 'password' | 'tap' | undefined;
}

/** What may be recorded about a delivery: the route and a masked recipient, never the secret. */
export interface DeliveryReceipt {
  route: DeliveryRoute;
  /** e.g. `07*** ***123`, or where the Day 1 envelope letter was written. */
  recipient: string;
}

/** Delivers a new account's temporary password by a secure route (SMS to the HR mobile, or a Day 1 envelope). */
export interface CredentialDelivery {
  /** Throws a DomainError when the route is unavailable; the account is then not created. */
  deliver(request: CredentialRequest): Promise<DeliveryReceipt>;
  /**
   * Throws the same DomainError now when `route` has no deliverer: a credential sent later (once
   * the directory has the user) must not find out only then.
   */
  check?(route: DeliveryRoute): void;
}

/** A queued notification, decoded from its row: `id` is the outbox row's. */
export type QueuedNotification<K extends NotificationKind = NotificationKind> = NotificationContent<K> & {
  id: number;
};

/** A queued notification, as an adapter renders it. */
export type OutgoingNotification<K extends NotificationKind = NotificationKind> = QueuedNotification<K> & {
  /** Which message of a notification that needs several (a long digest); 0 for most. */
  part: number;
};

/** Where in a chat platform a notification goes. */
export interface ChannelTarget {
  tenant: string;
  /** A channel's id, or for a direct message the holder's @nhs.net address. */
  channelId: string;
  /** True for a direct message to the holder. */
  direct: boolean;
}

/** What a platform said to one send. */
export type SendOutcome =
  /** Done; `note` records why nothing was sent when there was nobody to send to (no chat account). */
  | { ok: true; note?: string }
  /** Rate limited: try this target again after the platform's Retry-After. */
  | { ok: false; retryAfterMs: number; error: string }
  /** Failed: `permanent` (channel gone, bot removed) parks it at once; otherwise retried with backoff. */
  | { ok: false; permanent: boolean; error: string };

/** A chat platform's way of posting a notification into a channel (Slack, Teams). */
export interface ChannelNotifier {
  readonly platform: ChatPlatform;
  /** Kinds of notification this notifier can render for a channel; the worker sends it no other. */
  readonly kinds: readonly NotificationKind[];
  /** Kinds it can send to the holder directly (a DM), found by their @nhs.net address. */
  readonly directKinds: readonly NotificationKind[];
  /** Least time between two messages to one channel (Slack: about one a second). */
  readonly minIntervalMs: number;
  /** How many messages this notification takes on this platform (long digests are split, never cut). */
  parts(notification: QueuedNotification): number;
  /** Posts one notification to one channel and reports how it went; never throws for a platform refusal. */
  post(target: ChannelTarget, notification: OutgoingNotification): Promise<SendOutcome>;
}

/** The operators' channel: where a line goes when a notification is parked as failed. */
export interface OperatorsChannel {
  platform: ChatPlatform;
  channelId: string;
}

export { PARKED_KIND } from '../domain/notifications.js';

/** One directory effect to apply, with what the worker knows of its account and organisations. */
export interface EffectToApply {
  /** The queued effect's id: the outcome is reported under it. */
  id: number;
  effect: Effect;
  /** The account's object id in the directory, once known; null before its user is made. */
  directoryId: string | null;
  /** For each organisation the effect names (by ODS): its directory group (null: none mapped) and name. */
  orgs: Readonly<Record<string, { name: string; group: string | null }>>;
  /** create-user only: the credential to set, made by the worker for this attempt and never stored. */
  credential?: DirectoryCredential;
  /**
   * Steps an earlier attempt reported done (a failed outcome's `step`): the directory resumes
   * after them rather than repeating writes. Absent: none.
   */
  step?: number;
  /**
   * create-user only: an operator confirmed (`directory retry ID --adopt`) that the user already
   * holding the address is this person, so it is marked as the bot's and taken over.
   */
  adopt?: boolean;
}

/** What a new user signs in with first: a temporary password, or an Entra Temporary Access Pass. */
export type DirectoryCredential =
  | { kind: 'password'; password: string; forceChangeWithMfa: boolean }
  | { kind: 'tap'; lifetimeMinutes: number; startDateTime: string };

/** What the directory said to one effect. */
export type EffectOutcome =
  /** Done; `directoryId` once the user's object id is known; `temporaryAccessPass` when one was issued (delivered, never stored). */
  | { ok: true; directoryId: string | null; temporaryAccessPass?: string }
  /** Throttled: try again after the directory's Retry-After. */
  | ({ ok: false; retryAfterMs: number; error: string } & EffectProgress)
  /**
   * Failed: `permanent` parks it at once (a refusal, a missing permission); `conflict` when the
   * directory holds something the bot did not make (a taken address), which is never overwritten.
   */
  | ({ ok: false; permanent: boolean; conflict: boolean; error: string } & EffectProgress);

/** How far a failed effect got, so that its retry resumes there. */
export interface EffectProgress {
  /** Steps done before the failure (the next attempt's `EffectToApply.step`). */
  step?: number;
  /** The user's object id, once the directory made it (a create whose later step failed). */
  directoryId?: string;
}

/**
 * The directory's answer to "is this address free?", asked while an address is chosen. Apart from
 * Directory: the service asks it inside a command and can go on without an answer, while only the
 * directory worker applies effects. An Entra directory implements both.
 */
export interface AddressDirectory {
  /**
   * The candidates, as given, that the directory already holds as a user's sign-in name, compared
   * case-insensitively (UPNs are). Rejects when the directory gave no answer in time (throttled,
   * unavailable, refused, too slow); the caller decides what to do without it.
   */
  heldAddresses(candidates: readonly string[]): Promise<ReadonlySet<string>>;
}

/** The organisation's directory (Microsoft Entra through Graph), applying the bot's decisions. */
export interface Directory {
  /** The directory's name for logs and status ("entra"). */
  readonly name: string;
  /**
   * The most writes each kind of effect sends (reads are not counted: the directory budgets
   * writes), for the worker's pacer. Absent: one each.
   */
  readonly writesPerEffect?: Readonly<Record<EffectKind, number>>;
  /** Applies effects, at most one per account, and answers each on its own; never throws for a directory's refusal. */
  apply(effects: readonly EffectToApply[]): Promise<Map<number, EffectOutcome>>;
}
