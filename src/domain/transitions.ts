import { CLOCKS, type ClockFacts, deadline, graceEnds, hasEnded } from './clocks.js';
import type { Effect } from './effects.js';
import { type DomainError, invalid, refused } from './errors.js';
import {
  type GpLocumRoute,
  gpLocumClaim,
  gpLocumPayload,
  gpLocumReason,
  refuseGpLocumLeaver,
} from './gp-locum.js';
import type { Notification } from './notifications.js';
import type { Organisation } from './organisation.js';
import { mfaRequired, type Policy } from './policy.js';
import type { Status, TransitionCause } from './status.js';
import { addDays, isoDate } from './time.js';

/**
 * The lifecycle's one table: for each cause, the statuses it starts from, the status it ends in
 * and its audit action (DESIGN.md section 2, "Transitions"). The deciders below and the sweep's
 * lapses (`lapses.ts`) read from/to here; nothing outside the domain names a from or a to.
 */
export const TRANSITIONS = {
  'first-login': { from: ['pending'], to: 'active', action: 'first-login' },
  leaver: { from: ['pending', 'active', 'disabled'], to: 'leaver', action: 'leaver' },
  // To 'pending' instead when the holder's first login is still due: see `joinerStatus`.
  joiner: { from: ['leaver'], to: 'active', action: 'joiner' },
  'grace-ended': { from: ['leaver'], to: 'inactive', action: 'grace-ended' },
  inactivity: { from: ['active'], to: 'inactive', action: 'inactivity' },
  'pending-expired': { from: ['pending'], to: 'inactive', action: 'pending-expired' },
  disable: { from: ['active'], to: 'disabled', action: 'disable' },
  enable: { from: ['disabled'], to: 'active', action: 'enable' },
  'disabled-ended': { from: ['disabled'], to: 'deleted', action: 'disabled-ended' },
  reactivate: { from: ['inactive'], to: 'active', action: 'reactivate' },
  'retention-ended': { from: ['inactive'], to: 'deleted', action: 'retention-ended' },
  restore: { from: ['deleted'], to: 'active', action: 'restore' },
} as const satisfies Record<TransitionCause, { from: readonly Status[]; to: Status; action: string }>;

/** Leaving `disabled` for any status ends the absence: its fields go with it. */
export const ENDS_ABSENCE = { disabledAt: null, disabledReason: null, disabledUntil: null } as const;

/** The status an account is created in: a person's waits for first login; a site's shared mailbox is live. */
export const CREATED_STATUS = { person: 'pending', shared: 'active' } as const satisfies Record<
  'person' | 'shared',
  Status
>;

/** Statuses in which an account holds one of a community site's places (SITE_ACCOUNT_LIMIT). */
export const HOLDS_A_PLACE: readonly Status[] = ['pending', 'active', 'leaver'];

/**
 * True when a decision moves an account into one of its site's places (enable, a disabled
 * account's leaver, a reactivation): a full site must make room first.
 */
export const takesAPlace = (decision: Pick<Decision, 'from' | 'to'>): boolean =>
  !HOLDS_A_PLACE.includes(decision.from) && HOLDS_A_PLACE.includes(decision.to);

/** Statuses in which a sign-in counts as activity (the 30-day clock, or a leaver still using it). */
export const RECORDS_ACTIVITY: readonly Status[] = ['active', 'leaver'];

/** What a decision reads of an account (the accounts row satisfies it). */
export interface AccountFacts extends ClockFacts {
  address: string;
  homeOrg: string;
  firstLoginAt: Date | null;
  leavesAt: Date | null;
  statusChangedAt: Date;
  disabledReason: string | null;
}

