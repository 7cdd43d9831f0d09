import { z } from 'zod';
import { DRIFT_KINDS } from './drift.js';
import { WARNED_CLOCK_NAMES } from './lapses.js';
import {
  type AccountNotMadePayload,
  type AccountReadyPayload,
  type DirectoryDriftPayload,
  type DirectoryParkedPayload,
  type DisableRequestPayload,
  type ExpiryDigestPayload,
  type GpLocumClaimPayload,
  type HrImportPayload,
  isNotificationKind,
  type JoinerPayload,
  type LeaverPayload,
  type LeaverRequestPayload,
  type NotificationContent,
  type NotificationKind,
  type NotificationPayload,
  PAYLOAD_VERSIONS,
  type ParkedPayload,
  type PendingDigestPayload,
  type ReminderPayload,
  type StatusChangePayload,
  type TransferPayload,
  type WarningPayload,
} from './notifications.js';
import { STATUSES } from './status.js';

/**
 * Reads a stored outbox payload back into its type, or fails saying which row and which key.
 * Objects are strict: a renamed key is both a missing key and an unknown one, and either fails.
 */

/** Dates are written by `Date.toISOString()`. */
const instant = z.iso.datetime();
const status = z.enum(STATUSES);

const warningV1 = z.strictObject({
  address: z.string(),
  org: z.string(),
  // Widened as clocks were added (pending, disabled, disabled-until): older rows still read.
  clock: z.enum(WARNED_CLOCK_NAMES),
  thresholdDays: z.int(),
  daysLeft: z.int(),
  dueAt: instant,
}) satisfies z.ZodType<WarningPayload>;

const transferV1 = z.strictObject({
  transferId: z.int().optional(),
  address: z.string(),
  from: z.string(),
  to: z.string(),
  requestedBy: z.string(),
  graceDays: z.int(),
}) satisfies z.ZodType<TransferPayload>;

type Decoders = {
  readonly [K in NotificationKind]: { readonly [version: number]: z.ZodType<NotificationPayload<K>> };
};

/** Every payload version each kind can be read from; the newest is PAYLOAD_VERSIONS[kind]. */
const DECODERS: Decoders = {
  leaver: {
    1: z.strictObject({
      address: z.string(),
      org: z.string(),
      graceExpiresAt: instant,
      // Added within v1: rows without it (a plain leaver, older rows) read as before.
      gpLocum: z.strictObject({ org: z.string(), mailbox: z.string() }).optional(),
    }) satisfies z.ZodType<LeaverPayload>,
  },
  joiner: {
    1: z.strictObject({
      address: z.string(),
      from: z.string(),
      to: z.string(),
    }) satisfies z.ZodType<JoinerPayload>,
  },
  'status-change': {
    1: z.strictObject({
      address: z.string(),
      org: z.string(),
      from: status,
      to: status,
      reason: z.string(),
    }) satisfies z.ZodType<StatusChangePayload>,
  },
  warning: { 1: warningV1 },
  reminder: {
    1: z.strictObject({
      address: z.string(),
      org: z.string(),
      status,
      route: z.string().nullable(),
      pendingDays: z.int(),
      mfaRegistered: z.boolean().optional(),
      dueAt: instant.nullable().optional(),
      remindedBy: z.string().optional(),
    }) satisfies z.ZodType<ReminderPayload>,
  },
  'leaver-request': {
    1: z.strictObject({
      address: z.string(),
      org: z.string(),
      requestedBy: z.string(),
    }) satisfies z.ZodType<LeaverRequestPayload>,
  },
  'disable-request': {
    1: z.strictObject({
      address: z.string(),
      org: z.string(),
      reason: z.string(),
      until: instant.nullable(),
      requestedBy: z.string(),
    }) satisfies z.ZodType<DisableRequestPayload>,
  },
  'transfer-leaver': { 1: transferV1 },
  'transfer-joiner': { 1: transferV1 },
  'gp-locum-claim': {
    1: z.strictObject({
      address: z.string(),
      from: z.string(),
      to: z.string(),
      markedBy: z.string(),
      daysLeft: z.int(),
      graceExpiresAt: instant,
    }) satisfies z.ZodType<GpLocumClaimPayload>,
  },
  'hr-import': {
    1: z.discriminatedUnion('file', [
      z.strictObject({
        org: z.string(),
        file: z.literal('starters'),
        at: instant,
        created: z.int(),
        scheduled: z.int(),
        duplicates: z.array(z.string()),
        errors: z.int(),
      }),
      z.strictObject({
        org: z.string(),
        file: z.literal('leavers'),
        at: instant,
        marked: z.int(),
        scheduled: z.int(),
        errors: z.int(),
      }),
    ]) satisfies z.ZodType<HrImportPayload>,
  },
  digest: {
    1: z.strictObject({
      org: z.string(),
      at: instant,
      items: z.array(warningV1),
    }) satisfies z.ZodType<ExpiryDigestPayload>,
  },
  'pending-digest': {
    1: z.strictObject({
      org: z.string(),
      at: instant,
      items: z.array(
        z.strictObject({
          address: z.string(),
          org: z.string(),
          pendingDays: z.int(),
          route: z.string().nullable(),
          mfaRegistered: z.boolean(),
        }),
      ),
    }) satisfies z.ZodType<PendingDigestPayload>,
  },
  'delivery-failed': {
    1: z.strictObject({
      delivery: z.int(),
      kind: z.string(),
      target: z.string(),
      attempts: z.int(),
      error: z.string().nullable(),
    }) satisfies z.ZodType<ParkedPayload>,
  },
  'account-ready': {
    1: z.strictObject({
      address: z.string(),
      org: z.string(),
      route: z.enum(['sms', 'envelope']),
      recipient: z.string(),
      credential: z.enum(['password', 'tap']),
    }) satisfies z.ZodType<AccountReadyPayload>,
  },
  'account-not-made': {
    1: z.strictObject({
      address: z.string(),
      org: z.string(),
      effect: z.int(),
      state: z.enum(['failed', 'conflict']),
      made: z.boolean(),
      error: z.string(),
    }) satisfies z.ZodType<AccountNotMadePayload>,
  },
  'directory-parked': {
    1: z.strictObject({
      effect: z.int(),
      kind: z.string(),
      address: z.string(),
      state: z.enum(['failed', 'conflict']),
      attempts: z.int(),
      error: z.string().nullable(),
    }) satisfies z.ZodType<DirectoryParkedPayload>,
  },
  'directory-drift': {
    1: z.strictObject({
      total: z.int(),
      new: z.int(),
      settled: z.int(),
      counts: z.strictObject(
        Object.fromEntries(DRIFT_KINDS.map((k) => [k, z.int()])) as Record<
          (typeof DRIFT_KINDS)[number],
          z.ZodInt
        >,
      ),
    }) satisfies z.ZodType<DirectoryDriftPayload>,
  },
};

