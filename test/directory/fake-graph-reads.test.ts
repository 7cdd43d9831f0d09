import type { User, UserRegistrationDetails } from '@microsoft/microsoft-graph-types';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type GraphStandIn, graphErrorOf, startGraphStandIn } from './support/graph-test-client.js';

/** The stand-in's reads: /users/delta, /users with signInActivity, userRegistrationDetails. */

const T0 = new Date('2026-03-02T09:00:00Z');
const DAY = 24 * 60 * 60 * 1000;

interface Page<T> {
  value: T[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}
type DeltaEntry = User & { '@removed'?: { reason: string } };

const person = (n: number): User => ({
  accountEnabled: true,
  displayName: `Person ${n}`,
  givenName: 'Person',
  surname: String(n),
  mailNickname: `person.${n}`,
  userPrincipalName: `person.${n}@nhs.net`,
  passwordProfile: { password: 'Welcome-2026-Xq!', forceChangePasswordNextSignIn: true },
});

describe('the Graph directory stand-in, read back', () => {
  let s: GraphStandIn;
  let clock: Date;

  beforeAll(async () => {
    s = await startGraphStandIn({ now: () => clock });
  });
  afterAll(async () => {
    await s?.close();
  });
  beforeEach(() => {
    clock = T0;
    s.graph.reset();
  });

  const create = (n: number): Promise<User> => s.client.api('/users').post(person(n));
  const get = <T>(url: string, prefer?: string): Promise<Page<T>> => {
    const request = s.client.api(url);
    return (prefer ? request.header('Prefer', prefer) : request).get();
  };
  /** Every page of a delta round, from `url` to its deltaLink. */
  const round = async (url: string, prefer?: string) => {
    const pages: Page<DeltaEntry>[] = [];
    let next: string | undefined = url;
    while (next) {
      const page: Page<DeltaEntry> = await get<DeltaEntry>(next, prefer);
      pages.push(page);
      expect(page['@odata.nextLink'] && page['@odata.deltaLink']).toBeFalsy();
      next = page['@odata.nextLink'];
    }
    const deltaLink = pages.at(-1)?.['@odata.deltaLink'];
    if (!deltaLink) throw new Error('the round ended without a deltaLink');
    return { pages, entries: pages.flatMap((p) => p.value), deltaLink };
  };

  it('pages /users/delta with skiptokens up to a deltaLink, honouring odata.maxpagesize under its cap', async () => {
    for (let n = 1; n <= 7; n++) await create(n);
    const first = await round(
      '/users/delta?$select=displayName,userPrincipalName,employeeId',
      'odata.maxpagesize=3',
    );
    expect(first.pages.map((p) => p.value.length)).toEqual([3, 3, 1]);
    expect(first.pages[0]?.['@odata.nextLink']).toMatch(/\/v1\.0\/users\/delta\?\$skiptoken=[\w-]+$/);
    expect(first.deltaLink).toMatch(/\/v1\.0\/users\/delta\?\$deltatoken=[\w-]+$/);
    // The selected properties that were set, and the id; employeeId was never set, so it is absent.
    expect(first.entries[0]).toEqual({
      id: expect.any(String),
      displayName: 'Person 1',
      userPrincipalName: 'person.1@nhs.net',
    });
    s.graph.setDeltaPageSize(2);
    const capped = await round('/users/delta', 'odata.maxpagesize=5');
    expect(capped.pages.map((p) => p.value.length)).toEqual([2, 2, 2, 1]);
  });

  it('refuses an unknown $select on /users/delta as on /users', async () => {
    const e = await graphErrorOf(get('/users/delta?$select=displayName,shoeSize'));
    expect({ status: e.statusCode, message: e.message }).toEqual({
      status: 400,
      message:
        "Parsing OData Select and Expand failed: Could not find a property named 'shoeSize' on type 'microsoft.graph.user'.",
    });
  });

  it('answers a deltaLink with what changed since: new, updated, deleted ("changed") and purged ("deleted")', async () => {
    const [a, b, c] = [await create(1), await create(2), await create(3)];
    const first = await round('/users/delta?$select=displayName,accountEnabled');
    expect(first.entries).toHaveLength(3);
    const quiet = await round(first.deltaLink);
    expect(quiet.entries).toEqual([]);

    await s.client.api(`/users/${a.id}`).patch({ accountEnabled: false });
    await s.client.api(`/users/${b.id}`).delete();
    await s.client.api(`/users/${c.id}`).delete();
    await s.client.api(`/directory/deletedItems/${c.id}`).delete();
    const d = await create(4);
    const changes = await round(quiet.deltaLink);
    expect(changes.entries).toEqual([
      { id: a.id, displayName: 'Person 1', accountEnabled: false },
      { id: b.id, '@removed': { reason: 'changed' } },
      { id: c.id, '@removed': { reason: 'deleted' } },
      { id: d.id, displayName: 'Person 4', accountEnabled: true },
    ]);

    await s.client.api(`/directory/deletedItems/${b.id}/restore`).post({});
    const restored = await round(changes.deltaLink);
    expect(restored.entries).toEqual([{ id: b.id, displayName: 'Person 2', accountEnabled: true }]);
  });

  it('answers $deltatoken=latest with a deltaLink and no users', async () => {
    await create(1);
    const latest = await round('/users/delta?$deltatoken=latest');
    expect(latest.entries).toEqual([]);
    await create(2);
    expect((await round(latest.deltaLink)).entries.map((u) => u.displayName)).toEqual(['Person 2']);
  });

  it('answers an expired or unknown token with 410 syncStateNotFound and a Location to start again', async () => {
    await create(1);
    const first = await round('/users/delta');
    s.graph.expireDeltaTokens();
    const e = await graphErrorOf(get(first.deltaLink));
    expect({ status: e.statusCode, code: e.code, message: e.message }).toEqual({
      status: 410,
      code: 'syncStateNotFound',
      message:
        'The sync state generation is not found. The delta token is expired and data must be synchronized again.',
    });
    const response = await s.fetch(`${s.graph.url}/v1.0/users/delta?$deltatoken=never-issued`, {
      headers: { authorization: `Bearer ${s.entra.issued.at(-1) ?? ''}` },
    });
    expect(response.status).toBe(410);
    expect(response.headers.get('location')).toBe(`${s.graph.url}/v1.0/users/delta?$deltatoken=`);
    // Directory delta tokens last seven days.
    const fresh = await round('/users/delta');
    clock = new Date(T0.getTime() + 8 * DAY);
    expect((await graphErrorOf(get(fresh.deltaLink))).statusCode).toBe(410);
  });

  it('pages GET /users with $top and leaves signInActivity out for someone who never signed in', async () => {
    const users = [await create(1), await create(2), await create(3)];
    s.graph.setSignIn(String(users[1]?.id), new Date('2026-02-27T08:15:00Z'));
    const first = await get<User>('/users?$select=id,userPrincipalName,signInActivity&$top=2');
    expect(first.value).toHaveLength(2);
    expect(first['@odata.nextLink']).toMatch(
      /\$select=id%2CuserPrincipalName%2CsignInActivity&\$top=2&\$skiptoken=/,
    );
    const second = await get<User>(String(first['@odata.nextLink']));
    expect(second['@odata.nextLink']).toBeUndefined();
    const all = [...first.value, ...second.value];
    expect(all[0]).toEqual({ id: users[0]?.id, userPrincipalName: 'person.1@nhs.net' });
    expect(all[1]?.signInActivity).toMatchObject({
      lastSuccessfulSignInDateTime: '2026-02-27T08:15:00.000Z',
    });
    expect('signInActivity' in (all[2] ?? {})).toBe(false);
    const tooMany = await graphErrorOf(get('/users?$top=1000'));
    expect({ status: tooMany.statusCode, code: tooMany.code }).toEqual({
      status: 400,
      code: 'Request_UnsupportedQuery',
    });
  });

  it('refuses signInActivity and the MFA report in a tenant without Entra ID P1/P2', async () => {
    await create(1);
    s.graph.setPremium(false);
    for (const url of [
      '/users?$select=id,signInActivity',
      '/reports/authenticationMethods/userRegistrationDetails',
    ]) {
      const e = await graphErrorOf(get(url));
      expect({ status: e.statusCode, code: e.code }).toEqual({
        status: 403,
        code: 'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
      });
    }
    expect((await get<User>('/users?$select=id')).value).toHaveLength(1);
  });

  it('needs AuditLog.Read.All for signInActivity and the MFA report', async () => {
    await create(1);
    s.graph.grant(['User.Read.All']);
    for (const url of [
      '/users?$select=signInActivity',
      '/reports/authenticationMethods/userRegistrationDetails',
    ]) {
      expect((await graphErrorOf(get(url))).statusCode).toBe(403);
    }
    expect((await get<User>('/users?$select=id')).value).toHaveLength(1);
  });

  it('filters userRegistrationDetails by id, answers isMfaRegistered, and refuses $select and in', async () => {
    const [a, b] = [await create(1), await create(2)];
    s.graph.setMfaRegistered(String(a.id));
    const report = '/reports/authenticationMethods/userRegistrationDetails';
    const one = await get<UserRegistrationDetails>(
      `${report}?$filter=${encodeURIComponent(`id eq '${a.id}'`)}`,
    );
    expect(one.value).toEqual([
      expect.objectContaining({ id: a.id, userPrincipalName: 'person.1@nhs.net', isMfaRegistered: true }),
    ]);
    const other = await get<UserRegistrationDetails>(
      `${report}?$filter=${encodeURIComponent(`id eq '${b.id}'`)}`,
    );
    expect(other.value.map((r) => r.isMfaRegistered)).toEqual([false]);
    const selected = await graphErrorOf(get(`${report}?$select=id,isMfaRegistered`));
    expect(selected.statusCode).toBe(400);
    const within = await graphErrorOf(
      get(`${report}?$filter=${encodeURIComponent(`id in ('${a.id}','${b.id}')`)}`),
    );
    expect({ status: within.statusCode, code: within.code }).toEqual({
      status: 400,
      code: 'Request_UnsupportedQuery',
    });
  });
});
