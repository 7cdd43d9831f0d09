import { describe, expect, it } from 'vitest';
import {
  type ComparedAccount,
  compareDirectory,
  decideReapply,
  describeCounts,
  driftCounts,
  type MirroredUser,
} from '../../src/domain/drift.js';

/** The drift rules the stand-in tests do not reach, decided with no I/O. */

const user = (id: string, extra: Partial<MirroredUser> = {}): MirroredUser => ({
  id,
  address: `${id}@nhs.net`,
  userPrincipalName: `${id}@nhs.net`,
  given: 'Ann',
  surname: 'Lee',
  accountEnabled: true,
  removed: null,
  ...extra,
});
let n = 0;
const account = (id: string, extra: Partial<ComparedAccount> = {}): ComparedAccount => ({
  id: ++n,
  address: `${id}@nhs.net`,
  kind: 'person',
  status: 'active',
  homeOrg: 'RXX',
  given: 'Ann',
  family: 'Lee',
  directoryId: id,
  purged: false,
  createEffect: null,
  ...extra,
});
const compare = (users: MirroredUser[], accounts: ComparedAccount[], groups: Record<string, string[]> = {}) =>
  compareDirectory({
    users,
    accounts,
    groups: new Map(Object.entries(groups)),
    mapped: new Set(['RXX', 'RYY']),
  }).map((l) => [l.kind, l.address, l.detail.settle]);

describe('compareDirectory', () => {
  it('finds nothing when the directory and the bot agree', () => {
    expect(compare([user('a')], [account('a')], { a: ['RXX'] })).toEqual([]);
  });

  it('a leaver has left its home group: in it is drift, out of it is not', () => {
    expect(compare([user('a')], [account('a', { status: 'leaver' })], {})).toEqual([]);
    expect(compare([user('a')], [account('a', { status: 'leaver' })], { a: ['RXX'] })).toEqual([
      ['group-mismatch', 'a@nhs.net', 'directory reapply a@nhs.net (puts it in its home group only)'],
    ]);
  });

  it('a deleted account the directory has live and enabled is drift; a purged one is not compared', () => {
    expect(compare([user('a')], [account('a', { status: 'deleted' })])).toEqual([
      [
        'enabled-mismatch',
        'a@nhs.net',
        'directory reapply a@nhs.net (deletes it in the directory again, restorable there for 30 days) or reactivate a@nhs.net',
      ],
    ]);
    expect(compare([user('a')], [account('a', { status: 'deleted', purged: true })])).toEqual([]);
  });

  it('matches by address when the bot has no directory id, and never reports a shared mailbox', () => {
    expect(compare([user('a')], [account('a', { directoryId: null })], { a: ['RXX'] })).toEqual([]);
    expect(
      compare([user('s', { accountEnabled: false, given: 'Ward 3' })], [account('s', { kind: 'shared' })]),
    ).toEqual([]);
  });

  it('does not compare a name the directory does not hold, and an enabled state it did not say', () => {
    expect(
      compare([user('a', { given: null, surname: null, accountEnabled: null })], [account('a')], {
        a: ['RXX'],
      }),
    ).toEqual([]);
  });

  it('a user in two organisations’ groups is told to leave one before an import', () => {
    const [line] = compare([user('x')], [], { x: ['RXX', 'RYY'] });
    expect(line?.[2]).toMatch(/^leave it in one organisation’s group in Entra \(it is in RXX and RYY\)/);
  });

  it('counts by kind, in the report’s order', () => {
    const lines = compareDirectory({
      users: [user('x'), user('a', { accountEnabled: false })],
      accounts: [account('a')],
      groups: new Map([['a', ['RXX']]]),
      mapped: new Set(['RXX']),
    });
    expect(describeCounts(driftCounts(lines))).toBe('1 not in the bot, 1 enabled/disabled');
  });

  it('never judges an account whose creation is parked by the user another holds its address with', () => {
    // The address is held by a user the bot did not make: a conflict, not this person's user.
    const foreign = user('c', { id: 'foreign-object', accountEnabled: false, given: 'Someone' });
    expect(
      compare([foreign], [account('c', { directoryId: null, createEffect: { id: 9, state: 'conflict' } })], {
        'foreign-object': ['RYY'],
      }),
    ).toEqual([
      [
        'not-in-directory',
        'c@nhs.net',
        'directory retry 9 --adopt, once the directory user holding c@nhs.net is known to be this person',
      ],
    ]);
  });

  it('names the live user now holding the address of an account whose own user was deleted for good', () => {
    const lines = compareDirectory({
      users: [
        user('gone', { address: 'd@nhs.net', removed: 'deleted' }),
        user('new', { address: 'd@nhs.net' }),
      ],
      accounts: [account('d', { directoryId: 'gone' })],
      groups: new Map([['new', ['RXX']]]),
      mapped: new Set(['RXX']),
    });
    expect(lines.map((l) => [l.kind, l.detail.successor, l.detail.settle])).toEqual([
      [
        'not-in-directory',
        'new',
        'directory import links the account to new, once you have checked it is this person; or leaver d@nhs.net if the person has gone',
      ],
    ]);
  });
});

