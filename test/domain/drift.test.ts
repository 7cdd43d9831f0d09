import { describe, expect, it } from 'vitest';
import {
  type ComparedAccount,
  compareDirectory,
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
      ['enabled-mismatch', 'a@nhs.net', 'directory reapply a@nhs.net (disables it) or reactivate a@nhs.net'],
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
});
