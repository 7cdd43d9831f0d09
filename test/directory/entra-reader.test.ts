import type { User } from '@microsoft/microsoft-graph-types';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createEntraReader,
  DELTA_SELECT,
  REGISTRATION_DETAILS,
} from '../../adapters/directory/entra-reader.js';
import { isDomainError } from '../../src/domain/errors.js';
import type {
  DirectoryEntry,
  DirectoryReader,
  DirectoryReadStep,
} from '../../src/service/directory-reader.js';
import { type GraphStandIn, startGraphStandIn } from './support/graph-test-client.js';

/** The Entra reader against the Graph stand-in over HTTPS, with a real Graph client. */

const T0 = new Date('2026-03-02T09:00:00Z');

const person = (n: number, extra: User = {}): User => ({
  accountEnabled: true,
  displayName: `Person ${n}`,
  givenName: 'Person',
  surname: String(n),
  mailNickname: `person.${n}`,
  userPrincipalName: `person.${n}@nhs.net`,
  passwordProfile: { password: 'Welcome-2026-Xq!', forceChangePasswordNextSignIn: true },
  ...extra,
});

/** A whole round: its entries, how many pages, and how it ended. */
async function roundOf(reader: DirectoryReader, deltaLink?: string | null) {
  const entries: DirectoryEntry[] = [];
  let pages = 0;
  let end: Exclude<DirectoryReadStep, { kind: 'page' }> | undefined;
  for await (const step of reader.readUsers(deltaLink)) {
    if (step.kind === 'page') {
      pages++;
      entries.push(...step.entries);
    } else end = step;
  }
  if (!end) throw new Error('the round ended without done or resync');
  return { entries, pages, end };
}