/** The fields of an account a decision may set, named as the accounts table's columns are. */
export interface AccountChanges {
  status?: Status;
  statusChangedAt?: Date;
  homeOrg?: string;
  firstLoginAt?: Date | null;
  mfaRegistered?: boolean;
  lastActivityAt?: Date | null;
  graceExpiresAt?: Date | null;
  inactiveSince?: Date | null;
  deletedAt?: Date | null;
  purgedAt?: Date | null;
  disabledAt?: Date | null;
  disabledReason?: string | null;
  disabledUntil?: Date | null;
  leavesAt?: Date | null;
  given?: null;
  family?: null;
  dob?: null;
  mobileHash?: null;
  mobileMasked?: null;
  regBody?: null;
  regNumber?: null;
}

/** Everything one transition does, decided before anything is written. */
export interface Decision {
  cause: TransitionCause;
  address: string;
  from: Status;
  to: Status;
  set: AccountChanges;
  audit: { action: string; org: string; reason: string };
  notifications: Notification[];
  effects: Effect[];
}

/** What every decider is told besides the account. */
export interface Now {
  now: Date;
  policy: Policy;
}

/**
 * The decision for `cause`, with the status fields every transition sets. A leaving date from the
 * HR feed stands through the first login; any other change (a leaver, a joiner, a lapse, a
 * reactivation) settles or overtakes it.
 */
function enter(
  cause: TransitionCause,
  account: AccountFacts,
  at: Now,
  parts: Pick<Decision, 'set' | 'notifications' | 'effects'> & { org: string; reason: string; to?: Status },
): Decision {
  const rule = TRANSITIONS[cause];
  if (!(rule.from as readonly Status[]).includes(account.status)) {
    // Every decider refuses first; reaching here is a bug in a decider, not a person's mistake.
    throw new Error(`${cause} cannot start from ${account.status} (${account.address})`);
  }
  const to = parts.to ?? rule.to;
  // An HR leaving date stands through a first login and through an absence (disable, enable).
  const keepsLeavingDate =
    (account.status === 'pending' && to === 'active') || cause === 'disable' || cause === 'enable';
  return {
    cause,
    address: account.address,
    from: account.status,
    to,
    set: {
      ...parts.set,
      status: to,
      statusChangedAt: at.now,
      leavesAt: keepsLeavingDate ? account.leavesAt : null,
    },
    audit: { action: rule.action, org: parts.org, reason: parts.reason },
    notifications: parts.notifications,
    effects: parts.effects,
  };
}

const refuseSharedMailbox = (account: AccountFacts, what: string): DomainError | null =>
  account.kind === 'shared'
    ? refused(
        'SHARED_MAILBOX',
        `${account.address} is a site's shared mailbox, not a person's account, so you cannot ${what} it. It lives as long as the site is registered; contact NAS to change it.`,
      )
    : null;

const orThrow = (...refusals: Array<() => DomainError | null>): void => {
  for (const check of refusals) {
    const refusal = check();
    if (refusal) throw refusal;
  }
};

/** pending → active: the holder changed the temporary password (and registered MFA if required). */
export function decideFirstLogin(
  account: AccountFacts,
  at: Now & {
    home: Organisation;
    mfa: boolean;
    /**
     * When the directory saw the successful sign-in (issue 15): the first login and the activity
     * clock start then, not when the bot noticed. Absent: an administrator's word, now.
     */
    signedInAt?: Date;
  },
): Decision {
  orThrow(
    () =>
      account.status === 'pending'
        ? null
        : refused(
            'NOT_PENDING',
            `${account.address} is ${account.status}, not pending: its first login ${account.firstLoginAt ? `was recorded on ${isoDate(account.firstLoginAt)}` : 'is no longer needed'}. Use "activity ${account.address}" to record a later sign-in.`,
          ),
    () =>
      !at.mfa && mfaRequired(at.policy, at.home.kind)
        ? refused(
            'MFA_REQUIRED',
            `${account.address} cannot become active until MFA is registered: ${at.home.kind} accounts must register Microsoft Authenticator at first login. Once they have, run "first-login ${account.address} --mfa".`,
          )
        : null,
  );
  const signedIn = at.signedInAt ?? at.now;
  const how = at.signedInAt ? `signed in at ${at.signedInAt.toISOString()} (directory)` : 'password changed';
  return enter('first-login', account, at, {
    set: { firstLoginAt: signedIn, mfaRegistered: at.mfa, lastActivityAt: signedIn },
    org: at.home.ods,
    reason: at.mfa ? `${how} and MFA registered` : `${how}; MFA exempt for ${at.home.kind}`,
    notifications: [],
    // The directory saw the sign-in itself: nothing to tell it.
    effects: [],
  });
}

