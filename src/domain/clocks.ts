import type { Policy } from './policy.js';
import type { Status } from './status.js';
import { addDays } from './time.js';

/**
 * Every deadline an account can run against, defined once. A clock runs on accounts in one
 * status, counts from one field of the account, and ends a number of policy days later. The same
 * definition gives the deadline of one account here, and the SQL predicate over all of them in
 * `src/service/clock-sql.ts`, so the sweep, `expiring`, `status` and the refusals always agree.
 */
export type ClockName =
  | 'grace'
  | 'inactivity'
  | 'pending'
  | 'disabled'
  | 'disabled-until'
  | 'retention'
  | 'restore';

/** The account fields a deadline counts from (named as the accounts table's columns are). */
export type ClockField =
  | 'graceExpiresAt'
  | 'lastActivityAt'
  | 'createdAt'
  | 'disabledAt'
  | 'disabledUntil'
  | 'inactiveSince'
  | 'deletedAt';

export interface Clock {
  readonly name: ClockName;
  /** The status of the accounts this clock runs on. */
  readonly status: Status;
  /** Runs on people's accounts only: a site's shared mailbox has no activity clock. */
  readonly personsOnly: boolean;
  /** Runs only until the account is purged. */
  readonly unpurgedOnly: boolean;
  /** The field the deadline counts from. */
  readonly field: ClockField;
  /** Days from that field to the deadline (0 when the field holds the deadline itself). */
  days(policy: Policy): number;
  /** Days before the deadline that warnings go out, most urgent last; empty: it ends unwarned. */
  warningDays(policy: Policy): readonly number[];
}

const none = (): readonly number[] => [];

export const CLOCKS: { readonly [N in ClockName]: Clock & { readonly name: N } } = {
  /** A leaver's grace period: the deadline is stored when they are marked. */
  grace: {
    name: 'grace',
    status: 'leaver',
    personsOnly: false,
    unpurgedOnly: false,
    field: 'graceExpiresAt',
    days: () => 0,
    warningDays: (p) => p.warningDays,
  },
  /** The 30-day "use it or lose it" rule. */
  inactivity: {
    name: 'inactivity',
    status: 'active',
    personsOnly: true,
    unpurgedOnly: false,
    field: 'lastActivityAt',
    days: (p) => p.inactivityDays,
    warningDays: (p) => p.warningDays,
  },
  /** A new account never used: first login not completed within `pendingDays` of its creation. */
  pending: {
    name: 'pending',
    status: 'pending',
    personsOnly: true,
    unpurgedOnly: false,
    field: 'createdAt',
    days: (p) => p.pendingDays,
    warningDays: (p) => p.warningDays,
  },
  /** How long a disabled account (long-term absence) is kept before it is deleted. */
  disabled: {
    name: 'disabled',
    status: 'disabled',
    personsOnly: true,
    unpurgedOnly: false,
    field: 'disabledAt',
    days: (p) => p.disabledRetentionDays,
    warningDays: (p) => p.disabledWarningDays,
  },
  /**
   * The return date given with `disable --until`: nothing changes on it by itself (the holder may
   * not be back), but the holder and the channels are warned, so someone enables or extends it.
   */
  'disabled-until': {
    name: 'disabled-until',
    status: 'disabled',
    personsOnly: true,
    unpurgedOnly: false,
    field: 'disabledUntil',
    days: () => 0,
    warningDays: (p) => p.disabledWarningDays,
  },
  /** How long an inactive account is kept before it is deleted. */
  retention: {
    name: 'retention',
    status: 'inactive',
    personsOnly: false,
    unpurgedOnly: false,
    field: 'inactiveSince',
    days: (p) => p.retentionDays,
    warningDays: none,
  },
  /** How long NAS can restore a deleted account before it is purged. */
  restore: {
    name: 'restore',
    status: 'deleted',
    personsOnly: false,
    unpurgedOnly: true,
    field: 'deletedAt',
    days: (p) => p.restoreDays,
    warningDays: none,
  },
};

/** The clocks `expiring` lists, in the order it reads them. */
export const EXPIRING_CLOCKS = [
  CLOCKS.grace,
  CLOCKS.inactivity,
  CLOCKS.pending,
  CLOCKS.disabled,
  CLOCKS['disabled-until'],
  CLOCKS.retention,
] as const;
export type ExpiryReason = (typeof EXPIRING_CLOCKS)[number]['name'];

/**
 * Clocks whose deadline changes nothing by itself (a return date): once past, `expiring` drops
 * them rather than keep an overdue line ahead of the deadlines that still bite.
 */
export const REMINDS_ONLY: readonly ClockName[] = ['disabled-until'];

/** What a clock reads of an account. */
export interface ClockFacts {
  status: Status;
  kind: 'person' | 'shared';
  purgedAt: Date | null;
  graceExpiresAt: Date | null;
  lastActivityAt: Date | null;
  createdAt: Date;
  disabledAt: Date | null;
  disabledUntil: Date | null;
  inactiveSince: Date | null;
  deletedAt: Date | null;
}

/** True when the clock runs on this account (its status, kind and purge state fit). */
export const runsOn = (clock: Clock, account: ClockFacts): boolean =>
  account.status === clock.status &&
  (!clock.personsOnly || account.kind === 'person') &&
  (!clock.unpurgedOnly || account.purgedAt === null);

/** The clock's deadline for this account, or null when the clock does not run on it. */
export function deadline(clock: Clock, account: ClockFacts, policy: Policy): Date | null {
  if (!runsOn(clock, account)) return null;
  const start = account[clock.field];
  return start ? addDays(start, clock.days(policy)) : null;
}

/** The deadline a clock gives to a start (the field's value): for a row read without the account. */
export const deadlineFrom = (clock: Clock, start: Date, policy: Policy): Date =>
  addDays(start, clock.days(policy));

/**
 * The latest value of the clock's field whose deadline falls at or before `by`: what the SQL
 * predicate compares the column with, so the database can use the clock's partial index.
 */
export const latestStart = (clock: Clock, policy: Policy, by: Date): Date => addDays(by, -clock.days(policy));

/** True when the clock runs on the account and its deadline has come by `now`. */
export function hasEnded(clock: Clock, account: ClockFacts, policy: Policy, now: Date): boolean {
  const due = deadline(clock, account, policy);
  return due !== null && now.getTime() >= due.getTime();
}

/** A new leaver's grace deadline, stored on the account as it is marked. */
export const graceEnds = (policy: Policy, now: Date): Date => addDays(now, policy.graceDays);
