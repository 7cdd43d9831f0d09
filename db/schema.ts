import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  date,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { Audience } from '../src/domain/notifications.js';
import { DSPT_STATUSES, ORG_KINDS } from '../src/domain/organisation.js';
import { PLATFORMS } from '../src/domain/platform.js';
import { ROLE_NAMES } from '../src/domain/roles.js';
import { STATUSES } from '../src/domain/status.js';

export type { Audience };

/** The five statuses of DESIGN.md section 2, spelled as every output spells them. */
export const accountStatus = pgEnum('account_status', STATUSES);
/** A person's own account, or a site's shared mailbox. */
export const accountKind = pgEnum('account_kind', ['person', 'shared']);
/** `gp-locum` is the NAS-managed organisation that homes freelance GP locums. */
export const orgKind = pgEnum('org_kind', ORG_KINDS);
export const dsptStatus = pgEnum('dspt_status', DSPT_STATUSES);
export const roleName = pgEnum('role_name', ROLE_NAMES);
export const platform = pgEnum('platform', PLATFORMS);
export const transferState = pgEnum('transfer_state', ['open', 'completed', 'superseded']);
export const outboxState = pgEnum('outbox_state', ['pending', 'delivered', 'failed']);
export const warningClock = pgEnum('warning_clock', [
  'grace',
  'inactivity',
  'pending',
  'disabled',
  'disabled-until',
]);

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const organisations = pgTable('organisations', {
  ods: text('ods').primaryKey(),
  name: text('name').notNull(),
  kind: orgKind('kind').notNull(),
  dspt: dsptStatus('dspt'),
  dsptUpdatedAt: at('dspt_updated_at'),
  createdAt: at('created_at').notNull(),
  /** The directory group its accounts belong to (an Entra group's object id), from `org group`. */
  directoryGroup: text('directory_group'),
  /** A care home's CQC location ID ("1-" then digits), given at `site register`; null for every other kind. */
  cqcLocation: text('cqc_location'),
});

export const accounts = pgTable(
  'accounts',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    /** Unique for ever: rows are never deleted, so an address is never reused. */
    address: text('address').notNull(),
    kind: accountKind('kind').notNull(),
    status: accountStatus('status').notNull(),
    homeOrg: text('home_org')
      .notNull()
      .references(() => organisations.ods),
    given: text('given'),
    family: text('family'),
    dob: date('dob', { mode: 'string' }),
    /** HMAC of the E.164 number: lets duplicates match without keeping the number. */
    mobileHash: text('mobile_hash'),
    /** e.g. `07*** ***123`: enough for a helpdesk to recognise, never the full number. */
    mobileMasked: text('mobile_masked'),
    regBody: text('reg_body'),
    regNumber: text('reg_number'),
    credentialRoute: text('credential_route'),
    createdAt: at('created_at').notNull(),
    statusChangedAt: at('status_changed_at').notNull(),
    firstLoginAt: at('first_login_at'),
    mfaRegistered: boolean('mfa_registered').notNull().default(false),
    lastActivityAt: at('last_activity_at'),
    graceExpiresAt: at('grace_expires_at'),
    inactiveSince: at('inactive_since'),
    deletedAt: at('deleted_at'),
    purgedAt: at('purged_at'),
    /** While disabled (long-term absence): since when, why, and the return date if one was given. */
    disabledAt: at('disabled_at'),
    disabledReason: text('disabled_reason'),
    disabledUntil: at('disabled_until'),
    /** When the holder was last reminded (pending accounts' reminders, the "Remind" button). */
    lastRemindedAt: at('last_reminded_at'),
    /** A leaving date from the HR feed: the sweep marks the leaver then, and grace starts then. */
    leavesAt: at('leaves_at'),
    /** The account's object id in the organisation's directory, once the directory has made it. */
    directoryId: text('directory_id'),
  },
  (t) => [
    uniqueIndex('accounts_address_key').on(t.address),
    index('accounts_home_status_idx').on(t.homeOrg, t.status),
    // One partial index per clock, so a sweep reads only the accounts that are due.
    index('accounts_grace_due_idx').on(t.graceExpiresAt).where(sql`status = 'leaver'`),
    index('accounts_activity_due_idx').on(t.lastActivityAt).where(sql`status = 'active' and kind = 'person'`),
    index('accounts_retention_due_idx').on(t.inactiveSince).where(sql`status = 'inactive'`),
    index('accounts_restore_due_idx').on(t.deletedAt).where(sql`status = 'deleted' and purged_at is null`),
    index('accounts_pending_idx').on(t.createdAt).where(sql`status = 'pending'`),
    // Set only while disabled; not "status = 'disabled'": a new enum value cannot be used in the
    // transaction that adds it, and every migration runs in one.
    index('accounts_disabled_due_idx').on(t.disabledAt).where(sql`disabled_at is not null`),
    index('accounts_disabled_until_idx').on(t.disabledUntil).where(sql`disabled_until is not null`),
    index('accounts_leaves_idx').on(t.leavesAt).where(sql`leaves_at is not null`),
    index('accounts_reg_idx').on(t.regBody, t.regNumber),
    index('accounts_dob_idx').on(t.dob),
    index('accounts_mobile_idx').on(t.mobileHash),
  ],
);

