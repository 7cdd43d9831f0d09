import { CLOCKS, type Clock } from './clocks.js';
import type { Effect } from './effects.js';
import type { Notification } from './notifications.js';
import type { Policy } from './policy.js';
import type { Status } from './status.js';
import { type AccountChanges, ENDS_ABSENCE, TRANSITIONS } from './transitions.js';

/** A change the daily sweep makes when a clock runs out. */
export type SweepStep =
  | 'grace-ended'
  | 'inactivity'
  | 'pending-expired'
  | 'disabled-ended'
  | 'retention-ended'
  | 'purge';

/**
 * What happens to every account whose clock has run out. The sweep changes these accounts a
 * batch at a time with one UPDATE, so the fields set depend on the time only, never on the row.
 */
export interface Lapse {
  step: SweepStep;
  /** The clock whose deadline selects the accounts (its status is `from`). */
  clock: Clock;
  from: Status;
  to: Status;
  /** The audit action. */
  action: string;
  /** How the sweep's report counts it: "leavers past grace → inactive". */
  label: string;
  set(now: Date): AccountChanges;
  reason(policy: Policy): string;
  /** Whether the change closes the account's open transfer request (it can never complete now). */
  endsTransfers: boolean;
  /** The holder's notice of the change; none for a purge (the account is gone). */
  notice(account: { address: string; org: string }, policy: Policy): Notification[];
  /** What the directory must do for each account that lapsed. */
  effects(account: { address: string }): Effect[];
}

const statusChange =
  (step: Exclude<SweepStep, 'purge'>, reason: (policy: Policy) => string): Lapse['notice'] =>
  (account, policy) => [
    {
      kind: 'status-change',
      audience: { type: 'holder', address: account.address },
      payload: {
        address: account.address,
        org: account.org,
        from: TRANSITIONS[step].from[0],
        to: TRANSITIONS[step].to,
        reason: reason(policy),
      },
    },
  ];

const graceReason = (p: Policy) => `grace period of ${p.graceDays} days ended with no joiner`;
const inactivityReason = (p: Policy) => `no login or sent email for ${p.inactivityDays} days`;
const retentionReason = (p: Policy) => `inactive for ${p.retentionDays} days without reactivation`;
const pendingReason = (p: Policy) => `first login not completed within ${p.pendingDays} days of creation`;
const disabledReason = (p: Policy) => `disabled for ${p.disabledRetentionDays} days without being enabled`;

/** The sweep's changes, in the order it makes them. */
export const LAPSES: readonly Lapse[] = [
  {
    step: 'grace-ended',
    label: 'leavers past grace → inactive',
    clock: CLOCKS.grace,
    from: TRANSITIONS['grace-ended'].from[0],
    to: TRANSITIONS['grace-ended'].to,
    action: TRANSITIONS['grace-ended'].action,
    set: (now) => ({
      status: TRANSITIONS['grace-ended'].to,
      inactiveSince: now,
      graceExpiresAt: null,
      statusChangedAt: now,
    }),
    reason: graceReason,
    endsTransfers: true,
    notice: statusChange('grace-ended', graceReason),
    effects: ({ address }) => [{ kind: 'disable', address }],
  },
  {
    step: 'inactivity',
    label: 'idle accounts → inactive',
    clock: CLOCKS.inactivity,
    from: TRANSITIONS.inactivity.from[0],
    to: TRANSITIONS.inactivity.to,
    action: TRANSITIONS.inactivity.action,
    set: (now) => ({ status: TRANSITIONS.inactivity.to, inactiveSince: now, statusChangedAt: now }),
    reason: inactivityReason,
    endsTransfers: true,
    notice: statusChange('inactivity', inactivityReason),
    effects: ({ address }) => [{ kind: 'disable', address }],
  },
  {
    step: 'pending-expired',
    label: 'never used → inactive',
    clock: CLOCKS.pending,
    from: TRANSITIONS['pending-expired'].from[0],
    to: TRANSITIONS['pending-expired'].to,
    action: TRANSITIONS['pending-expired'].action,
    set: (now) => ({ status: TRANSITIONS['pending-expired'].to, inactiveSince: now, statusChangedAt: now }),
    reason: pendingReason,
    endsTransfers: true,
    notice: statusChange('pending-expired', pendingReason),
    effects: ({ address }) => [{ kind: 'disable', address }],
  },
  {
    step: 'disabled-ended',
    label: 'disabled past retention → deleted',
    clock: CLOCKS.disabled,
    from: TRANSITIONS['disabled-ended'].from[0],
    to: TRANSITIONS['disabled-ended'].to,
    action: TRANSITIONS['disabled-ended'].action,
    set: (now) => ({
      status: TRANSITIONS['disabled-ended'].to,
      deletedAt: now,
      statusChangedAt: now,
      ...ENDS_ABSENCE,
    }),
    reason: disabledReason,
    endsTransfers: true,
    notice: statusChange('disabled-ended', disabledReason),
    effects: ({ address }) => [{ kind: 'delete', address }],
  },
  {
    step: 'retention-ended',
    label: 'inactive past retention → deleted',
    clock: CLOCKS.retention,
    from: TRANSITIONS['retention-ended'].from[0],
    to: TRANSITIONS['retention-ended'].to,
    action: TRANSITIONS['retention-ended'].action,
    set: (now) => ({ status: TRANSITIONS['retention-ended'].to, deletedAt: now, statusChangedAt: now }),
    reason: retentionReason,
    endsTransfers: false,
    notice: statusChange('retention-ended', retentionReason),
    effects: ({ address }) => [{ kind: 'delete', address }],
  },
  {
    // Not a transition: the account stays deleted, its personal details erased, its address reserved.
    step: 'purge',
    label: 'deleted past restore window → purged',
    clock: CLOCKS.restore,
    from: CLOCKS.restore.status,
    to: CLOCKS.restore.status,
    action: 'purge',
    set: (now) => ({
      purgedAt: now,
      given: null,
      family: null,
      dob: null,
      mobileHash: null,
      mobileMasked: null,
      regBody: null,
      regNumber: null,
    }),
    reason: (p) => `restore window of ${p.restoreDays} days ended: personal details erased, address reserved`,
    endsTransfers: false,
    notice: () => [],
    effects: ({ address }) => [{ kind: 'purge', address }],
  },
];

/** The clocks the sweep warns about before they run out (the others end without a warning). */
export const WARNED_CLOCKS = [
  CLOCKS.grace,
  CLOCKS.inactivity,
  CLOCKS.pending,
  CLOCKS.disabled,
  CLOCKS['disabled-until'],
] as const;
export type WarnedClock = (typeof WARNED_CLOCKS)[number]['name'];
export const WARNED_CLOCK_NAMES = WARNED_CLOCKS.map((c) => c.name) as [WarnedClock, ...WarnedClock[]];