/**
 * A stored notification that this build cannot read: an unknown kind or version, or a payload
 * not of its kind's type. The message names the kind, the version and the keys at fault, never
 * their values (which may be personal).
 */
export class NotificationDecodeError extends Error {
  override readonly name = 'NotificationDecodeError';
  constructor(
    readonly kind: string,
    readonly version: number,
    problem: string,
  ) {
    super(`Stored notification "${kind}" (payload version ${version}) cannot be read: ${problem}`);
  }
}

const where = (path: readonly PropertyKey[]) =>
  path.length === 0 ? 'payload' : `payload.${path.map((p) => String(p)).join('.')}`;

/** A missing key says so, not zod's "received undefined": the text reaches the operators' channel. */
const missing: z.core.$ZodErrorMap = (issue) =>
  issue.code === 'invalid_type' && issue.input === undefined
    ? `missing (expected ${issue.expected})`
    : undefined;

/** zod's issues, one per key: "payload.items.0.dueAt: missing (expected string); payload.when: unexpected key". */
const describeIssues = (issues: readonly z.core.$ZodIssue[]): string =>
  issues
    .flatMap((i) =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((key) => `${where([...i.path, key])}: unexpected key`)
        : [`${where(i.path)}: ${i.message}`],
    )
    .join('; ');

/** Reads a stored row's kind, payload version and payload as the notification it is, or throws. */
export function decodeNotification(kind: string, version: number, payload: unknown): NotificationContent {
  if (!isNotificationKind(kind)) {
    throw new NotificationDecodeError(kind, version, 'unknown kind');
  }
  const schema = DECODERS[kind][version];
  if (!schema) {
    throw new NotificationDecodeError(
      kind,
      version,
      `unknown payload version (this build writes version ${PAYLOAD_VERSIONS[kind]})`,
    );
  }
  const result = schema.safeParse(payload, { error: missing });
  if (!result.success) {
    throw new NotificationDecodeError(kind, version, describeIssues(result.error.issues));
  }
  // DECODERS[kind] yields NotificationPayload<typeof kind>; TypeScript cannot pair the two itself.
  return { kind, payload: result.data } as NotificationContent;
}

/** `decodeNotification` as a value: the notification, or the error saying why the row cannot be read. */
export function tryDecodeNotification(
  kind: string,
  version: number,
  payload: unknown,
): { ok: true; notification: NotificationContent } | { ok: false; error: NotificationDecodeError } {
  try {
    return { ok: true, notification: decodeNotification(kind, version, payload) };
  } catch (e) {
    if (e instanceof NotificationDecodeError) return { ok: false, error: e };
    throw e;
  }
}