export const roles = pgTable(
  'roles',
  {
    address: text('address').notNull(),
    role: roleName('role').notNull(),
    /** Empty string for nas-admin, which has no organisation (a primary key cannot hold NULL). */
    org: text('org').notNull().default(''),
    grantedBy: text('granted_by').notNull(),
    grantedAt: at('granted_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.address, t.role, t.org] }), index('roles_org_idx').on(t.org, t.role)],
);

export const transferRequests = pgTable(
  'transfer_requests',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    accountId: integer('account_id')
      .notNull()
      .references(() => accounts.id),
    fromOrg: text('from_org').notNull(),
    toOrg: text('to_org').notNull(),
    requestedBy: text('requested_by').notNull(),
    requestedAt: at('requested_at').notNull(),
    leaverAt: at('leaver_at'),
    acceptedAt: at('accepted_at'),
    acceptedBy: text('accepted_by'),
    completedAt: at('completed_at'),
    state: transferState('state').notNull().default('open'),
  },
  (t) => [uniqueIndex('transfer_one_open_idx').on(t.accountId).where(sql`state = 'open'`)],
);

/** Append-only: a trigger in the migrations refuses UPDATE, DELETE and TRUNCATE. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    at: at('at').notNull(),
    actor: text('actor').notNull(),
    platform: platform('platform').notNull(),
    action: text('action').notNull(),
    address: text('address'),
    org: text('org'),
    fromStatus: accountStatus('from_status'),
    toStatus: accountStatus('to_status'),
    reason: text('reason'),
    details: jsonb('details').$type<Record<string, unknown>>(),
  },
  (t) => [
    index('audit_address_idx').on(t.address, t.id),
    // `export audit` pages through a date range by (at, id): a keyset, so each page is one index range.
    index('audit_at_idx').on(t.at, t.id),
  ],
);

/** Notifications written in the same transaction as the change; delivered by workers (later issue). */
export const outbox = pgTable(
  'outbox',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    createdAt: at('created_at').notNull(),
    kind: text('kind').notNull(),
    audience: jsonb('audience').$type<Audience>().notNull(),
    /** As stored: read it with decodeNotification (kind, payload version, payload), never directly. */
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    /** The payload's shape version for its kind (PAYLOAD_VERSIONS), so rows written by older deploys still read. */
    payloadVersion: integer('payload_version').notNull().default(1),
    state: outboxState('state').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    availableAt: at('available_at').notNull(),
    deliveredAt: at('delivered_at'),
    lastError: text('last_error'),
    /** The command or job run that queued it: its log lines and the delivery's share this id. */
    correlationId: text('correlation_id'),
  },
  (t) => [index('outbox_pending_idx').on(t.availableAt).where(sql`state = 'pending'`)],
);

