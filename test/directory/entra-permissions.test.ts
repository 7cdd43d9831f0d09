import { decodeJwt, decodeProtectedHeader } from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DIRECTORY_PERMISSIONS,
  grantedRoles,
  requiredPermissions,
} from '../../adapters/directory/entra-permissions.js';
import { connectEntraDirectory } from '../../adapters/directory/schedule.js';
import type { GraphTransport } from '../../adapters/graph/client.js';
import type { DirectoryConfig } from '../../src/config.js';
import { trustingTransport } from '../graph/support/trusting-transport.js';
import { refusal } from '../support/service.js';
import { type GraphStandIn, startGraphStandIn } from './support/graph-test-client.js';

const PASSWORD_GRANT = [
  'User.ReadWrite.All',
  'User-LifeCycleInfo.ReadWrite.All',
  'GroupMember.ReadWrite.All',
];
const logger = pino({ level: 'silent' });

/**
 * DIRECTORY=entra's start-up check against the Entra stand-in: an app-only token through MSAL,
 * its `roles` claim read, each permission the directory needs looked for.
 */
describe('the Entra directory’s start-up permission check', () => {
  let s: GraphStandIn;
  let transport: GraphTransport;

  beforeAll(async () => {
    s = await startGraphStandIn();
    transport = trustingTransport(s.tls.cert);
  });
  afterAll(async () => {
    await s?.close();
  });
  beforeEach(() => {
    s.entra.roles = [...PASSWORD_GRANT];
  });

  const config = (
    credential: DirectoryConfig['credential'] = 'password',
    graph = s.config,
  ): DirectoryConfig => ({
    kind: 'entra',
    credential,
    schedule: '*/15 * * * * *',
    writesPerSecond: 20,
    graph,
  });
  const connect = (c: DirectoryConfig = config()) => connectEntraDirectory(c, { logger, transport });

  it('issues real-shaped app-only tokens carrying the granted permissions in `roles`', async () => {
    await connect();
    const token = s.entra.issued.at(-1) ?? '';
    expect(token.split('.')).toHaveLength(3);
    expect(decodeProtectedHeader(token)).toMatchObject({ typ: 'JWT', alg: 'RS256' });
    expect(decodeJwt(token)).toMatchObject({
      aud: s.graph.url,
      appid: s.config.clientId,
      tid: s.config.tenantId,
      idtyp: 'app',
      roles: PASSWORD_GRANT,
    });
    expect(grantedRoles(token, s.config)).toEqual(PASSWORD_GRANT);
  });

  it('starts when every permission is granted, asking Entra for a client-credentials token', async () => {
    const before = s.entra.tokenRequests.length;
    const directory = await connect();
    expect(directory.name).toBe('entra');
    expect(s.entra.tokenRequests.slice(before).map((f) => f.get('grant_type'))).toEqual([
      'client_credentials',
    ]);
  });

  it('takes a higher-privileged group permission in place of GroupMember.ReadWrite.All', async () => {
    s.entra.roles = ['User.ReadWrite.All', 'User-LifeCycleInfo.ReadWrite.All', 'Group.ReadWrite.All'];
    await expect(connect()).resolves.toMatchObject({ name: 'entra' });
  });

  it('refuses to start when one is missing, naming it, what it is for and where to grant it', async () => {
    s.entra.roles = ['User.ReadWrite.All', 'GroupMember.ReadWrite.All'];
    const error = await refusal(connect(), 'DIRECTORY_PERMISSIONS_MISSING');
    expect(error.details.missing).toEqual(['User-LifeCycleInfo.ReadWrite.All']);
    expect(error.message).toContain(
      'lacks the Microsoft Graph application permission User-LifeCycleInfo.ReadWrite.All (to set and clear a leaver’s employeeLeaveDateTime)',
    );
    expect(error.message).toContain(s.config.clientId);
    expect(error.message).toContain('App registrations → the app → API permissions');
    expect(error.message).toContain('Grant admin consent');
    expect(error.message).toContain('Its token grants GroupMember.ReadWrite.All, User.ReadWrite.All.');
    expect(error.message).not.toContain(s.config.clientSecret);
    expect(error.message).not.toContain('UserAuthenticationMethod');
  });

  it('names every missing permission when none is granted (Entra then leaves `roles` out)', async () => {
    s.entra.roles = [];
    const error = await refusal(connect(), 'DIRECTORY_PERMISSIONS_MISSING');
    expect(error.details.missing).toEqual(PASSWORD_GRANT);
    for (const p of requiredPermissions('password'))
      expect(error.message).toContain(`${p.name} (to ${p.for})`);
    expect(error.message).toContain('Its token grants no application permission.');
  });

  it('needs UserAuthenticationMethod.ReadWrite.All as well with DIRECTORY_CREDENTIAL=tap', async () => {
    const error = await refusal(connect(config('tap')), 'DIRECTORY_PERMISSIONS_MISSING');
    expect(error.details.missing).toEqual(['UserAuthenticationMethod.ReadWrite.All']);
    expect(error.message).toMatch(/^DIRECTORY=entra with DIRECTORY_CREDENTIAL=tap, but/);
    expect(error.message).toContain('(to issue each new user a Temporary Access Pass)');

    s.entra.roles = [...PASSWORD_GRANT, 'UserAuthenticationMethod.ReadWrite.All'];
    await expect(connect(config('tap'))).resolves.toMatchObject({ name: 'entra' });
  });

  it('lists four permissions, the TAP one for DIRECTORY_CREDENTIAL=tap only', () => {
    expect(DIRECTORY_PERMISSIONS.map((p) => p.name)).toEqual([
      ...PASSWORD_GRANT,
      'UserAuthenticationMethod.ReadWrite.All',
    ]);
    expect(requiredPermissions('password').map((p) => p.name)).toEqual(PASSWORD_GRANT);
  });

  it('refuses to start, readably and without the secret, when Entra gives no token', async () => {
    const wrong = { ...s.config, clientSecret: 'a-wrong-secret~0123456789' };
    const error = await refusal(connect(config('password', wrong)), 'GRAPH_TOKEN_REFUSED');
    expect(error.message).toMatch(/^Could not get a Microsoft Graph token for the app /);
    expect(error.message).toContain('AADSTS7000215');
    expect(error.message).toContain('GRAPH_CLIENT_SECRET');
    expect(error.message).not.toContain(wrong.clientSecret);
    expect(error.message).not.toContain(s.config.clientSecret);
  });

  it('refuses a token that is not a JWT, rather than guessing at its permissions', async () => {
    const error = await refusal(
      Promise.resolve().then(() => grantedRoles('not-a-jwt', s.config)),
      'GRAPH_TOKEN_REFUSED',
    );
    expect(error.message).toContain('is not a JWT whose permissions can be read');
  });
});