/** True when the account may be marked as a leaver (or given a leaving date). */
export const mayLeave = (account: AccountFacts): boolean =>
  (TRANSITIONS.leaver.from as readonly Status[]).includes(account.status);

/** The refusal for an account that is not one that can leave (already a leaver, or lapsed). */
export function refuseLeaver(account: AccountFacts, now: Date): DomainError | null {
  if (account.status === 'leaver') {
    return refused(
      'ALREADY_LEAVER',
      `${account.address} is already a leaver: the grace period ends on ${isoDate(account.graceExpiresAt ?? now)}. Their new organisation can accept them with "joiner ${account.address} --org ODS".`,
    );
  }
  return mayLeave(account)
    ? null
    : refused(
        'NOT_ACTIVE',
        `${account.address} is ${account.status}, so it cannot be marked as a leaver (only pending, active and disabled accounts can). Nothing was changed.`,
      );
}

/**
 * pending or active → leaver: the grace period starts, and the holder is told. With `gpLocum`,
 * a leaver for the GP-locum route: the NAS GP-locum team is sent a claim card too.
 */
export function decideLeaver(
  account: AccountFacts,
  at: Now & { home: Organisation; gpLocum?: GpLocumRoute | undefined },
): Decision {
  const route = at.gpLocum;
  orThrow(
    () => refuseSharedMailbox(account, 'mark as a leaver'),
    () => (route ? refuseGpLocumLeaver(account, route) : null),
    () => refuseLeaver(account, at.now),
  );
  const graceExpiresAt = graceEnds(at.policy, at.now);
  const wasDisabled = account.status === TRANSITIONS.disable.to;
  return enter('leaver', account, at, {
    // A leaver keeps a usable account through grace, so one who was away has it enabled again.
    set: { graceExpiresAt, ...(wasDisabled ? ENDS_ABSENCE : {}) },
    org: at.home.ods,
    reason: `left ${at.home.ods}; grace period until ${graceExpiresAt.toISOString()}${wasDisabled ? '; was disabled, enabled for the grace period' : ''}${route ? gpLocumReason(route, graceExpiresAt) : ''}`,
    notifications: [
      {
        kind: 'leaver',
        audience: { type: 'holder', address: account.address },
        payload: {
          address: account.address,
          org: at.home.ods,
          graceExpiresAt: graceExpiresAt.toISOString(),
          ...(route ? { gpLocum: gpLocumPayload(route) } : {}),
        },
      },
      ...(route
        ? [gpLocumClaim(account.address, at.home.ods, route, at.policy.graceDays, graceExpiresAt)]
        : []),
    ],
    effects: [
      ...(wasDisabled ? [{ kind: 'enable' as const, address: account.address }] : []),
      { kind: 'mark-leaver', address: account.address, org: at.home.ods, leaveAt: at.now.toISOString() },
    ],
  });
}

/** True when the account is where a joiner or transfer request can find it (not yet a leaver). */
export const awaitsLeaver = (account: AccountFacts): boolean => mayLeave(account);

/**
 * A joiner keeps the account's first-login state: a holder who never completed first login (and
 * so never changed the temporary password or registered MFA) is pending in the new home, not
 * active. Otherwise leaver then joiner would be a way round first login.
 */
export const joinerStatus = (firstLoginAt: Date | null): 'active' | 'pending' =>
  firstLoginAt === null ? 'pending' : 'active';

/**
 * leaver → active in `target` (pending when the first login is still due): same address, same
 * mailbox, the activity clock restarted. `seen` says whether the asker may see the account's
 * current home, which decides how much a refusal tells them.
 */