/** One row per warning queued: the key that makes a warning go once per clock cycle and threshold. */
export const warningsSent = pgTable(
  'warnings_sent',
  {
    accountId: integer('account_id')
      .notNull()
      .references(() => accounts.id),
    clock: warningClock('clock').notNull(),
    /** The deadline the warning was about: a restarted clock has a new one, and warns afresh. */
    dueAt: at('due_at').notNull(),
    thresholdDays: integer('threshold_days').notNull(),
    queuedAt: at('queued_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.clock, t.dueAt, t.thresholdDays] })],
);

/**
 * node-cron RunCoordinator claims: one row per scheduled fire, claimed by one process, which
 * renews `lease_until` while the job runs. An open claim whose lease has passed is taken over.
 */
export const cronRuns = pgTable(
  'cron_runs',
  {
    /** `<job name>:<fire time, ISO>` as node-cron builds it; `catch-up-sweep:<hour>` for a catch-up. */
    key: text('key').primaryKey(),
    claimedBy: text('claimed_by').notNull(),
    claimedAt: at('claimed_at').notNull(),
    /** Null on rows claimed before leases existed: they lapse one lease after claimed_at. */
    leaseUntil: at('lease_until'),
    completedAt: at('completed_at'),
  },
  // The periodic look for abandoned runs reads only the open claims.
  (t) => [index('cron_runs_open_idx').on(t.claimedAt).where(sql`completed_at is null`)],
);

/** Installation-wide values created on first start (the key for mobile-number hashes). */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

export const chatPlatform = pgEnum('chat_platform', ['slack', 'teams']);

/**
 * A chat user's verified @nhs.net identity: linked by an administrator (`link @user ADDRESS`)
 * when their chat profile's e-mail is not an @nhs.net address.
 */
export const chatLinks = pgTable(
  'chat_links',
  {
    platform: chatPlatform('platform').notNull(),
    /** Slack team id or Teams tenant id. */
    tenant: text('tenant').notNull(),
    userId: text('user_id').notNull(),
    address: text('address').notNull(),
    linkedBy: text('linked_by').notNull(),
    linkedAt: at('linked_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.platform, t.tenant, t.userId] }),
    index('chat_links_address_idx').on(t.address),
  ],
);

/** Where an organisation's alerts go: channels that subscribed with `subscribe --org ODS`. */
export const subscriptions = pgTable(
  'subscriptions',
  {
    platform: chatPlatform('platform').notNull(),
    tenant: text('tenant').notNull(),
    channelId: text('channel_id').notNull(),
    org: text('org')
      .notNull()
      .references(() => organisations.ods),
    subscribedBy: text('subscribed_by').notNull(),
    subscribedAt: at('subscribed_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.platform, t.tenant, t.channelId, t.org] }),
    index('subscriptions_org_idx').on(t.org),
  ],
);

/** Platform deliveries already handled (event ids, action ids): a retried delivery has one effect. */
export const handledDeliveries = pgTable('handled_deliveries', {
  key: text('key').primaryKey(),
  handledAt: at('handled_at').notNull(),
});

/**
 * Teams conversations the bot is installed in or was spoken to in: the conversation reference
 * proactive messages need (continueConversationAsync), kept across restarts.
 */
export const teamsConversations = pgTable(
  'teams_conversations',
  {
    conversationId: text('conversation_id').primaryKey(),
    tenant: text('tenant').notNull(),
    /** personal, groupChat or channel. */
    conversationType: text('conversation_type').notNull(),
    reference: jsonb('reference').$type<Record<string, unknown>>().notNull(),
    /** For a personal chat: the holder's verified address, so direct warnings can reach them. */
    address: text('address'),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [index('teams_conversations_address_idx').on(t.address).where(sql`conversation_type = 'personal'`)],
);

export const deliveryState = pgEnum('delivery_state', ['pending', 'delivered', 'failed']);

/**
 * One notification to one place (a Slack channel, a Teams channel…): the unit that is delivered
 * exactly once, retried, rate-limited and, after its retry budget, parked as failed.
 */
export const deliveries = pgTable(
  'deliveries',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    outboxId: bigint('outbox_id', { mode: 'number' })
      .notNull()
      .references(() => outbox.id),
    /** `slack:TEAM:CHANNEL`, `teams:TENANT:CONVERSATION`: the rate limit and the order hold per target. */
    target: text('target').notNull(),
    platform: chatPlatform('platform').notNull(),
    tenant: text('tenant').notNull(),
    channelId: text('channel_id').notNull(),
    kind: text('kind').notNull(),
    /** The outbox row's payload and its version, copied: decoded again before each send. */
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    payloadVersion: integer('payload_version').notNull().default(1),
    /** A long digest is several messages: each part is delivered, and counted, on its own. */
    part: integer('part').notNull().default(0),
    state: deliveryState('state').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    availableAt: at('available_at').notNull(),
    leasedUntil: at('leased_until'),
    deliveredAt: at('delivered_at'),
    lastError: text('last_error'),
    createdAt: at('created_at').notNull(),
    correlationId: text('correlation_id'),
  },
  (t) => [
    uniqueIndex('deliveries_once_idx').on(t.outboxId, t.target, t.part),
    index('deliveries_pending_idx').on(t.target, t.id).where(sql`state = 'pending'`),
    index('deliveries_failed_idx').on(t.id).where(sql`state = 'failed'`),
  ],
);

/** When a target may next be written to: platforms allow about one message a second per channel. */
export const deliveryTargets = pgTable('delivery_targets', {
  target: text('target').primaryKey(),
  nextSendAt: at('next_send_at').notNull(),
});

export const starterState = pgEnum('starter_state', ['scheduled', 'provisioned']);

/**
 * Starters from the HR feed, remembered by organisation and employee number, so a file imported
 * twice (or next week's overlapping extract) creates nothing twice. A row waits as `scheduled`
 * until its provisioning day (a policy number of days before the start date), then the sweep
 * provisions it with every rule of `provision`. The mobile number of a waiting SMS starter is
 * kept sealed (AES-256-GCM, key outside the database: HR_DATA_KEY) and erased once used.
 */
export const hrStarters = pgTable(
  'hr_starters',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    org: text('org')
      .notNull()
      .references(() => organisations.ods),
    employeeNumber: text('employee_number').notNull(),
    state: starterState('state').notNull(),
    /** The account made for them (or, for a starter the bot found already had one, null). */
    address: text('address'),
    given: text('given'),
    family: text('family'),
    dob: date('dob', { mode: 'string' }),
    regBody: text('reg_body'),
    regNumber: text('reg_number'),
    route: text('route').notNull(),
    mobileMasked: text('mobile_masked'),
    mobileSealed: text('mobile_sealed'),
    startDate: date('start_date', { mode: 'string' }).notNull(),
    provisionOn: date('provision_on', { mode: 'string' }).notNull(),
    importedAt: at('imported_at').notNull(),
    importedBy: text('imported_by').notNull(),
    provisionedAt: at('provisioned_at'),
    /** Why the sweep could not provision it yet (a duplicate found since, the site full…). */
    lastError: text('last_error'),
  },
  (t) => [
    uniqueIndex('hr_starters_employee_idx').on(t.org, t.employeeNumber),
    index('hr_starters_employee_number_idx').on(t.employeeNumber),
    index('hr_starters_due_idx').on(t.provisionOn).where(sql`state = 'scheduled'`),
  ],
);

export * from './directory-schema.js';
