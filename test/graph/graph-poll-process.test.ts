import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openRuntime, type Runtime } from '../../adapters/runtime.js';
import { loadConfig } from '../../src/config.js';
import { addDays } from '../../src/domain/time.js';
import { createScratchPostgresDatabase, type ScratchDatabase } from '../support/postgres-scratch.js';
import { killLeftoverChildren, runNodeScript } from '../support/processes.js';
import { activeAccount, addOrg, operator, person } from '../support/service.js';
import { FakeEntra, FakeGraph } from './support/fake-microsoft.js';
import { createTestCertificate, type TestCertificate } from './support/test-certificate.js';

const TENANT = 'nhs.net';
const CLIENT_ID = '6b1f3c52-2d8e-4f7a-9c41-0e5d7a8b9c20';
const SECRET = 'process-test-secret~Qx8Q~0123456789abcdef';

/**
 * `npm run graph:poll` as a real process, with MSAL's and the Graph client's own HTTP clients:
 * the stand-ins' certificate is trusted through NODE_EXTRA_CA_CERTS given to the child alone.
 */
describe('npm run graph:poll', () => {
  let tls: TestCertificate;
  let entra: FakeEntra;
  let graph: FakeGraph;
  let scratch: ScratchDatabase;
  let seed: Runtime;
  let dir = '';
  let address = '';
  const now = new Date();

  beforeAll(async () => {
    tls = createTestCertificate();
    entra = new FakeEntra(tls, { tenant: TENANT, clientId: CLIENT_ID, clientSecret: SECRET });
    graph = new FakeGraph(tls, (token) => entra.issued.includes(token));
    await entra.start();
    await graph.start();
    scratch = await createScratchPostgresDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-graph-'));
    seed = await openRuntime(loadConfig({ DATABASE_URL: scratch.url, DATA_DIR: dir }));
    await addOrg(seed.lifecycle, 'RXX');
    address = await activeAccount(seed.lifecycle, 'RXX', person('Pro', 'Cess'), addDays(now, -20));
    graph.users = [
      { userPrincipalName: address, signInActivity: { lastSignInDateTime: addDays(now, -1).toISOString() } },
      { userPrincipalName: 'visitor@example.org', signInActivity: { lastSignInDateTime: now.toISOString() } },
    ];
  });
  afterEach(() => killLeftoverChildren());
  afterAll(async () => {
    await seed?.close();
    await scratch?.drop();
    await graph?.close();
    await entra?.close();
    tls?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const run = (extra: Record<string, string> = {}) =>
    runNodeScript(
      'adapters/graph/main.ts',
      [],
      {
        DATABASE_URL: scratch.url,
        DATA_DIR: dir,
        LOG_LEVEL: 'trace',
        GRAPH_TENANT_ID: TENANT,
        GRAPH_CLIENT_ID: CLIENT_ID,
        GRAPH_CLIENT_SECRET: SECRET,
        GRAPH_BASE_URL: graph.url,
        GRAPH_AUTHORITY_URL: entra.url,
        NODE_EXTRA_CA_CERTS: tls.certPath,
        ...extra,
      },
      60_000,
    );

  it('records sign-ins once, prints the report, and never prints the token or the secret', async () => {
    const first = await run();
    expect(first.stderr).not.toMatch(/graph poll failed/);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ pages: 1, users: 2, notNhsMail: 1, recorded: 1 });
    const status = await seed.lifecycle.status(operator(now), { address });
    expect(status.account.lastActivityAt).toBe(addDays(now, -1).toISOString());
    const trail = await seed.lifecycle.auditTrail(operator(now), { address });
    expect(trail.at(-1)).toMatchObject({ action: 'activity', platform: 'import', actor: 'operator' });

    const second = await run();
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ recorded: 0, unchanged: 1 });

    expect(entra.tokenRequests.map((f) => f.get('grant_type'))).toEqual([
      'client_credentials',
      'client_credentials',
    ]);
    const output = [first, second].map((r) => r.stdout + r.stderr).join('\n');
    expect(output).toContain('graph sign-in poll finished');
    for (const token of entra.issued) expect(output).not.toContain(token);
    expect(output).not.toContain(SECRET);
  });

  it('exits 1 naming the permissions when Graph refuses', async () => {
    graph.failOn.set(graph.requests.length + 1, {
      status: 403,
      code: 'Authorization_RequestDenied',
      message: 'Insufficient privileges to complete the operation.',
    });
    const refused = await run();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('AuditLog.Read.All and User.Read.All');
  });

  it('keeps TLS verification on: without the test certificate trusted, no token is sent anywhere', async () => {
    const before = entra.tokenRequests.length;
    const untrusted = await run({ NODE_EXTRA_CA_CERTS: '' });
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain('Could not get a Microsoft Graph token');
    expect(untrusted.stderr).toContain('GRAPH_AUTHORITY_URL');
    expect(entra.tokenRequests.length).toBe(before);
  });

  it('exits 2 when the configuration is incomplete, naming the missing variable', async () => {
    const partial = await run({ GRAPH_CLIENT_SECRET: '' });
    expect(partial.code).toBe(2);
    expect(partial.stderr).toContain('GRAPH_CLIENT_SECRET is required');
  });
});
