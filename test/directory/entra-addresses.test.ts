import type { User } from '@microsoft/microsoft-graph-types';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEntraDirectory } from '../../adapters/directory/entra.js';
import { createEntraAddressDirectory, upnInFilter } from '../../adapters/directory/entra-addresses.js';
import { GraphUsersClient, graphClient } from '../../adapters/graph/client.js';
import type { AddressDirectory } from '../../src/service/ports.js';
import { trustingTransport } from '../graph/support/trusting-transport.js';
import { type GraphStandIn, startGraphStandIn } from './support/graph-test-client.js';

const T0 = new Date('2026-03-02T09:00:00Z');

const user = (upn: string): User => ({
  accountEnabled: true,
  displayName: upn,
  mailNickname: upn.split('@')[0]?.replaceAll("'", '') ?? 'x',
  userPrincipalName: upn,
  passwordProfile: { password: 'Welcome-2026-Xq!7', forceChangePasswordNextSignIn: true },
});

describe('which addresses Entra holds, asked of the Graph stand-in over HTTPS', () => {
  let s: GraphStandIn;
  let addresses: AddressDirectory;

  beforeAll(async () => {
    s = await startGraphStandIn({ now: () => T0 });
    // The Entra directory answers the question as well as applying effects.
    addresses = createEntraDirectory({ client: s.client, graphOrigin: s.graph.url });
  });
  afterAll(async () => {
    await s?.close();
  });
  beforeEach(() => {
    s.graph.reset();
    s.graph.setChaos(undefined);
  });

  const make = async (upn: string) => String(((await s.client.api('/users').post(user(upn))) as User).id);
  /** The $filter of each GET /users the stand-in answered, decoded. */
  const lookups = () =>
    s.graph.requests
      .filter((r) => r.method === 'GET' && r.path === '/users')
      .map((r) => new URLSearchParams(r.query));

  it('asks once for a few candidates, with $select=id,userPrincipalName, and names those held', async () => {
    await make('jane.doe@nhs.net');
    await make('jane.doe1@nhs.net');
    s.graph.requests.length = 0;
    const candidates = ['jane.doe@nhs.net', 'jane.doe1@nhs.net', 'jane.doe2@nhs.net', 'jane.doe3@nhs.net'];
    expect(await addresses.heldAddresses(candidates)).toEqual(
      new Set(['jane.doe@nhs.net', 'jane.doe1@nhs.net']),
    );
    const [query, ...more] = lookups();
    expect(more).toEqual([]);
    expect(query?.get('$filter')).toBe(upnInFilter(candidates));
    expect(query?.get('$select')).toBe('id,userPrincipalName');
    expect(s.graph.requests.map((r) => r.status)).toEqual([200]);
  });

  it('asks at most 15 addresses to a request, as Graph allows, and gathers the answers', async () => {
    const candidates = Array.from({ length: 32 }, (_, n) => `sam.lee${n === 0 ? '' : n}@nhs.net`);
    for (const n of [0, 14, 15, 29, 31]) await make(candidates[n] ?? '');
    s.graph.requests.length = 0;
    expect(await addresses.heldAddresses(candidates)).toEqual(
      new Set([
        'sam.lee@nhs.net',
        'sam.lee14@nhs.net',
        'sam.lee15@nhs.net',
        'sam.lee29@nhs.net',
        'sam.lee31@nhs.net',
      ]),
    );
    const sizes = lookups().map((q) => (q.get('$filter')?.match(/'[^']*'/g) ?? []).length);
    expect(sizes.sort((a, b) => a - b)).toEqual([2, 15, 15]);
    expect(s.graph.requests.every((r) => r.status === 200)).toBe(true);
  });

  it('quotes an apostrophe as OData does, and compares addresses whatever their case', async () => {
    await make("ann.o'bell@nhs.net");
    await make('Kim.Park@NHS.net');
    s.graph.requests.length = 0;
    const asked = ["ANN.O'BELL@nhs.net", 'kim.park@nhs.net', 'kim.park1@nhs.net', 'kim.park@nhs.net'];
    // Answered as the caller spelt them.
    expect(await addresses.heldAddresses(asked)).toEqual(new Set(["ANN.O'BELL@nhs.net", 'kim.park@nhs.net']));
    expect(lookups()[0]?.get('$filter')).toBe(
      "userPrincipalName in ('ann.o''bell@nhs.net','kim.park@nhs.net','kim.park1@nhs.net')",
    );
  });

  it('counts a soft-deleted user’s address as free: Entra renames a deleted user’s UPN', async () => {
    const id = await make('pat.hill@nhs.net');
    await s.client.api(`/users/${id}`).delete();
    expect(await addresses.heldAddresses(['pat.hill@nhs.net'])).toEqual(new Set());
    // And the directory agrees: a new user may take it.
    expect(await make('pat.hill@nhs.net')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('asks nothing for no candidates', async () => {
    expect(await addresses.heldAddresses([])).toEqual(new Set());
    expect(s.graph.requests).toEqual([]);
  });

  it('rejects at once, without retrying, when Graph throttles or is unavailable', async () => {
    s.graph.setChaos({ seed: 1, throttleRate: 1, retryAfterSeconds: 0 });
    await expect(addresses.heldAddresses(['jane.doe@nhs.net'])).rejects.toThrow(
      /^Microsoft Graph throttled the request to look up which of jane\.doe@nhs\.net it holds \(HTTP 429 TooManyRequests/,
    );
    s.graph.setChaos({ seed: 1, unavailableRate: 1, retryAfterSeconds: 0 });
    await expect(addresses.heldAddresses(['jane.doe@nhs.net'])).rejects.toThrow(
      /HTTP 503 serviceNotAvailable/,
    );
    expect(lookups()).toHaveLength(2);
  });

  it('names the permission when Graph refuses to read users', async () => {
    s.graph.grant(['GroupMember.ReadWrite.All']);
    await expect(addresses.heldAddresses(['jane.doe@nhs.net'])).rejects.toThrow(
      /HTTP 403 Authorization_RequestDenied.*User\.Read\.All/,
    );
  });

  it('gives up after its deadline when Graph does not answer', async () => {
    const transport = trustingTransport(s.tls.cert);
    const tokens = new GraphUsersClient(s.config, pino({ level: 'silent' }), transport);
    // A fetch that never answers and ignores the abort signal: only the deadline can end the wait.
    const silent = graphClient(
      s.config.baseUrl,
      () => tokens.token(),
      () => new Promise<Response>(() => {}),
    );
    const slow = createEntraAddressDirectory({ client: silent, timeoutMs: 200 });
    const started = Date.now();
    await expect(slow.heldAddresses(['jane.doe@nhs.net'])).rejects.toThrow(
      'Microsoft Graph did not say within 200 ms which addresses it holds.',
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
