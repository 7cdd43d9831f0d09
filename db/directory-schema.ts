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
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import type { DriftDetail, DriftKind } from '../src/domain/drift.js';
import type { Effect } from '../src/domain/effects.js';
import type { Audience } from '../src/domain/notifications.js';
import { accounts, organisations } from './schema.js';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * pending: waiting to be applied; applied: the directory has it; failed: parked after a permanent
 * failure or the retry budget; conflict: the directory holds something the bot did not make.
 */
export const effectState = pgEnum('effect_state', ['pending', 'applied', 'failed', 'conflict']);

/**
 * Directory effects (src/domain/effects.ts), queued in the transaction of the change that caused
 * them and applied after commit, oldest first per account. They outlive deploys, so the payload
 * carries a version as the outbox's does.
 */
export const directoryEffects = pgTable(
  'directory_effects',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    accountId: integer('account_id')
      .notNull()
      .references(() => accounts.id),
    kind: text('kind').$type<Effect['kind']>().notNull(),
    payload: jsonb('payload').$type<Effect>().notNull(),
    payloadVersion: integer('payload_version').notNull().default(1),
    state: effectState('state').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /**
     * Steps of the effect the directory has done (e.g. a disable's sign-in blocked before its
     * sessions were revoked), as the last failed attempt reported: a retry resumes after them.
     */
    step: integer('step').notNull().default(0),
    /**
     * Set by `directory retry ID --adopt`: the user already holding the address is this person,
     * so the create takes it over (marks it as the bot's) rather than stopping at a conflict.
     */
    adopt: boolean('adopt').notNull().default(false),
    availableAt: at('available_at').notNull(),
    /** A worker's claim: another may take the effect once this has passed. */
    leasedUntil: at('leased_until'),
    lastError: text('last_error'),
    createdAt: at('created_at').notNull(),
    appliedAt: at('applied_at'),
    /** The command or job run that queued it. */
    correlationId: text('correlation_id'),
  },
  (t) => [
    index('directory_effects_account_idx').on(t.accountId, t.id),
    index('directory_effects_pending_idx').on(t.availableAt).where(sql`state = 'pending'`),
  ],
);

/**
 * Steps the directory cannot take and a person must (Graph cannot make an Exchange shared
 * mailbox): recorded with what to run, shown until someone marks them done.
 */
export const manualSteps = pgTable(
  'manual_steps',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    org: text('org')
      .notNull()
      .references(() => organisations.ods),
    /** The account the step makes (a site's shared mailbox). */
    address: text('address').notNull(),
    kind: text('kind').$type<'shared-mailbox'>().notNull(),
    /** What to run, for whoever takes the step. */
    instructions: text('instructions').notNull(),
    createdAt: at('created_at').notNull(),
    doneAt: at('done_at'),
    doneBy: text('done_by'),
  },
  (t) => [index('manual_steps_open_idx').on(t.org).where(sql`done_at is null`)],
);

/**
 * When the directory may next be written to, per directory: a throttled answer (429 with
 * Retry-After) holds every replica's worker back until then, so the write budget is shared
 * rather than hammered.
 */
export const directoryGate = pgTable('directory_gate', {
  directory: text('directory').primaryKey(),
  availableAt: at('available_at').notNull(),
  /**
   * The pacer: the time by which the writes already claimed, by every replica, have used their
   * share of the write rate. Each pass moves it on by its own writes ÷ the rate.
   */
  nextWriteAt: at('next_write_at'),
});

/**
 * A new user's credential, waiting for the directory: it is delivered only once the directory has
 * the user (the worker makes it, sets it and hands it to delivery, and it is never stored). What
 * delivery needs meanwhile is kept here: the mobile number sealed under HR_DATA_KEY, erased once
 * sent, and whom to tell in chat when the account exists or why it could not be made.
 */
export const credentialDeliveries = pgTable('credential_deliveries', {
  /** The create-user effect whose success sends the credential. */
  effectId: bigint('effect_id', { mode: 'number' })
    .primaryKey()
    .references(() => directoryEffects.id),
  accountId: integer('account_id')
    .notNull()
    .references(() => accounts.id),
  route: text('route').$type<'sms' | 'envelope'>().notNull(),
  /** `v1.…` sealed by HR_DATA_KEY (src/service/sealed.ts); null once sent, or for an envelope. */
  mobileSealed: text('mobile_sealed'),
  /** The HR start date (YYYY-MM-DD), from which a Temporary Access Pass may be used. */
  startsOn: date('starts_on', { mode: 'string' }),
  /** Whom to tell (the conversation the request came from, or the organisation's channels). */
  notify: jsonb('notify').$type<Audience>().notNull(),
  createdAt: at('created_at').notNull(),
  /** When it was handed to delivery, and the masked recipient delivery reported. */
  sentAt: at('sent_at'),
  recipient: text('recipient'),
});

/**
 * The directory's users as the last rounds of `/users/delta` showed them (issue 15): a change
 * round gives only what changed, so drift compares the bot with this mirror, not with the round.
 * Written by `directory import` and the drift round; never read to change an account.
 */
export const directoryUsers = pgTable(
  'directory_users',
  {
    /** The directory's object id. */
    id: text('id').primaryKey(),
    userPrincipalName: text('user_principal_name'),
    /** The userPrincipalName as an @nhs.net address the bot could hold, or null. */
    address: text('address'),
    given: text('given'),
    surname: text('surname'),
    displayName: text('display_name'),
    /** Null when the directory never said. */
    accountEnabled: boolean('account_enabled'),
    /** `changed`: in the directory's deleted items (restorable); `deleted`: gone for good. */
    removed: text('removed').$type<'changed' | 'deleted'>(),
    removedAt: at('removed_at'),
    /** When a round last showed it changed (or first showed it). */
    changedAt: at('changed_at').notNull(),
  },
  (t) => [index('directory_users_address_idx').on(t.address)],
);

/**
 * The last drift report: one row a line, replaced by each drift round in one transaction. `key`
 * (kind and address, or directory id) is what persists between runs: `first_seen_at` is kept for
 * a line that persists, and a change in the set of keys is what tells the operators.
 */
export const directoryDrift = pgTable(
  'directory_drift',
  {
    key: text('key').primaryKey(),
    kind: text('kind').$type<DriftKind>().notNull(),
    /** The bot's address, or the directory's for a user the bot does not have. */
    address: text('address'),
    directoryId: text('directory_id'),
    /** The account's home organisation, or the one organisation whose group holds the user. */
    org: text('org'),
    detail: jsonb('detail').$type<DriftDetail>().notNull(),
    firstSeenAt: at('first_seen_at').notNull(),
    seenAt: at('seen_at').notNull(),
  },
  (t) => [index('directory_drift_org_idx').on(t.org)],
);