export function decideJoiner(
  account: AccountFacts,
  at: Now & { home: Organisation; target: Organisation; seen: boolean; note: string | null },
): Decision {
  const { home, target, seen } = at;
  orThrow(
    () => refuseSharedMailbox(account, 'move'),
    () => {
      if (!awaitsLeaver(account)) return null;
      if (!seen) {
        return refused(
          'NOT_A_LEAVER',
          `${account.address} is not a leaver, so it cannot join ${target.ods}. Its current organisation must mark it as a leaver first, or the holder can ask with "transfer --to ${target.ods}".`,
        );
      }
      const since = account.homeOrg === target.ods ? ` at ${target.ods}` : ` at ${home.name} (${home.ods})`;
      const became =
        account.status === 'active' ? ` (it became active on ${isoDate(account.statusChangedAt)})` : '';
      return refused(
        'NOT_A_LEAVER',
        `${account.address} is ${account.status}${since}, not a leaver, so it cannot join ${target.ods}${became}. Its current organisation must mark it as a leaver first ("leaver ${account.address}"), or the holder can ask with "transfer --to ${target.ods}".`,
        { status: account.status, org: account.homeOrg },
      );
    },
    () => {
      if (account.status === 'leaver') return null;
      if (!seen) {
        return refused(
          'GRACE_EXPIRED',
          `${account.address} can no longer join ${target.ods}: its grace period is over. Its organisation's local administrators or NAS can bring it back first; then it can be moved with leaver and joiner.`,
        );
      }
      const back =
        account.status === 'inactive'
          ? `A local administrator of ${home.ods} or NAS can reactivate it ("reactivate ${account.address}")`
          : 'A NAS administrator can restore it within the restore window';
      return refused(
        'GRACE_EXPIRED',
        `${account.address} is ${account.status}: its grace period is over, so it can no longer join ${target.ods}. ${back}; then it can be moved with leaver and joiner.`,
      );
    },
    () => {
      if (!hasEnded(CLOCKS.grace, account, at.policy, at.now) && account.graceExpiresAt !== null) return null;
      const ended = deadline(CLOCKS.grace, account, at.policy) ?? at.now;
      return refused(
        'GRACE_EXPIRED',
        `The grace period of ${account.address} ended on ${ended.toISOString()}, so it can no longer join ${target.ods}; the next sweep marks it inactive. ${seen ? `A local administrator of ${home.ods}` : 'A local administrator of its organisation'} or NAS can then reactivate it.`,
      );
    },
  );
  const to = joinerStatus(account.firstLoginAt);
  const notes = [
    at.note,
    to === 'pending' ? 'first login still due: pending until the holder signs in and registers MFA' : null,
  ].filter((n): n is string => n !== null);
  return enter('joiner', account, at, {
    to,
    set: {
      homeOrg: target.ods,
      graceExpiresAt: null,
      ...(to === 'active' ? { lastActivityAt: at.now } : {}),
    },
    org: target.ods,
    reason: `joined ${target.ods} from ${home.ods}${notes.map((n) => `; ${n}`).join('')}`,
    notifications: [
      {
        kind: 'joiner',
        audience: { type: 'holder', address: account.address },
        payload: { address: account.address, from: home.ods, to: target.ods },
      },
    ],
    effects: [{ kind: 'move-org', address: account.address, from: home.ods, to: target.ods }],
  });
}

/**
 * inactive → active (reactivate), or deleted → active (restore, NAS only, within the restore
 * window): the activity clock restarts. `national` says whether the asker is NAS.
 */
