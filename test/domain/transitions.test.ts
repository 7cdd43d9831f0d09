import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CLOCKS,
  type ClockFacts,
  deadline,
  deadlineFrom,
  hasEnded,
  latestStart,
} from '../../src/domain/clocks.js';
import { DomainError } from '../../src/domain/errors.js';
import { LAPSES } from '../../src/domain/lapses.js';
import type { Organisation } from '../../src/domain/organisation.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { refuseActivity, refuseReminder, refuseTransferRequest } from '../../src/domain/preconditions.js';
import { STATUSES, type Status, type TransitionCause } from '../../src/domain/status.js';
import { addDays } from '../../src/domain/time.js';
import {
  type AccountFacts,
  type Decision,
  decideDisable,
  decideEnable,
  decideFirstLogin,
  decideJoiner,
  decideLeaver,
  decideReactivation,
  TRANSITIONS,
} from '../../src/domain/transitions.js';

const now = new Date('2026-06-15T09:00:00Z');
const policy = DEFAULT_POLICY;
const home: Organisation = { ods: 'RXX', name: 'Home Trust', kind: 'trust', dspt: 'standards-met' };
const target: Organisation = { ods: 'RYY', name: 'Next Trust', kind: 'trust', dspt: 'standards-met' };

/** An account in `status` with every clock's field set as that status would have it, well inside its window. */
function account(status: Status, extra: Partial<AccountFacts> = {}): AccountFacts {
  return {
    address: 'jane.doe@nhs.net',
    homeOrg: 'RXX',
    kind: 'person',
    status,
    firstLoginAt: status === 'pending' ? null : addDays(now, -40),
    leavesAt: null,
    statusChangedAt: addDays(now, -5),
    purgedAt: null,
    graceExpiresAt: status === 'leaver' ? addDays(now, 10) : null,
    lastActivityAt: status === 'pending' ? null : addDays(now, -5),
    inactiveSince: status === 'inactive' ? addDays(now, -5) : null,
    deletedAt: status === 'deleted' ? addDays(now, -5) : null,
    createdAt: addDays(now, status === 'pending' ? -5 : -400),
    disabledAt: status === 'disabled' ? addDays(now, -5) : null,
    disabledReason: status === 'disabled' ? 'maternity leave' : null,
    disabledUntil: status === 'disabled' ? addDays(now, 60) : null,
    ...extra,
  };
}

/** Each command-driven cause, asked of an account in any status. */
const DECIDE: Partial<Record<TransitionCause, (a: AccountFacts) => Decision>> = {
  'first-login': (a) => decideFirstLogin(a, { now, policy, home, mfa: true }),
  leaver: (a) => decideLeaver(a, { now, policy, home }),
  joiner: (a) => decideJoiner(a, { now, policy, home, target, seen: true, note: null }),
  reactivate: (a) => decideReactivation(a, { now, policy, home, national: true }),
  restore: (a) => decideReactivation(a, { now, policy, home, national: true }),
  disable: (a) => decideDisable(a, { now, policy, home, reason: 'career break', until: null }),
  enable: (a) => decideEnable(a, { now, policy, home }),
};

/** What each transition asks of the directory (issue 14's table), by cause. */
const EFFECTS: Record<TransitionCause, string[]> = {
  'first-login': [],
  leaver: ['mark-leaver'],
  joiner: ['move-org'],
  reactivate: ['enable'],
  restore: ['restore'],
  'grace-ended': ['disable'],
  inactivity: ['disable'],
  'retention-ended': ['delete'],
  'pending-expired': ['disable'],
  disable: ['disable'],
  enable: ['enable'],
  'disabled-ended': ['delete'],
};

function refusalOf(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
}

