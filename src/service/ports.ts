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
  temporaryPassword: string;
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
