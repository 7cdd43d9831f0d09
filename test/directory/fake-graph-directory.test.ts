import type {
  PasswordProfile,
  TemporaryAccessPassAuthenticationMethod,
  User,
} from '@microsoft/microsoft-graph-types';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type GraphStandIn, graphErrorOf, noRetry, startGraphStandIn } from './support/graph-test-client.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const T0 = new Date('2026-03-02T09:00:00Z');
const DAY = 24 * 60 * 60 * 1000;

const newUser = (name: string, password = 'Welcome-2026-Xq!'): User => ({
  accountEnabled: true,
  displayName: name,
  mailNickname: name.toLowerCase().replace(' ', '.'),
  userPrincipalName: `${name.toLowerCase().replace(' ', '.')}@nhs.net`,
  employeeId: `E-${name.length}`,
  passwordProfile: { password, forceChangePasswordNextSignIn: true } satisfies PasswordProfile,
});

describe('the Graph directory stand-in', () => {
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
    s.graph.setChaos(undefined);
    s.graph.setWriteBudget(undefined);
  });

  const create = (body: User): Promise<User> => s.client.api('/users').post(body);
  const refusal = async (promise: Promise<unknown>) => {
    const e = await graphErrorOf(promise);
    return { status: e.statusCode, code: e.code, message: e.message };
  };

  it('creates a user (201, a GUID id, no password shown) and keeps the password for the test', async () => {
    const created = await create(newUser('Jane Doe'));
    expect(created.id).toMatch(GUID);
    expect(created).toMatchObject({
      userPrincipalName: 'jane.doe@nhs.net',
      accountEnabled: true,
      employeeId: 'E-8',
    });
    expect(created.passwordProfile).toEqual({ password: null, forceChangePasswordNextSignIn: true });
    expect(JSON.stringify(created)).not.toContain('Welcome-2026-Xq!');
    expect(s.graph.passwordOf('Jane.Doe@NHS.net')).toBe('Welcome-2026-Xq!');
    expect(s.graph.requests).toEqual([
      expect.objectContaining({ method: 'POST', path: '/users', status: 201, body: newUser('Jane Doe') }),
    ]);
    const fetched: User = await s.client.api(`/users/${created.id}`).get();
    expect(fetched).toMatchObject({
      id: created.id,
      displayName: 'Jane Doe',
      businessPhones: [],
      jobTitle: null,
    });
  });

  it('refuses a taken userPrincipalName, whatever its case; a deleted user frees its own', async () => {
    const first = String((await create(newUser('Jane Doe'))).id);
    const again = { ...newUser('Jane Doe'), userPrincipalName: 'JANE.DOE@nhs.net' };
    const taken = {
      status: 400,
      code: 'Request_BadRequest',
      message: 'Another object with the same value for property userPrincipalName already exists.',
    };
    expect(await refusal(create(again))).toEqual(taken);
    await s.client.api(`/users/${first}`).delete();
    // Entra renames a deleted user's UPN with its object id in front, so the name is free again.
    expect(await s.client.api(`/directory/deletedItems/${first}`).get()).toMatchObject({
      userPrincipalName: `${first.replaceAll('-', '')}jane.doe@nhs.net`,
    });
    const second = String((await create(again)).id);
    const restore = () => s.client.api(`/directory/deletedItems/${first}/restore`).post({});
    expect(await refusal(restore())).toEqual(taken);
    await s.client.api(`/users/${second}`).delete();
    expect(await restore()).toMatchObject({ id: first, userPrincipalName: 'jane.doe@nhs.net' });
  });

  it('finds users by userPrincipalName in (…) or eq, as Graph filters them, and refuses what it refuses', async () => {
    const ann = String((await create(newUser('Ann Bell'))).id);
    await create({
      ...newUser('Ann Bell'),
      userPrincipalName: "ann.o'bell@nhs.net",
      mailNickname: 'ann.obell',
    });
    const list = (filter: string, select = 'id,userPrincipalName') =>
      s.client.api(`/users?$filter=${encodeURIComponent(filter)}&$select=${select}`).get();
    const found = await list(
      "userPrincipalName in ('ANN.BELL@nhs.net','nobody@nhs.net','ann.o''bell@nhs.net')",
    );
    expect(found.value).toEqual([
      { id: ann, userPrincipalName: 'ann.bell@nhs.net' },
      expect.objectContaining({ userPrincipalName: "ann.o'bell@nhs.net" }),
    ]);
    expect((await list("UserPrincipalName eq 'ann.bell@NHS.net'", 'ID')).value).toEqual([{ id: ann }]);
    const fifteen = Array.from({ length: 15 }, (_, i) => `'x${i}@nhs.net'`).join(',');
    expect((await list(`userPrincipalName in (${fifteen})`)).value).toEqual([]);

    expect(await refusal(list(`userPrincipalName in (${fifteen},'ann.bell@nhs.net')`))).toEqual({
      status: 400,
      code: 'Request_UnsupportedQuery',
      message:
        "Too many child clauses specified in search filter expression containing 'OR' operators: 16. Max allowed: 15.",
    });
    const invalid = { status: 400, code: 'BadRequest', message: 'Invalid filter clause' };
    expect(await refusal(list("userPrincipalName eq 'ann.o'bell@nhs.net'"))).toEqual(invalid);
    expect(await refusal(list("userPrincipalName in ('ann.bell@nhs.net'"))).toEqual(invalid);
    expect(await refusal(list("userPrincipalName in 'ann.bell@nhs.net'"))).toEqual(invalid);
    expect(await refusal(list("city in ('Leeds')"))).toEqual({
      status: 400,
      code: 'Request_UnsupportedQuery',
      message: "Unsupported or invalid query filter clause specified for property 'city' of resource 'User'.",
    });
    expect((await refusal(list("userPrincipalName eq 'ann.bell@nhs.net'", 'id,upn'))).message).toBe(
      "Parsing OData Select and Expand failed: Could not find a property named 'upn' on type 'microsoft.graph.user'.",
    );
  });

  it('refuses a user without a required property, a password, or a verified domain', async () => {
    const { mailNickname: _, ...noNickname } = newUser('Sam Lee');
    expect(await refusal(create(noNickname))).toMatchObject({
      code: 'Request_BadRequest',
      message: 'Property mailNickname value is required but is empty or missing.',
    });
    expect((await refusal(create({ ...newUser('Sam Lee'), passwordProfile: {} }))).message).toBe(
      'A password must be specified to create a new user.',
    );
    expect(
      (await refusal(create({ ...newUser('Sam Lee'), userPrincipalName: 'sam@gmail.com' }))).message,
    ).toMatch(/^The domain portion of the userPrincipalName property is invalid/);
  });

  it('refuses properties the types file does not declare, naming them as Graph does', async () => {
    const withColour = { ...newUser('Kim Park'), favouriteColour: 'teal' } as User;
    expect(await refusal(create(withColour))).toEqual({
      status: 400,
      code: 'Request_BadRequest',
      message: "Invalid property 'favouriteColour'.",
    });
    const profile = { password: 'x-Long-enough-1', forceChange: true } as PasswordProfile;
    expect((await refusal(create({ ...newUser('Kim Park'), passwordProfile: profile }))).message).toBe(
      "The property 'forceChange' does not exist on type 'microsoft.graph.passwordProfile'. Make sure to only use property names that are defined by the type or mark the type as open type.",
    );
    const extension = {
      ...newUser('Kim Park'),
      extension_0123456789abcdef0123456789abcdef_site: 'RXX',
    } as User;
    expect((await refusal(create(extension))).message).toMatch(
      /^The following extension properties are not available/,
    );
    expect(
      await create({ ...newUser('Kim Park'), '@odata.type': '#microsoft.graph.user' } as User),
    ).toHaveProperty('id');
  });

  it('refuses values of the wrong EDM type, with OData’s conversion messages', async () => {
    const id = String((await create(newUser('Ali Khan'))).id);
    const patch = (body: unknown) => refusal(s.client.api(`/users/${id}`).patch(body));
    expect(await patch({ accountEnabled: 'yes' })).toEqual({
      status: 400,
      code: 'Request_BadRequest',
      message: "Cannot convert the literal 'yes' to the expected type 'Edm.Boolean'.",
    });
    expect((await patch({ displayName: 42 })).message).toBe(
      "Cannot convert a value of type 'Edm.Int32' to the expected target type 'Edm.String'.",
    );
    expect((await patch({ employeeHireDate: '02/03/2026' })).message).toBe(
      "Cannot convert the literal '02/03/2026' to the expected type 'Edm.DateTimeOffset'.",
    );
    expect((await patch({ businessPhones: null })).message).toMatch(
      /^A null value was found for the property named 'businessPhones'/,
    );
    expect((await patch({ businessPhones: '0113 000 0000' })).message).toMatch(
      /'StartArray' node was expected/,
    );
    expect((await patch({ employeeOrgData: { division: 'North', floor: 2 } })).message).toMatch(
      /^The property 'floor' does not exist on type 'microsoft.graph.employeeOrgData'/,
    );
    expect(s.graph.user(id)).toMatchObject({ accountEnabled: true, displayName: 'Ali Khan' });
  });

  it('updates, finds by $filter and $select, disables and revokes sign-in sessions', async () => {
    const id = String((await create(newUser('Ann Bell'))).id);
    const change: User = {
      jobTitle: 'Ward clerk',
      employeeId: 'E-042',
      employeeLeaveDateTime: '2026-04-30T23:59:59Z',
    };
    expect(await s.client.api(`/users/${id}`).patch(change)).toBeUndefined();
    const found = await s.client
      .api('/users')
      .filter("employeeId eq 'E-042'")
      .select(['id', 'jobTitle'])
      .get();
    expect(found.value).toEqual([{ id, jobTitle: 'Ward clerk' }]);
    const byUpn = await s.client.api("/users?$filter=userPrincipalName eq 'ANN.BELL@nhs.net'").get();
    expect(byUpn.value).toHaveLength(1);
    expect(await s.client.api('/users/ann.bell@nhs.net').select('employeeLeaveDateTime').get()).toMatchObject(
      {
        employeeLeaveDateTime: '2026-04-30T23:59:59Z',
      },
    );
    expect((await refusal(s.client.api(`/users/${id}`).select('shoeSize').get())).message).toMatch(
      /Could not find a property named 'shoeSize' on type 'microsoft.graph.user'/,
    );
    expect((await refusal(s.client.api('/users').filter("city eq 'Leeds'").get())).code).toBe(
      'Request_UnsupportedQuery',
    );

    await s.client.api(`/users/${id}`).patch({ accountEnabled: false } satisfies User);
    const revoked = await s.client.api(`/users/${id}/revokeSignInSessions`).post({});
    expect(revoked).toMatchObject({ value: true });
    expect(s.graph.user(id)).toMatchObject({
      accountEnabled: false,
      signInSessionsValidFromDateTime: T0.toISOString(),
    });
    expect((await refusal(s.client.api('/users/nobody@nhs.net').patch({ jobTitle: 'x' }))).status).toBe(404);
  });

  it('deletes into deleted items, restores within 30 days, and purges after', async () => {
    const id = String((await create(newUser('Pat Hill'))).id);
    await s.client.api(`/users/${id}`).delete();
    expect(s.graph.user(id)).toBeUndefined();
    const deleted = await s.client.api(`/directory/deletedItems/${id}`).get();
    expect(deleted).toMatchObject({
      '@odata.type': '#microsoft.graph.user',
      id,
      deletedDateTime: T0.toISOString(),
    });
    clock = new Date(T0.getTime() + 29 * DAY);
    expect(await s.client.api(`/directory/deletedItems/${id}/restore`).post({})).toMatchObject({
      id,
      deletedDateTime: null,
    });
    expect(s.graph.user(id)).toMatchObject({ userPrincipalName: 'pat.hill@nhs.net' });

    await s.client.api(`/users/${id}`).delete();
    clock = new Date(clock.getTime() + 30 * DAY);
    expect(await refusal(s.client.api(`/directory/deletedItems/${id}/restore`).post({}))).toEqual({
      status: 404,
      code: 'Request_ResourceNotFound',
      message: `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
    });
    expect(s.graph.deletedUser(id)).toBeUndefined();
    expect(s.graph.passwordOf('pat.hill@nhs.net')).toBeUndefined();
    expect(await create(newUser('Pat Hill'))).toHaveProperty('id');
  });

  it('adds and removes group members by reference, refusing duplicates and strangers', async () => {
    s.graph.addGroup('g-rxx', 'RXX staff');
    const id = String((await create(newUser('Lee Moss'))).id);
    const ref = { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` };
    await s.client.api('/groups/g-rxx/members/$ref').post(ref);
    expect(s.graph.membersOf('g-rxx')).toEqual([id]);
    expect(await refusal(s.client.api('/groups/g-rxx/members/$ref').post(ref))).toEqual({
      status: 400,
      code: 'Request_BadRequest',
      message:
        "One or more added object references already exist for the following modified properties: 'members'.",
    });
    expect((await refusal(s.client.api('/groups/g-none/members/$ref').post(ref))).status).toBe(404);
    await s.client.api(`/groups/g-rxx/members/${id}/$ref`).delete();
    expect(s.graph.membersOf('g-rxx')).toEqual([]);
    expect((await refusal(s.client.api(`/groups/g-rxx/members/${id}/$ref`).delete())).code).toBe(
      'Request_ResourceNotFound',
    );
  });

  it('issues a Temporary Access Pass within the policy’s lifetime, and refuses one outside it', async () => {
    const id = String((await create(newUser('Max Rowe'))).id);
    const ask: TemporaryAccessPassAuthenticationMethod = {
      lifetimeInMinutes: 480,
      isUsableOnce: true,
      startDateTime: '2026-03-02T09:00:00Z',
    };
    const tap = await s.client.api(`/users/${id}/authentication/temporaryAccessPassMethods`).post(ask);
    expect(tap).toMatchObject({
      lifetimeInMinutes: 480,
      isUsableOnce: true,
      methodUsabilityReason: 'EnabledByPolicy',
    });
    expect(tap.id).toMatch(GUID);
    expect(tap.temporaryAccessPass).toBe(s.graph.tapOf(id)?.temporaryAccessPass);
    expect(tap.temporaryAccessPass).toHaveLength(8);
    for (const lifetimeInMinutes of [5, 43201]) {
      const e = await refusal(
        s.client.api(`/users/${id}/authentication/temporaryAccessPassMethods`).post({ lifetimeInMinutes }),
      );
      expect(e).toEqual({
        status: 400,
        code: 'badRequest',
        message: 'Invalid LifetimeInMinutes specified. The valid range between 10 and 43200.',
      });
    }
    const wrong = await refusal(
      s.client
        .api(`/users/${id}/authentication/temporaryAccessPassMethods`)
        .post({ lifetimeInMinutes: '60' }),
    );
    expect(wrong.message).toBe("Cannot convert the literal '60' to the expected type 'Edm.Int32'.");
  });

  it('answers a $batch item by item, fails dependants of a failure, and refuses more than 20', async () => {
    const json = { 'Content-Type': 'application/json' };
    const taken = newUser('Jo Dean');
    await create(taken);
    const answer = await s.client.api('/$batch').post({
      requests: [
        { id: '1', method: 'POST', url: '/users', headers: json, body: newUser('Ed Fox') },
        { id: '2', method: 'POST', url: '/users', headers: json, body: taken },
        { id: '3', method: 'PATCH', url: '/users/ghost@nhs.net', headers: json, body: { jobTitle: 'x' } },
        {
          id: '4',
          method: 'GET',
          url: "users?$filter=userPrincipalName eq 'ed.fox@nhs.net'",
          dependsOn: ['1'],
        },
        { id: '5', method: 'DELETE', url: '/users/jo.dean@nhs.net', dependsOn: ['2'] },
        { id: '6', method: 'POST', url: '/users', body: newUser('No Header') },
      ],
    });
    const status = Object.fromEntries(
      answer.responses.map((r: { id: string; status: number }) => [r.id, r.status]),
    );
    expect(status).toEqual({ '1': 201, '2': 400, '3': 404, '4': 200, '5': 424, '6': 400 });
    const byId = (id: string) => answer.responses.find((r: { id: string }) => r.id === id);
    expect(byId('2').body.error.message).toBe(
      'Another object with the same value for property userPrincipalName already exists.',
    );
    expect(byId('4').body.value).toHaveLength(1);
    expect(s.graph.user('jo.dean@nhs.net')).toBeDefined();
    expect(s.graph.requests.map((r) => r.batchItem ?? r.path)).toEqual([
      '/users',
      '/$batch',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
    ]);

    const many = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/users' }));
    expect(await refusal(s.client.api('/$batch').post({ requests: many }))).toMatchObject({
      status: 400,
      code: 'BadRequest',
    });
    const twice = [many[0], many[0]];
    expect((await refusal(s.client.api('/$batch').post({ requests: twice }))).message).toBe(
      'Request Id 0 has to be unique in a batch.',
    );
  });

  it('refuses a missing permission with 403 and an unknown token with 401', async () => {
    s.graph.grant(['User.Read.All']);
    const denied = {
      status: 403,
      code: 'Authorization_RequestDenied',
      message: 'Insufficient privileges to complete the operation.',
    };
    expect(await refusal(create(newUser('Ros Hart')))).toEqual(denied);
    s.graph.grant(['User.ReadWrite.All']);
    const id = String((await create(newUser('Ros Hart'))).id);
    const leave: User = { employeeLeaveDateTime: '2026-05-01T00:00:00Z' };
    expect(await refusal(s.client.api(`/users/${id}`).patch(leave))).toEqual(denied);
    s.graph.addGroup('g-1', 'One');
    const ref = { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` };
    expect(await refusal(s.client.api('/groups/g-1/members/$ref').post(ref))).toEqual(denied);
    const tap = s.client.api(`/users/${id}/authentication/temporaryAccessPassMethods`).post({});
    expect(await refusal(tap)).toEqual(denied);
    s.graph.grant(['User.ReadWrite.All', 'User-LifeCycleInfo.ReadWrite.All', 'GroupMember.ReadWrite.All']);
    await s.client.api(`/users/${id}`).patch(leave);
    await s.client.api('/groups/g-1/members/$ref').post(ref);

    const res = await s.fetch(`${s.graph.url}/v1.0/users`, {
      headers: { authorization: 'Bearer not-from-entra' },
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      error: { code: 'InvalidAuthenticationToken', innerError: { date: expect.any(String) } },
    });
  });

  it('sends seeded 429s and 503s with Retry-After, the same for the same seed', async () => {
    const statuses = async () => {
      const seen: string[] = [];
      for (let i = 0; i < 24; i++) {
        try {
          await s.client.api('/users').middlewareOptions(noRetry()).get();
          seen.push('200');
        } catch (e) {
          const g = await graphErrorOf(Promise.reject(e));
          seen.push(`${g.statusCode}:${g.headers?.get('retry-after')}`);
        }
      }
      return seen;
    };
    s.graph.setChaos({ seed: 7, throttleRate: 0.25, unavailableRate: 0.25, retryAfterSeconds: 2 });
    const first = await statuses();
    expect(first).toContain('429:2');
    expect(first).toContain('503:2');
    s.graph.setChaos({ seed: 7, throttleRate: 0.25, unavailableRate: 0.25, retryAfterSeconds: 2 });
    expect(await statuses()).toEqual(first);
    s.graph.setChaos({ seed: 8, throttleRate: 0.25, unavailableRate: 0.25, retryAfterSeconds: 2 });
    expect(await statuses()).not.toEqual(first);

    s.graph.setChaos({ seed: 7, throttleRate: 0.5, retryAfterSeconds: 0 }); // draws: 429, 429, pass…
    const created = await create(newUser('Ivy Cole')); // the client's retry handler rides over the 429s
    expect(s.graph.user(String(created.id))).toBeDefined();
    const posts = s.graph.requests.filter((r) => r.method === 'POST' && r.path === '/users');
    expect(posts.map((r) => r.status)).toContain(429);
    expect(posts.at(-1)?.status).toBe(201);
    const batch = await s.client.api('/$batch').post({
      requests: Array.from({ length: 10 }, (_, i) => ({
        id: `${i}`,
        method: 'GET',
        url: `/users/${created.id}`,
      })),
    });
    const throttled = batch.responses.filter((r: { status: number }) => r.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    expect(throttled[0].headers['retry-after']).toBe('0');
    expect(batch.responses.length).toBe(10);
  });

  it('throttles writes over the budget with a Retry-After from the window, and counts them', async () => {
    const id = String((await create(newUser('Una Webb'))).id);
    s.graph.setWriteBudget({ writes: 3, windowMs: 10_000 });
    const patch = () => s.client.api(`/users/${id}`).middlewareOptions(noRetry()).patch({ jobTitle: 'x' });
    for (let i = 0; i < 3; i++) await patch();
    const over = await graphErrorOf(patch());
    expect([over.statusCode, over.code, over.headers?.get('retry-after')]).toEqual([
      429,
      'TooManyRequests',
      '10',
    ]);
    await s.client.api(`/users/${id}`).get(); // reads are not writes
    clock = new Date(T0.getTime() + 4_000);
    expect((await graphErrorOf(patch())).headers?.get('retry-after')).toBe('6');
    clock = new Date(T0.getTime() + 10_000);
    await patch();
    expect(s.graph.stats()).toMatchObject({
      requests: 8,
      writesAccepted: 5,
      throttled: 2,
      throttledByBudget: 2,
    });
    expect(s.graph.stats().perSecond).toEqual([
      { at: T0.getTime(), requests: 6, writesAccepted: 4, throttled: 1, unavailable: 0 },
      { at: T0.getTime() + 4_000, requests: 1, writesAccepted: 0, throttled: 1, unavailable: 0 },
      { at: T0.getTime() + 10_000, requests: 1, writesAccepted: 1, throttled: 0, unavailable: 0 },
    ]);
  });
});
