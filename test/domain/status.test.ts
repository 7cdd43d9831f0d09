import { describe, expect, it } from 'vitest';
import {
  allowedTransitions,
  canTransition,
  STATUSES,
  type Status,
  type TransitionCause,
  transitionTarget,
} from '../../src/domain/status.js';

/**
 * DESIGN.md section 2, "Transitions", written out by hand: for each cause, the statuses it may
 * start from and the status it leads to. Purging leaves the status `deleted`, so it is no cause.
 */
const EXPECTED: Record<TransitionCause, { from: Status[]; to: Status }> = {
  'first-login': { from: ['pending'], to: 'active' },
  leaver: { from: ['pending', 'active', 'disabled'], to: 'leaver' },
  joiner: { from: ['leaver'], to: 'active' },
  'grace-ended': { from: ['leaver'], to: 'inactive' },
  inactivity: { from: ['active'], to: 'inactive' },
  'pending-expired': { from: ['pending'], to: 'inactive' },
  disable: { from: ['active'], to: 'disabled' },
  enable: { from: ['disabled'], to: 'active' },
  'disabled-ended': { from: ['disabled'], to: 'deleted' },
  reactivate: { from: ['inactive'], to: 'active' },
  'retention-ended': { from: ['inactive'], to: 'deleted' },
  restore: { from: ['deleted'], to: 'active' },
};

const CAUSES = Object.keys(EXPECTED) as TransitionCause[];

describe('account status transitions', () => {
  it('knows the six statuses, spelled as in every output', () => {
    expect([...STATUSES]).toEqual(['pending', 'active', 'leaver', 'disabled', 'inactive', 'deleted']);
  });

  const pairs = CAUSES.flatMap((cause) => STATUSES.map((from) => ({ cause, from })));

  it.each(pairs)('$cause from $from: allowed exactly when the table says so', ({ cause, from }) => {
    expect(canTransition(cause, from)).toBe(EXPECTED[cause].from.includes(from));
  });

  it.each(CAUSES)('%s leads to the status the table gives', (cause) => {
    expect(transitionTarget(cause)).toBe(EXPECTED[cause].to);
  });

  it('lists exactly the allowed transitions of the table', () => {
    const expected = CAUSES.flatMap((cause) =>
      EXPECTED[cause].from.map((from) => ({ cause, from, to: EXPECTED[cause].to })),
    );
    const key = (t: { cause: string; from: string; to: string }) => `${t.cause}:${t.from}->${t.to}`;
    expect(allowedTransitions().map(key).sort()).toEqual(expected.map(key).sort());
    expect(allowedTransitions()).toHaveLength(14);
  });

  it('never leaves deleted except by a restore, and never returns to pending', () => {
    for (const cause of CAUSES) {
      if (cause !== 'restore') expect(canTransition(cause, 'deleted')).toBe(false);
      expect(transitionTarget(cause)).not.toBe('pending');
    }
  });
});