export function decideReactivation(
  account: AccountFacts & { purgedAt: Date | null },
  at: Now & { home: Organisation; national: boolean },
): Decision {
  const { policy, now } = at;
  const cause = account.status === 'deleted' ? 'restore' : 'reactivate';
  orThrow(
    () =>
      account.status === 'inactive' || account.status === 'deleted'
        ? null
        : refused(
            'NOT_INACTIVE',
            `${account.address} is ${account.status}, so there is nothing to reactivate: only inactive or deleted accounts can be reactivated.`,
          ),
    () => {
      if (!hasEnded(CLOCKS.retention, account, policy, now)) return null;
      return refused(
        'RETENTION_ENDED',
        `${account.address} has been inactive since ${isoDate(account.inactiveSince ?? now)} and its ${policy.retentionDays}-day retention ended on ${deadline(CLOCKS.retention, account, policy)?.toISOString()}; the next sweep deletes it. After that a NAS administrator can still restore it within ${policy.restoreDays} days.`,
      );
    },
    () =>
      cause === 'restore' && !at.national
        ? refused(
            'NAS_ONLY',
            `${account.address} has been deleted; only a NAS administrator can restore a deleted account. Contact NAS.`,
          )
        : null,
    () =>
      cause === 'restore' && account.purgedAt
        ? refused(
            'PURGED',
            `${account.address} was purged on ${isoDate(account.purgedAt)}: its restore window is over and it cannot come back. The address stays reserved; the person needs a new account ("provision").`,
          )
        : null,
    () => {
      if (!hasEnded(CLOCKS.restore, account, policy, now)) return null;
      return refused(
        'RESTORE_WINDOW_ENDED',
        `${account.address} was deleted on ${isoDate(account.deletedAt ?? now)} and its ${policy.restoreDays}-day restore window ended on ${deadline(CLOCKS.restore, account, policy)?.toISOString()}; it will be purged. The person needs a new account ("provision").`,
      );
    },
  );
  return enter(cause, account, at, {
    set: { lastActivityAt: now, inactiveSince: null, deletedAt: null, graceExpiresAt: null },
    org: at.home.ods,
    reason: `${cause === 'restore' ? 'restored' : 'reactivated'} in ${at.home.ods}; activity clock restarted`,
    notifications: [],
    effects: [{ kind: cause === 'restore' ? 'restore' : 'enable', address: account.address }],
  });
}

/** The longest absence a return date may name: NHSmail keeps a disabled account 18 months. */
const untilRefusal = (account: AccountFacts, until: Date | null, at: Now): DomainError | null => {
  if (until === null) return null;
  if (until.getTime() <= at.now.getTime()) {
    return invalid(
      'INVALID_UNTIL',
      `--until ${isoDate(until)} is not in the future: give the day ${account.address}'s holder is due back, or leave it out.`,
    );
  }
  const start = account.disabledAt ?? at.now;
  const kept = deadline(CLOCKS.disabled, { ...account, status: 'disabled', disabledAt: start }, at.policy);
  if (kept !== null && until.getTime() > kept.getTime()) {
    return invalid(
      'INVALID_UNTIL',
      `--until ${isoDate(until)} is after ${isoDate(kept)}, when a disabled account is deleted (kept ${at.policy.disabledRetentionDays} days). Give an earlier return date; if the absence is longer, mark a leaver instead ("leaver ${account.address}").`,
    );
  }
  return null;
};

/**
 * active → disabled: a long absence (maternity leave, long sickness, a career break). The activity
 * rule stops; the account is kept `disabledRetentionDays` from now, then deleted unless enabled.
 * On an account already disabled it changes the reason and return date only: its clock runs on.
 */
