export const STATUSES = ['pending', 'active', 'leaver', 'inactive', 'deleted'] as const;
export type Status = (typeof STATUSES)[number];

/** What moves an account from one status to another (DESIGN.md section 2, "Transitions"). */
export type TransitionCause =
  | 'first-login'
  | 'leaver'
  | 'joiner'
  | 'grace-ended'
  | 'inactivity'
  | 'reactivate'
  | 'retention-ended'
  | 'restore';

const TRANSITIONS: Record<TransitionCause, { from: readonly Status[]; to: Status }> = {
  'first-login': { from: ['pending'], to: 'active' },
  leaver: { from: ['pending', 'active'], to: 'leaver' },
  joiner: { from: ['leaver'], to: 'active' }, // 'pending' when first login is still due: joinerStatus
  'grace-ended': { from: ['leaver'], to: 'inactive' },
  inactivity: { from: ['active'], to: 'inactive' },
  reactivate: { from: ['inactive'], to: 'active' },
  'retention-ended': { from: ['inactive'], to: 'deleted' },
  restore: { from: ['deleted'], to: 'active' },
};

/**
 * A joiner keeps the account's first-login state: a holder who never completed first login (and
 * so never changed the temporary password or registered MFA) is pending in the new home, not
 * active. Otherwise leaver then joiner would be a way round first login.
 */
export const joinerStatus = (firstLoginAt: Date | null): 'active' | 'pending' =>
  firstLoginAt === null ? 'pending' : 'active';

export const transitionTarget = (cause: TransitionCause): Status => TRANSITIONS[cause].to;

export const canTransition = (cause: TransitionCause, from: Status): boolean =>
  TRANSITIONS[cause].from.includes(from);

/** Every allowed (from, to) pair, for documentation and tests. */
export const allowedTransitions = (): Array<{ cause: TransitionCause; from: Status; to: Status }> =>
  (Object.entries(TRANSITIONS) as Array<[TransitionCause, { from: readonly Status[]; to: Status }]>).flatMap(
    ([cause, t]) => t.from.map((from) => ({ cause, from, to: t.to })),
  );
