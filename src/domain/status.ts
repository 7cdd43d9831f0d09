import { TRANSITIONS } from './transitions.js';

export const STATUSES = ['pending', 'active', 'leaver', 'disabled', 'inactive', 'deleted'] as const;
export type Status = (typeof STATUSES)[number];

/** What moves an account from one status to another (DESIGN.md section 2, "Transitions"). */
export type TransitionCause =
  | 'first-login'
  | 'leaver'
  | 'joiner'
  | 'grace-ended'
  | 'inactivity'
  | 'pending-expired'
  | 'disable'
  | 'enable'
  | 'disabled-ended'
  | 'reactivate'
  | 'retention-ended'
  | 'restore';

export const transitionTarget = (cause: TransitionCause): Status => TRANSITIONS[cause].to;

export const canTransition = (cause: TransitionCause, from: Status): boolean =>
  (TRANSITIONS[cause].from as readonly Status[]).includes(from);

/** Every allowed (from, to) pair, for documentation and tests. */
export const allowedTransitions = (): Array<{ cause: TransitionCause; from: Status; to: Status }> =>
  (Object.keys(TRANSITIONS) as TransitionCause[]).flatMap((cause) =>
    TRANSITIONS[cause].from.map((from) => ({ cause, from, to: TRANSITIONS[cause].to })),
  );