export function decideDisable(
  account: AccountFacts,
  at: Now & {
    home: Organisation;
    reason: string;
    until: Date | null;
    /** Carrying out a manager's request (its button): it never overwrites an absence since recorded. */
    onRequest?: boolean;
  },
): Decision {
  const again = account.status === TRANSITIONS.disable.to;
  orThrow(
    () => refuseSharedMailbox(account, 'disable'),
    () => {
      if (again || (TRANSITIONS.disable.from as readonly Status[]).includes(account.status)) return null;
      if (account.status === 'pending') {
        return refused(
          'NOT_ACTIVE',
          `${account.address} is pending: its holder has never signed in, so there is nothing to keep for them while they are away. It becomes inactive ${isoDate(deadline(CLOCKS.pending, account, at.policy) ?? at.now)} unless the first login is completed; mark a leaver instead if they have gone ("leaver ${account.address}").`,
        );
      }
      return refused(
        'NOT_ACTIVE',
        `${account.address} is ${account.status}, so it cannot be disabled: only active accounts can. ${account.status === 'inactive' ? `Reactivate it first ("reactivate ${account.address}"), then disable it.` : 'Nothing was changed.'}`,
      );
    },
    () => untilRefusal(account, at.until, at),
    () =>
      again && at.onRequest
        ? refused(
            'ALREADY_DISABLED',
            `${account.address} is already disabled (${account.disabledReason ?? 'no reason recorded'}${account.disabledUntil ? `, due back ${isoDate(account.disabledUntil)}` : ''}), so this request is done. To change the reason or return date, type "disable ${account.address} --reason … --until YYYY-MM-DD".`,
          )
        : null,
    () =>
      again && account.disabledReason === at.reason && sameDay(account.disabledUntil, at.until)
        ? refused(
            'ALREADY_DISABLED',
            `${account.address} is already disabled for that reason${at.until ? ` until ${isoDate(at.until)}` : ''}. Give a new --reason or --until to change them, or "enable ${account.address}" when the holder is back.`,
          )
        : null,
  );
  const until = at.until ? `; due back ${isoDate(at.until)}` : '';
  if (again) {
    // Not a transition: the status and the 18-month clock stay; only what is known changes.
    return {
      cause: 'disable',
      address: account.address,
      from: account.status,
      to: account.status,
      set: { disabledReason: at.reason, disabledUntil: at.until },
      audit: { action: 'disable-update', org: at.home.ods, reason: `${at.reason}${until}` },
      notifications: [],
      effects: [],
    };
  }
  const kept = addDays(at.now, at.policy.disabledRetentionDays);
  return enter('disable', account, at, {
    set: { disabledAt: at.now, disabledReason: at.reason, disabledUntil: at.until },
    org: at.home.ods,
    reason: `${at.reason}${until}; kept until ${isoDate(kept)} unless enabled`,
    notifications: [
      {
        kind: 'status-change',
        audience: { type: 'holder', address: account.address },
        payload: {
          address: account.address,
          org: at.home.ods,
          from: account.status,
          to: TRANSITIONS.disable.to,
          reason: `disabled for a long absence (${at.reason})${until}; it is kept until ${isoDate(kept)}, and your local administrator enables it when you are back`,
        },
      },
    ],
    effects: [{ kind: 'disable', address: account.address }],
  });
}

/** disabled → active: the holder is back; the activity clock restarts now. */
export function decideEnable(account: AccountFacts, at: Now & { home: Organisation }): Decision {
  orThrow(() =>
    account.status === TRANSITIONS.enable.from[0]
      ? null
      : refused(
          'NOT_DISABLED',
          `${account.address} is ${account.status}, not disabled, so there is nothing to enable.${account.status === 'inactive' || account.status === 'deleted' ? ` To bring it back use "reactivate ${account.address}".` : ''}`,
        ),
  );
  return enter('enable', account, at, {
    set: { lastActivityAt: at.now, ...ENDS_ABSENCE },
    org: at.home.ods,
    reason: `enabled in ${at.home.ods} after ${account.disabledReason ?? 'an absence'} (disabled since ${isoDate(account.disabledAt ?? account.statusChangedAt)}); activity clock restarted`,
    notifications: [
      {
        kind: 'status-change',
        audience: { type: 'holder', address: account.address },
        payload: {
          address: account.address,
          org: at.home.ods,
          from: account.status,
          to: TRANSITIONS.enable.to,
          reason: `enabled again: welcome back. Sign in within ${at.policy.inactivityDays} days, and at least that often, to keep it`,
        },
      },
    ],
    effects: [{ kind: 'enable', address: account.address }],
  });
}

const sameDay = (a: Date | null, b: Date | null): boolean =>
  a === null || b === null ? a === b : a.getTime() === b.getTime();