describe('the transition table decides every command-driven change', () => {
  const cases = (Object.keys(DECIDE) as TransitionCause[]).flatMap((cause) =>
    STATUSES.map((status) => ({ cause, status })),
  );

  it.each(cases)('$cause from $status: decided exactly when the table allows it', ({ cause, status }) => {
    const decide = DECIDE[cause];
    if (!decide) throw new Error(`no decider for ${cause}`);
    const allowed = (TRANSITIONS[cause].from as readonly Status[]).includes(status);
    // reactivate and restore share one command: the status picks the cause.
    const sharedCommand =
      (cause === 'reactivate' && status === 'deleted') || (cause === 'restore' && status === 'inactive');
    if (cause === 'disable' && status === 'disabled') {
      // Disabling again changes the reason and return date only: no transition, the clock runs on.
      const decision = decide(account(status));
      expect([decision.from, decision.to, decision.set.status]).toEqual(['disabled', 'disabled', undefined]);
      expect(decision.set).toEqual({ disabledReason: 'career break', disabledUntil: null });
      expect(decision.audit.action).toBe('disable-update');
      expect(decision.effects).toEqual([]);
    } else if (allowed || sharedCommand) {
      const decision = decide(account(status));
      expect(decision.from).toBe(status);
      expect(TRANSITIONS[decision.cause].from).toContain(status);
      expect(decision.set.status).toBe(decision.to);
      expect(decision.set.statusChangedAt).toEqual(now);
      expect(decision.audit.action).toBe(TRANSITIONS[decision.cause].action);
      // A leaver keeps a usable account through grace: one who was disabled is enabled first.
      const enabledFirst = cause === 'leaver' && status === 'disabled' ? ['enable'] : [];
      expect(decision.effects.map((e) => e.kind)).toEqual([...enabledFirst, ...EFFECTS[decision.cause]]);
      for (const effect of decision.effects) expect(effect.address).toBe(decision.address);
    } else {
      // Refused with a rule's code, never a crash, and nothing decided.
      expect(refusalOf(() => decide(account(status)))).toMatch(/^[A-Z_]+$/);
    }
  });

  it('refuses with the code of each unmet precondition', () => {
    expect(refusalOf(() => decideFirstLogin(account('pending'), { now, policy, home, mfa: false }))).toBe(
      'MFA_REQUIRED',
    );
    expect(refusalOf(() => decideLeaver(account('leaver'), { now, policy, home }))).toBe('ALREADY_LEAVER');
    expect(refusalOf(() => decideLeaver(account('inactive'), { now, policy, home }))).toBe('NOT_ACTIVE');
    expect(refusalOf(() => decideLeaver(account('active', { kind: 'shared' }), { now, policy, home }))).toBe(
      'SHARED_MAILBOX',
    );
    const joining = (a: AccountFacts) => () =>
      decideJoiner(a, { now, policy, home, target, seen: false, note: null });
    expect(refusalOf(joining(account('active')))).toBe('NOT_A_LEAVER');
    expect(refusalOf(joining(account('inactive')))).toBe('GRACE_EXPIRED');
    expect(refusalOf(joining(account('leaver', { graceExpiresAt: now })))).toBe('GRACE_EXPIRED');
    const reactivating =
      (a: AccountFacts, national = true) =>
      () =>
        decideReactivation(a, { now, policy, home, national });
    expect(refusalOf(reactivating(account('active')))).toBe('NOT_INACTIVE');
    expect(refusalOf(reactivating(account('inactive', { inactiveSince: addDays(now, -30) })))).toBe(
      'RETENTION_ENDED',
    );
    expect(refusalOf(reactivating(account('deleted'), false))).toBe('NAS_ONLY');
    expect(refusalOf(reactivating(account('deleted', { purgedAt: now })))).toBe('PURGED');
    expect(refusalOf(reactivating(account('deleted', { deletedAt: addDays(now, -30) })))).toBe(
      'RESTORE_WINDOW_ENDED',
    );
  });

  it('sets what each transition sets, and raises its notifications', () => {
    const left = decideLeaver(account('active'), { now, policy, home });
    expect(left.set.graceExpiresAt).toEqual(addDays(now, policy.graceDays));
    expect(left.notifications).toEqual([
      {
        kind: 'leaver',
        audience: { type: 'holder', address: 'jane.doe@nhs.net' },
        payload: { address: 'jane.doe@nhs.net', org: 'RXX', graceExpiresAt: addDays(now, 30).toISOString() },
      },
    ]);
    const joined = decideJoiner(account('leaver'), { now, policy, home, target, seen: true, note: null });
    expect(joined.set).toMatchObject({
      homeOrg: 'RYY',
      graceExpiresAt: null,
      lastActivityAt: now,
      status: 'active',
    });
    expect(joined.notifications.map((n) => n.kind)).toEqual(['joiner']);
    // A holder who never signed in joins as pending: leaver then joiner is no way round first login.
    const neverUsed = decideJoiner(account('leaver', { firstLoginAt: null }), {
      now,
      policy,
      home,
      target,
      seen: true,
      note: null,
    });
    expect(neverUsed.to).toBe('pending');
    expect(neverUsed.set.lastActivityAt).toBeUndefined();
    // A leaving date from the HR feed survives the first login only.
    const leavesAt = addDays(now, 3);
    expect(
      decideFirstLogin(account('pending', { leavesAt }), { now, policy, home, mfa: true }).set.leavesAt,
    ).toEqual(leavesAt);
    expect(decideLeaver(account('active', { leavesAt }), { now, policy, home }).set.leavesAt).toBeNull();
  });

  it('refuses the changes that are not transitions by status as well', () => {
    expect(refuseActivity(account('pending'))?.code).toBe('FIRST_LOGIN_NEEDED');
    expect(refuseActivity(account('deleted'))?.code).toBe('NOT_ACTIVE');
    expect(refuseActivity(account('leaver'))).toBeNull();
    expect(refuseTransferRequest(account('leaver'), target)?.code).toBe('ALREADY_LEAVER');
    expect(refuseTransferRequest(account('inactive'), target)?.code).toBe('NOT_ACTIVE');
    expect(refuseTransferRequest(account('pending'), target)).toBeNull();
    expect(refuseReminder(account('inactive'))?.code).toBe('NOTHING_TO_REMIND');
    expect(refuseReminder(account('active', { kind: 'shared' }))?.code).toBe('NOTHING_TO_REMIND');
    expect(refuseReminder(account('pending'))).toBeNull();
  });
});

