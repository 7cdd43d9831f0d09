import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GraphSignInPoller } from '../../adapters/graph/poller.js';
import { graphSignInJob } from '../../adapters/graph/schedule.js';
import { signInOf } from '../../adapters/graph/sign-ins.js';
import { type GraphConfig, loadConfig } from '../../src/config.js';
import { isDomainError } from '../../src/domain/errors.js';
import { REDACT_PATHS } from '../../src/logger.js';
import { describeEachEngine } from '../support/engines.js';
import {
  activeAccount,
  addOrg,
  auditCount,
  day,
  operator,
  person,
  T0,
  useService,
} from '../support/service.js';
import { FakeEntra, FakeGraph, type FakeUser } from './support/fake-microsoft.js';
import { createTestCertificate, type TestCertificate } from './support/test-certificate.js';
import { trustingTransport } from './support/trusting-transport.js';

const TENANT = '0c3c1e5e-8f0a-4a57-9a4b-6f2d3c1b2a10';
const CLIENT_ID = '6b1f3c52-2d8e-4f7a-9c41-0e5d7a8b9c20';
const SECRET = 'test-client-secret~Qx8Q~do-not-use-0123456789';

/** A pino logger writing into memory, at the most talkative level, so a leak would show. */
function capturingLogger() {
  const lines: string[] = [];
  const logger = pino(
    { level: 'trace', redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    { write: (line: string) => lines.push(line) },
  );
  return { logger, text: () => lines.join('') };
}

/** Refused with `code`: returns the refusal's message. */
async function refusalOf(promise: Promise<unknown>, code: string): Promise<string> {
  try {
    await promise;
  } catch (e) {
    if (!isDomainError(e)) throw e;
    expect(e.code).toBe(code);
    return e.message;
  }
  throw new Error(`expected ${code}, but the poll succeeded`);
}

const iso = (d: Date) => d.toISOString();

describe('reading a Graph user’s sign-in', () => {
  it('takes the latest of the interactive, non-interactive and successful sign-in times', () => {
    expect(
      signInOf({
        userPrincipalName: 'Jane.Doe@nhs.net',
        signInActivity: {
          lastSignInDateTime: '2026-11-01T08:00:00Z',
          lastNonInteractiveSignInDateTime: '2026-11-20T10:30:00Z',
          lastSuccessfulSignInDateTime: '2026-11-19T09:00:00Z',
        },
      }),
    ).toEqual({
      kind: 'observation',
      observation: { address: 'jane.doe@nhs.net', at: new Date('2026-11-20T10:30:00Z') },
      // No directory id in this user: nothing a first login could be checked by.
      successful: null,
    });
    expect(
      signInOf({
        userPrincipalName: 'sam@nhs.net',
        signInActivity: { lastSignInDateTime: null, lastSuccessfulSignInDateTime: '2026-11-21T07:00:00Z' },
      }),
    ).toMatchObject({ observation: { at: new Date('2026-11-21T07:00:00Z') } });
  });

  it('uses an @nhs.net mail when the user principal name is not one, and skips everyone else', () => {
    expect(
      signInOf({
        userPrincipalName: 'kim.park_x@nhs.onmicrosoft.com',
        mail: 'Kim.Park@nhs.net',
        signInActivity: { lastSignInDateTime: '2026-11-20T10:30:00Z' },
      }),
    ).toMatchObject({ observation: { address: 'kim.park@nhs.net' } });
    expect(
      signInOf({
        userPrincipalName: 'jo@contoso.com',
        signInActivity: { lastSignInDateTime: '2026-11-20T10:30:00Z' },
      }),
    ).toEqual({ kind: 'not-nhs-net' });
    expect(signInOf({ userPrincipalName: 'new.starter@nhs.net', signInActivity: null })).toEqual({
      kind: 'never-signed-in',
    });
    expect(signInOf({ userPrincipalName: 'odd@nhs.net', signInActivity: {} })).toEqual({
      kind: 'never-signed-in',
    });
    expect(signInOf({ userPrincipalName: 'bad..dots@nhs.net' })).toMatchObject({ kind: 'invalid' });
  });
});

describeEachEngine('the Microsoft Graph sign-in poller', (ctx) => {
  const s = useService(ctx);
  let tls: TestCertificate;
  let entra: FakeEntra;
  let graph: FakeGraph;
  let config: GraphConfig;

  beforeAll(async () => {
    tls = createTestCertificate();
    entra = new FakeEntra(tls, { tenant: TENANT, clientId: CLIENT_ID, clientSecret: SECRET });
    graph = new FakeGraph(tls, (token) => entra.issued.includes(token));
    await entra.start();
    await graph.start();
    const loaded = loadConfig({
      GRAPH_TENANT_ID: TENANT,
      GRAPH_CLIENT_ID: CLIENT_ID,
      GRAPH_CLIENT_SECRET: SECRET,
      GRAPH_BASE_URL: graph.url,
      GRAPH_AUTHORITY_URL: entra.url,
    }).graph;
    if (!loaded) throw new Error('the Graph configuration did not load');
    config = loaded;
  });
  afterAll(async () => {
    await graph?.close();
    await entra?.close();
    tls?.remove();
  });
  beforeEach(() => {
    entra.tokenRequests.length = 0;
    graph.requests.length = 0;
    graph.failOn.clear();
    graph.pageSize = 3;
    graph.users = [];
  });

  const poller = (logger = capturingLogger().logger, secret = SECRET) =>
    new GraphSignInPoller(
      { ...config, clientSecret: secret },
      { lifecycle: s.lifecycle, logger, transport: trustingTransport(tls.cert) },
    );

  /** Accounts in every state a sign-in can meet, and the users Graph lists for them (3 pages). */
  async function seed() {
    await addOrg(s.lifecycle, 'RXX');
    const busy = await activeAccount(s.lifecycle, 'RXX', person('Busy', 'Bee'), day(-20));
    const viaMail = await activeAccount(s.lifecycle, 'RXX', person('Mail', 'Only'), day(-20));
    const recent = await activeAccount(s.lifecycle, 'RXX', person('Very', 'Recent'), day(-1));
    const quiet = await activeAccount(s.lifecycle, 'RXX', person('Never', 'Seen'), day(-10));
    const pending = (await s.lifecycle.provision(operator(day(-3)), { ...person('Not', 'Yet'), org: 'RXX' }))
      .account.address;
    const users: FakeUser[] = [
      {
        userPrincipalName: busy,
        signInActivity: {
          lastSignInDateTime: iso(day(-4)),
          lastNonInteractiveSignInDateTime: iso(day(-2)),
          lastSuccessfulSignInDateTime: iso(day(-4)),
        },
      },
      {
        userPrincipalName: 'contractor@supplier.example',
        signInActivity: { lastSignInDateTime: iso(day(-1)) },
      },
      {
        userPrincipalName: 'mail.only_x@nhs.onmicrosoft.com',
        mail: viaMail,
        signInActivity: { lastSuccessfulSignInDateTime: iso(day(-3)) },
      },
      { userPrincipalName: recent, signInActivity: { lastSignInDateTime: iso(day(-5)) } },
      { userPrincipalName: quiet, signInActivity: null },
      { userPrincipalName: pending, signInActivity: { lastSignInDateTime: iso(day(-1)) } },
      { userPrincipalName: 'stranger@nhs.net', signInActivity: { lastSignInDateTime: iso(day(-1)) } },
    ];
    graph.users = users;
    return { busy, viaMail, recent, quiet, pending };
  }

  const lastActivity = async (address: string) =>
    (await s.lifecycle.status(operator(), { address })).account.lastActivityAt;

  it('restarts the clock of accounts Entra saw in use, across pages, and reports what it could not place', async () => {
    const { busy, viaMail, recent, quiet, pending } = await seed();
    const captured = capturingLogger();
    const report = await poller(captured.logger).run({ kind: 'scheduler' }, T0);

    expect(report).toMatchObject({
      pages: 3,
      users: 7,
      notNhsMail: 1,
      neverSignedIn: 1,
      observations: 5,
      recorded: 2,
      unchanged: 1,
      unknownCount: 1,
      unknown: ['stranger@nhs.net'],
      invalidCount: 0,
      disagreementCount: 1,
    });
    expect(report.disagreements).toEqual([
      expect.objectContaining({ address: pending, status: 'pending', at: iso(day(-1)) }),
    ]);
    expect(await lastActivity(busy)).toBe(iso(day(-2)));
    expect(await lastActivity(viaMail)).toBe(iso(day(-3)));
    expect(await lastActivity(recent)).toBe(iso(day(-1)));
    expect(await lastActivity(quiet)).toBe(iso(day(-10)));
    expect((await s.lifecycle.status(operator(), { address: pending })).account.status).toBe('pending');
    const trail = await s.lifecycle.auditTrail(operator(), { address: busy });
    expect(trail.at(-1)).toMatchObject({ action: 'activity', platform: 'import', actor: 'scheduler' });

    // One client-credentials token, for Graph, obtained with the secret; every Graph call bore it.
    expect(entra.tokenRequests).toHaveLength(1);
    const form = entra.tokenRequests[0];
    expect(form?.get('grant_type')).toBe('client_credentials');
    expect(form?.get('client_id')).toBe(CLIENT_ID);
    expect(form?.get('client_secret')).toBe(SECRET);
    expect(form?.get('scope')).toBe(`${graph.url}/.default`);
    const token = entra.issued[0] ?? 'no token issued';
    expect(graph.requests).toHaveLength(3);
    expect(graph.requests.every((r) => r.authorization === `Bearer ${token}`)).toBe(true);
    expect(graph.requests[0]?.url).toBe(
      '/v1.0/users?$select=id,userPrincipalName,mail,signInActivity&$top=500',
    );
    expect(graph.requests[1]?.url).toContain('$skiptoken=');

    const logs = captured.text();
    expect(logs).toContain('graph sign-in poll finished');
    expect(logs).toContain('"recorded":2');
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(token.split('.')[1]);
    expect(logs).not.toContain(SECRET);
  });

  it('changes nothing when run again over the same sign-ins', async () => {
    const { busy } = await seed();
    const p = poller();
    await p.run({ kind: 'scheduler' }, T0);
    const audits = await auditCount(s.db);
    const again = await p.run({ kind: 'scheduler' }, day(1));
    expect(again).toMatchObject({
      recorded: 0,
      unchanged: 3,
      unknown: ['stranger@nhs.net'],
      disagreementCount: 1,
    });
    expect(await auditCount(s.db)).toBe(audits);
    expect(await lastActivity(busy)).toBe(iso(day(-2)));
    // The token is reused from MSAL's cache while it is fresh.
    expect(entra.tokenRequests).toHaveLength(1);
  });

  it.each([
    [403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'],
    [401, 'InvalidAuthenticationToken', 'Access token validation failure.'],
  ])('stops with the permissions to grant when Graph answers %i', async (status, code, message) => {
    await seed();
    graph.failOn.set(1, { status, code, message });
    const captured = capturingLogger();
    const audits = await auditCount(s.db);
    const refusal = await refusalOf(
      poller(captured.logger).run({ kind: 'scheduler' }, T0),
      'GRAPH_PERMISSION_DENIED',
    );
    expect(refusal).toContain(`HTTP ${status} ${code}`);
    expect(refusal).toContain('AuditLog.Read.All');
    expect(refusal).toContain('User.Read.All');
    expect(refusal).toContain('admin consent');
    expect(await auditCount(s.db)).toBe(audits);
    expect(graph.requests).toHaveLength(1);
    const logs = captured.text();
    expect(logs).toContain('AuditLog.Read.All');
    expect(logs).not.toContain(entra.issued.at(-1) ?? 'no token issued');
  });

  it('says when the tenant lacks the Entra ID P1/P2 licence that signInActivity needs', async () => {
    await seed();
    graph.failOn.set(1, {
      status: 403,
      code: 'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
      message: "Neither tenant is B2C or tenant doesn't have premium license",
    });
    const refusal = await refusalOf(poller().run({ kind: 'scheduler' }, T0), 'GRAPH_LICENCE_REQUIRED');
    expect(refusal).toContain('Entra ID P1 or P2');
  });

  it('waits as Graph asks on 429 and 503 (Retry-After) and carries on', async () => {
    const { busy } = await seed();
    graph.failOn.set(2, {
      status: 429,
      code: 'TooManyRequests',
      message: 'Too many requests',
      retryAfter: '0',
    });
    graph.failOn.set(3, {
      status: 503,
      code: 'serviceNotAvailable',
      message: 'Unavailable',
      retryAfter: '0',
    });
    const report = await poller().run({ kind: 'scheduler' }, T0);
    expect(report).toMatchObject({ pages: 3, recorded: 2 });
    expect(graph.requests.map((r) => r.retryAttempt)).toEqual([undefined, undefined, '1', '2', undefined]);
    expect(graph.requests[2]?.url).toBe(graph.requests[1]?.url);
    expect(await lastActivity(busy)).toBe(iso(day(-2)));
  });

  it('gives up after its retries with a clear message, keeping the pages already recorded', async () => {
    const { busy, viaMail } = await seed();
    for (let n = 2; n <= 20; n++) {
      graph.failOn.set(n, {
        status: 429,
        code: 'TooManyRequests',
        message: 'Too many requests',
        retryAfter: '0',
      });
    }
    const refusal = await refusalOf(poller().run({ kind: 'scheduler' }, T0), 'GRAPH_THROTTLED');
    expect(refusal).toContain('HTTP 429');
    expect(graph.requests).toHaveLength(1 + 1 + 5);
    expect(await lastActivity(busy)).toBe(iso(day(-2)));
    expect(await lastActivity(viaMail)).toBe(iso(day(-3)));
  });

  it('says which settings to check when Entra refuses the client secret, and never logs it', async () => {
    await seed();
    const wrong = 'wrong-secret~Zz9Z~0123456789abcdef';
    const captured = capturingLogger();
    const refusal = await refusalOf(
      poller(captured.logger, wrong).run({ kind: 'scheduler' }, T0),
      'GRAPH_TOKEN_REFUSED',
    );
    expect(refusal).toContain('invalid_client');
    expect(refusal).toContain('GRAPH_CLIENT_SECRET');
    expect(refusal).not.toContain(wrong);
    expect(graph.requests).toHaveLength(0);
    expect(captured.text()).not.toContain(wrong);
  });

  it('is scheduled on GRAPH_SCHEDULE as a distributed job, and only when configured', async () => {
    const { busy } = await seed();
    const captured = capturingLogger();
    const options = {
      lifecycle: s.lifecycle,
      logger: captured.logger,
      transport: trustingTransport(tls.cert),
      clock: () => T0,
    };
    expect(graphSignInJob(null, options)).toBeNull();
    expect(captured.text()).toContain('Graph sign-in poller off');
    const job = graphSignInJob(config, options);
    expect(job).toMatchObject({ name: 'graph-sign-ins', expression: '17 * * * *', distributed: true });
    expect(await job?.run()).toMatchObject({ pages: 3, recorded: 2 });
    expect(await lastActivity(busy)).toBe(iso(day(-2)));
    const trail = await s.lifecycle.auditTrail(operator(), { address: busy });
    expect(trail.at(-1)).toMatchObject({ platform: 'import', actor: 'scheduler' });
  });
});