describe('decideReapply', () => {
  const jane = {
    id: 7,
    address: 'jane@nhs.net',
    status: 'active' as const,
    homeOrg: 'RXX',
    given: 'Jane',
    family: 'Doe',
    directoryId: 'j-1',
  };
  const detail = (extra: Record<string, unknown> = {}) => ({
    accountId: 7,
    directoryId: 'j-1',
    status: 'active' as const,
    enabled: false,
    removed: null,
    groups: ['RXX', 'RYY'],
    given: 'Janet',
    surname: 'Doe',
    says: 'it differs',
    settle: 'directory reapply jane@nhs.net',
    ...extra,
  });

  it('writes what the bot holds for the lines it settles', () => {
    const decision = decideReapply(
      jane,
      [
        { kind: 'enabled-mismatch', detail: detail() },
        { kind: 'group-mismatch', detail: detail() },
        { kind: 'name-mismatch', detail: detail() },
      ],
      null,
    );
    expect(decision).toMatchObject({
      kind: 'reapply',
      effect: {
        kind: 'reconcile',
        restore: false,
        enabled: true,
        names: { given: 'Jane', family: 'Doe' },
        inHomeGroup: true,
        leave: ['RYY'],
      },
    });
  });

  it('refuses while the account is still being made, whatever the report says', () => {
    const decision = decideReapply(jane, [{ kind: 'enabled-mismatch', detail: detail() }], {
      id: 3,
      state: 'conflict',
    });
    expect(decision).toMatchObject({ kind: 'refused', reason: expect.stringContaining('directory retry 3') });
  });

  it('ignores a line about another directory object than the account’s own', () => {
    const decision = decideReapply(
      jane,
      [{ kind: 'enabled-mismatch', detail: detail({ directoryId: 'someone-else' }) }],
      null,
    );
    expect(decision.kind).toBe('refused');
  });

  it('does not count a name line settled when the bot has no names to write', () => {
    const nameless = { ...jane, given: null };
    expect(decideReapply(nameless, [{ kind: 'name-mismatch', detail: detail() }], null).kind).toBe('refused');
  });

  it('deletes a deleted account’s user again only when tied to it by id', () => {
    const deleted = { ...jane, status: 'deleted' as const };
    const line = { kind: 'enabled-mismatch' as const, detail: detail({ enabled: true }) };
    expect(decideReapply(deleted, [line], null)).toMatchObject({
      kind: 'reapply',
      effect: { kind: 'delete', address: 'jane@nhs.net' },
    });
    const byAddress = decideReapply({ ...deleted, directoryId: null }, [line], null);
    expect(byAddress).toMatchObject({
      kind: 'refused',
      reason: expect.stringContaining('found by the address alone'),
    });
  });
});