describe('one clocks module owns every deadline', () => {
  const facts = (status: Status, extra: Partial<ClockFacts> = {}): ClockFacts => ({
    ...account(status),
    ...extra,
  });

  it.each(Object.values(CLOCKS))('$name runs on $status accounts only, counting from $field', (clock) => {
    for (const status of STATUSES) {
      const due = deadline(clock, facts(status), policy);
      if (status !== clock.status) expect(due).toBeNull();
      else {
        const start = facts(status)[clock.field];
        expect(start).not.toBeNull();
        expect(due).toEqual(addDays(start ?? now, clock.days(policy)));
      }
    }
  });

  it('keeps shared mailboxes out of the activity clock and purged accounts out of the restore clock', () => {
    expect(deadline(CLOCKS.inactivity, facts('active', { kind: 'shared' }), policy)).toBeNull();
    expect(deadline(CLOCKS.restore, facts('deleted', { purgedAt: now }), policy)).toBeNull();
  });

  it.each(Object.values(CLOCKS))(
    '$name: the SQL bound and the computation meet at the same instant',
    (clock) => {
      const by = addDays(now, 3);
      const start = latestStart(clock, policy, by);
      expect(deadlineFrom(clock, start, policy)).toEqual(by);
      const account = facts(clock.status, { [clock.field]: start });
      expect(hasEnded(clock, account, policy, by)).toBe(true);
      expect(hasEnded(clock, account, policy, new Date(by.getTime() - 1))).toBe(false);
    },
  );

  it('gives the sweep its steps from the same table and clocks', () => {
    for (const lapse of LAPSES) {
      expect(lapse.from).toBe(lapse.clock.status);
      const effects = lapse.effects({ address: 'a@nhs.net' });
      expect(effects.map((e) => e.kind)).toEqual(lapse.step === 'purge' ? ['purge'] : EFFECTS[lapse.step]);
      if (lapse.step === 'purge') {
        expect(lapse.to).toBe(lapse.from);
        expect(lapse.set(now).status).toBeUndefined();
        expect(lapse.notice({ address: 'a@nhs.net', org: 'RXX' }, policy)).toEqual([]);
        continue;
      }
      expect(TRANSITIONS[lapse.step].from).toEqual([lapse.from]);
      expect(lapse.to).toBe(TRANSITIONS[lapse.step].to);
      expect(lapse.set(now)).toMatchObject({ status: lapse.to, statusChangedAt: now });
      expect(lapse.notice({ address: 'a@nhs.net', org: 'RXX' }, policy)[0]?.payload).toMatchObject({
        from: lapse.from,
        to: lapse.to,
      });
    }
    expect(LAPSES.map((l) => l.step)).toEqual([
      'grace-ended',
      'inactivity',
      'pending-expired',
      'disabled-ended',
      'retention-ended',
      'purge',
    ]);
  });
});

describe('no status from/to outside the domain', () => {
  const root = path.resolve(import.meta.dirname, '../..');
  const files = ['src', 'adapters', 'db']
    .flatMap((dir) =>
      readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
        .filter((e) => e.isFile() && e.name.endsWith('.ts'))
        .map((e) => path.join(e.parentPath, e.name)),
    )
    .filter((file) => !file.includes(`${path.sep}src${path.sep}domain${path.sep}`));
  const STATUS = STATUSES.join('|');
  // A from/to, a status written, or a status selected: each of these decides a transition.
  const DECIDING = new RegExp(`\\b(from|to|status):\\s*'(${STATUS})'|accounts\\.status,\\s*'(${STATUS})'`);
  // A status compared: a precondition, when a service or a job does it (renderers may word by status).
  const CHECKING = new RegExp(`status\\s*[!=]==\\s*'(${STATUS})'`);
  const deciding = (file: string, line: string) =>
    DECIDING.test(line) || (/[/\\](src[/\\](service|jobs)|db)[/\\]/.test(file) && CHECKING.test(line));

  it('services, jobs, commands and adapters name no status they move an account from or to', () => {
    const offending = files.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: `${path.relative(root, file)}:${i + 1}` }))
        .filter(({ line }) => deciding(file, line))
        .map(({ line, at }) => `${at}: ${line.trim()}`),
    );
    expect(offending).toEqual([]);
  });

  it('would catch one (the check is not vacuous)', () => {
    const service = path.join(root, 'src/service/accounts.ts');
    expect(
      deciding(service, "    const updated = await setStatus(tx, row, 'active', ctx, { status: 'active' });"),
    ).toBe(true);
    expect(deciding(service, "    if (row.status === 'pending') {")).toBe(true);
    expect(deciding(path.join(root, 'adapters/x.ts'), "      .where(eq(accounts.status, 'leaver'))")).toBe(
      true,
    );
    expect(
      deciding(path.join(root, 'src/commands/render.ts'), "  if (a.status === 'pending') return 'Waiting';"),
    ).toBe(false);
  });
});
