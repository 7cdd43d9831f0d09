import { randomBytes, randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../adapters/cli/main.js';
import { type GraphStandIn, startGraphStandIn } from '../directory/support/graph-test-client.js';
import { trustingTransport } from '../graph/support/trusting-transport.js';
import { createScratchPostgresDatabase, type ScratchDatabase } from '../support/postgres-scratch.js';

/**
 * `directory import` on the operator command line (issue 15): the CLI builds the Entra reader from
 * DIRECTORY=entra and the GRAPH_ variables, reads the Graph stand-in over HTTPS, and reports; with
 * no directory configured it refuses, saying what to set.
 */

const NOW = '2026-11-23T09:00:00Z';
const GROUP = randomUUID();

describe('directory import on the command line', { timeout: 60_000 }, () => {
  let scratch: ScratchDatabase | undefined;
  let g: GraphStandIn;

  beforeAll(async () => {
    scratch = await createScratchPostgresDatabase();
    g = await startGraphStandIn({ now: () => new Date(NOW) });
    g.graph.addGroup(GROUP, 'RXX staff');
    for (const [local, enabled] of [
      ['amy.pond', true],
      ['rory.williams', false],
      ['river.song', true],
    ] as const) {
      const [given, family] = local.split('.');
      const made: { id: string } = await g.client.api('/users').post({
        accountEnabled: enabled,
        displayName: local,
        givenName: given,
        surname: family,
        mailNickname: local.replace('.', ''),
        userPrincipalName: `${local}@nhs.net`,
        passwordProfile: { password: 'Welcome-2026-Xq!', forceChangePasswordNextSignIn: true },
      });
      if (local !== 'river.song') g.graph.addToGroup(GROUP, made.id);
    }
    g.graph.setSignIn('amy.pond@nhs.net', new Date('2026-11-20T08:00:00Z'));
  });
  afterAll(async () => {
    await g?.close();
    await scratch?.drop();
  });

  const base = () => ({ DATABASE_URL: scratch?.url ?? '', DATA_DIR: '/nonexistent' });
  const directoryEnv = () => ({
    ...base(),
    DIRECTORY: 'entra',
    GRAPH_TENANT_ID: g.config.tenantId,
    GRAPH_CLIENT_ID: g.config.clientId,
    GRAPH_CLIENT_SECRET: g.config.clientSecret,
    GRAPH_BASE_URL: g.config.baseUrl,
    GRAPH_AUTHORITY_URL: g.config.authorityUrl,
    HR_DATA_KEY: randomBytes(32).toString('base64'),
  });
  async function cli(args: string[], env: Record<string, string>) {
    let stdout = '';
    let stderr = '';
    const code = await runCli([...args, '--now', NOW], env, {
      stdout: (t) => {
        stdout += t;
      },
      stderr: (t) => {
        stderr += t;
      },
      out: new PassThrough(),
      graphTransport: trustingTransport(g.tls.cert),
    });
    return { code, stdout, stderr };
  }

  it('refuses with no directory configured, saying what to set', async () => {
    const run = await cli(['directory', 'import'], base());
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^Refused \(DIRECTORY_NOT_CONFIGURED\): .*DIRECTORY=entra.*GRAPH_TENANT_ID/);
  });

  it('adopts the directory, reports it as text and JSON, and matches everyone the second time', async () => {
    const env = directoryEnv();
    expect(
      (await cli(['org', 'add', '--ods', 'RXX', '--name', 'Trust RXX', '--kind', 'trust'], env)).code,
    ).toBe(0);
    expect((await cli(['org', 'group', '--ods', 'RXX', '--group', GROUP], env)).code).toBe(0);

    const dry = await cli(['directory', 'import', '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(
      'Dry run (nothing changed): read 3 user(s) of the directory: 2 to adopt (1 active, 1 inactive), 0 already the bot’s (matched), 1 in no organisation’s group, 0 refused.',
    );
    expect(dry.stdout).toContain('unplaced river.song@nhs.net');

    const run = await cli(['directory', 'import', '--org', 'RXX'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Read 2 user(s) of RXX’s directory group: 2 adopted (1 active, 1 inactive)');
    expect(run.stdout).toContain('adopted amy.pond@nhs.net (RXX, active)');
    expect(run.stdout).toContain('adopted rory.williams@nhs.net (RXX, inactive)');

    const audit = await cli(['audit', 'amy.pond@nhs.net', '--json'], env);
    expect(JSON.parse(audit.stdout)).toEqual([
      expect.objectContaining({ platform: 'directory', action: 'directory-import', to: 'active' }),
    ]);

    const again = await cli(['directory', 'import', '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ adopted: 0, matched: 2, unplaced: 1, refused: 0 });
  });

  it('directory drift: no report until the Graph job makes one, as text and JSON, and refused to anyone without a role', async () => {
    const env = directoryEnv();
    const text = await cli(['directory', 'drift'], env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('No drift report yet: the Graph job (GRAPH_SCHEDULE');
    const json = await cli(['directory', 'drift', '--org', 'RXX', '--json'], env);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ run: null, org: 'RXX', lines: [] });
    const refused = await cli(['directory', 'drift', '--as', 'someone@nhs.net'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('NOT_YOUR_ORGANISATION');
  });

  it('is the operator’s alone', async () => {
    const run = await cli(['directory', 'import', '--as', 'someone@nhs.net'], directoryEnv());
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('OPERATOR_ONLY');
  });
});