describe('the Entra reader', () => {
  let s: GraphStandIn;
  let reader: DirectoryReader;

  beforeAll(async () => {
    s = await startGraphStandIn({ now: () => T0 });
    reader = createEntraReader({ client: s.client });
  });
  afterAll(async () => {
    await s?.close();
  });
  beforeEach(() => {
    s.graph.reset();
  });

  const create = (n: number, extra: User = {}): Promise<User> =>
    s.client.api('/users').post(person(n, extra));

  it('reads every user across several pages, asking for the fields it needs, and ends with a deltaLink', async () => {
    s.graph.setDeltaPageSize(2);
    const made = [
      await create(1, {
        companyName: 'Leeds Teaching Hospitals',
        employeeId: 'E-1',
        onPremisesExtensionAttributes: { extensionAttribute3: 'RR8' },
      }),
      await create(2, { accountEnabled: false }),
      await create(3),
      await create(4),
      await create(5),
    ];
    const round = await roundOf(reader);
    expect(round.pages).toBe(3);
    expect(round.end).toEqual({
      kind: 'done',
      deltaLink: expect.stringMatching(/\/users\/delta\?\$deltatoken=/),
    });
    expect(round.entries.map((e) => e.id)).toEqual(made.map((u) => u.id));
    expect(round.entries[0]).toEqual({
      kind: 'user',
      id: made[0]?.id,
      userPrincipalName: 'person.1@nhs.net',
      givenName: 'Person',
      surname: '1',
      displayName: 'Person 1',
      accountEnabled: true,
      companyName: 'Leeds Teaching Hospitals',
      employeeId: 'E-1',
      extensionAttributes: { extensionAttribute3: 'RR8' },
      omitted: [],
    });
    expect(round.entries[1]).toMatchObject({
      accountEnabled: false,
      companyName: null,
      extensionAttributes: {},
    });
    const first = s.graph.requests.find((r) => r.path === '/users/delta');
    expect(new URLSearchParams(first?.query).get('$select')?.split(',')).toEqual([...DELTA_SELECT]);
  });

  it('reads only the changes after a deltaLink: an update, a new user, a soft delete and a purge', async () => {
    const [a, b, c] = [await create(1), await create(2), await create(3)];
    const full = await roundOf(reader);
    if (full.end.kind !== 'done') throw new Error('expected a deltaLink');
    await s.client.api(`/users/${a.id}`).patch({ surname: 'Renamed', accountEnabled: false });
    await s.client.api(`/users/${b.id}`).delete();
    await s.client.api(`/users/${c.id}`).delete();
    await s.client.api(`/directory/deletedItems/${c.id}`).delete();
    const d = await create(4);
    const changes = await roundOf(reader, full.end.deltaLink);
    expect(changes.end.kind).toBe('done');
    expect(changes.entries).toEqual([
      expect.objectContaining({ kind: 'user', id: a.id, surname: 'Renamed', accountEnabled: false }),
      { kind: 'removed', id: b.id, reason: 'changed' },
      { kind: 'removed', id: c.id, reason: 'deleted' },
      expect.objectContaining({ kind: 'user', id: d.id, displayName: 'Person 4' }),
    ]);
  });

  it('ends a round with resync when Graph answers 410 for an expired token, and a full read works again', async () => {
    await create(1);
    const full = await roundOf(reader);
    if (full.end.kind !== 'done') throw new Error('expected a deltaLink');
    s.graph.expireDeltaTokens();
    const expired = await roundOf(reader, full.end.deltaLink);
    expect(expired.pages).toBe(0);
    expect(expired.end).toEqual({ kind: 'resync', reason: expect.stringContaining('410 syncStateNotFound') });
    const again = await roundOf(reader, null);
    expect(again.entries.map((e) => e.kind)).toEqual(['user']);
  });

  it('gives each user their last successful sign-in, null for someone who never signed in', async () => {
    const [a, b, c] = [await create(1), await create(2), await create(3)];
    s.graph.setSignIn(String(a.id), new Date('2026-02-27T08:15:00Z'));
    s.graph.setSignIn(String(c.id), new Date('2026-03-01T17:00:00Z'));
    const signIns = await reader.signIns(2);
    expect(signIns).toEqual(
      new Map([
        [a.id, new Date('2026-02-27T08:15:00Z')],
        [b.id, null],
        [c.id, new Date('2026-03-01T17:00:00Z')],
      ]),
    );
    const pages = s.graph.requests.filter((r) => r.method === 'GET' && r.path === '/users');
    expect(pages).toHaveLength(2);
    expect(new URLSearchParams(pages[0]?.query).get('$select')).toBe('id,signInActivity');
  });

  it('asks throttled MFA requests again after Retry-After, each item of a batch on its own', async () => {
    const users: User[] = [];
    for (let n = 1; n <= 12; n++) users.push(await create(n));
    const ids = users.map((u) => String(u.id));
    for (const id of ids.slice(0, 5)) s.graph.setMfaRegistered(id);
    s.graph.setChaos({ seed: 15, throttleRate: 0.4, retryAfterSeconds: 0 });
    const mfa = await reader.mfaRegistered(ids);
    s.graph.setChaos(undefined);
    expect(ids.map((id) => mfa.get(id))).toEqual(ids.map((_, i) => i < 5));
    const items = s.graph.requests.filter((r) => r.path === REGISTRATION_DETAILS);
    expect(items.some((r) => r.status === 429)).toBe(true);
    expect(items.filter((r) => r.status === 200)).toHaveLength(12);
  });

  it('names User.Read.All when the delta is refused for want of it', async () => {
    s.graph.grant(['AuditLog.Read.All']);
    const e = await roundOf(reader).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isDomainError(e) && e.code).toBe('GRAPH_PERMISSION_DENIED');
    expect(e instanceof Error && e.message).toContain('User.Read.All');
  });

  it('says a tenant without Entra ID P1/P2 cannot give sign-ins or MFA, as the poller does', async () => {
    const a = await create(1);
    s.graph.setPremium(false);
    for (const read of [() => reader.signIns(), () => reader.mfaRegistered([String(a.id)])]) {
      const e = await read().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isDomainError(e) && e.code).toBe('GRAPH_LICENCE_REQUIRED');
    }
  });

  it('asks userRegistrationDetails by id filter, 20 to a $batch, never with $select', async () => {
    const users: User[] = [];
    for (let n = 1; n <= 23; n++) users.push(await create(n));
    const ids = users.map((u) => String(u.id));
    for (const id of ids.filter((_, i) => i % 3 === 0)) s.graph.setMfaRegistered(id);
    const mfa = await reader.mfaRegistered([...ids, ids[0] ?? '']);
    expect(mfa.size).toBe(23);
    expect(ids.filter((id) => mfa.get(id))).toEqual(ids.filter((_, i) => i % 3 === 0));
    const batches = s.graph.requests.filter((r) => r.path === '/$batch');
    expect(batches.map((b) => (b.body as { requests: unknown[] }).requests.length)).toEqual([20, 3]);
    const asked = s.graph.requests.filter((r) => r.path === REGISTRATION_DETAILS);
    expect(asked).toHaveLength(23);
    for (const r of asked) {
      const query = new URLSearchParams(r.query);
      expect(query.has('$select')).toBe(false);
      expect(query.get('$filter')).toMatch(/^id eq '[0-9a-f-]{36}'$/);
      expect(r.status).toBe(200);
    }
  });

  it('lists the users in a group across pages, by id only, leaving out other groups', async () => {
    s.graph.addGroup('group-rr8', 'RR8 staff');
    s.graph.addGroup('group-rx1', 'RX1 staff');
    const users: User[] = [];
    for (let n = 1; n <= 5; n++) users.push(await create(n));
    const ids = users.map((u) => String(u.id));
    for (const id of ids.slice(0, 4)) s.graph.addToGroup('group-rr8', id);
    s.graph.addToGroup('group-rx1', ids[4] ?? '');
    const members = await reader.groupMembers('group-rr8', 3);
    expect([...members].sort()).toEqual(ids.slice(0, 4).sort());
    const asked = s.graph.requests.filter((r) => r.path === '/groups/group-rr8/members/microsoft.graph.user');
    expect(asked).toHaveLength(2);
    expect(new URLSearchParams(asked[0]?.query).get('$select')).toBe('id');
    expect(await reader.groupMembers('group-rx1')).toEqual(new Set([ids[4]]));
  });

  it('names the group Graph does not have', async () => {
    const e = await reader.groupMembers('no-such-group').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isDomainError(e) && e.code).toBe('GRAPH_ERROR');
    expect(isDomainError(e) && e.message).toContain('no-such-group');
  });
});
