import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEntraDirectory } from '../../adapters/directory/entra.js';
import { openRuntime, type Runtime } from '../../adapters/runtime.js';
import { type RunningBot, startBot, startFailure } from '../../adapters/server/main.js';
import { accounts } from '../../db/schema.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { trustingTransport } from '../graph/support/trusting-transport.js';
import { BotProcess, until } from '../support/bot-child.js';
import { createScratchPostgresDatabase, type ScratchDatabase } from '../support/postgres-scratch.js';
import { killLeftoverChildren } from '../support/processes.js';
import { activeAccount, addOrg, operator, person } from '../support/service.js';
import { ALL_PERMISSIONS } from './support/graph-routes.js';
import { type GraphStandIn, startGraphStandIn } from './support/graph-test-client.js';

const G_RXX = '3f0e2a4c-1b7d-4c9e-8a21-5d6f7e8a9b01';
const HR_DATA_KEY = Buffer.alloc(32, 9).toString('base64');

/**
 * The bot with DIRECTORY=entra against the Entra and Graph stand-ins: its start-up permission
 * check (in-process, trusting the stand-ins' certificate), then `npm start` as a real process
 * (the certificate trusted through NODE_EXTRA_CA_CERTS given to the child alone), through whose
 * scheduled directory worker a leaver decided on the command line reaches Graph.
 */
describe('the bot with DIRECTORY=entra', () => {
  let s: GraphStandIn;
  let scratch: ScratchDatabase;
  let dir = '';
  let ledger: Runtime;
  let entra: Runtime;
  let env: Record<string, string> = {};
  let address = '';
  let userId = '';

  beforeAll(async () => {
    s = await startGraphStandIn();
    s.graph.addGroup(G_RXX, 'RXX staff');
    scratch = await createScratchPostgresDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-directory-'));
    env = {
      DATABASE_URL: scratch.url,
      DATA_DIR: dir,
      DIRECTORY: 'entra',
      DIRECTORY_SCHEDULE: '* * * * * *',
      GRAPH_TENANT_ID: s.config.tenantId,
      GRAPH_CLIENT_ID: s.config.clientId,
      GRAPH_CLIENT_SECRET: s.config.clientSecret,
      GRAPH_BASE_URL: s.config.baseUrl,
      GRAPH_AUTHORITY_URL: s.config.authorityUrl,
      // The sign-in poller the same app turns on stays out of the way: once a year.
      GRAPH_SCHEDULE: '0 0 1 1 *',
      HR_DATA_KEY,
      SWEEP_CATCH_UP: 'false',
      NODE_EXTRA_CA_CERTS: s.tls.certPath,
    };

    // An active account made before the directory was connected, whose Entra user exists.
    ledger = await openRuntime(loadConfig({ DATABASE_URL: scratch.url, DATA_DIR: dir }));
    await addOrg(ledger.lifecycle, 'RXX');
    await ledger.lifecycle.setDirectoryGroup(operator(), { ods: 'RXX', group: G_RXX });
    address = await activeAccount(ledger.lifecycle, 'RXX', person('Ada', 'Entra'), new Date());
    const made = await createEntraDirectory({ client: s.client, graphOrigin: s.graph.url }).apply([
      {
        id: 1,
        effect: {
          kind: 'create-user',
          address,
          given: 'Ada',
          family: 'Entra',
          org: 'RXX',
          employeeId: null,
          mfaRequired: true,
        },
        directoryId: null,
        orgs: { RXX: { name: 'RXX organisation', group: G_RXX } },
        credential: { kind: 'password', password: 'Seeded-Passw0rd!x', forceChangeWithMfa: true },
      },
    ]);
    const outcome = made.get(1);
    if (!outcome?.ok || !outcome.directoryId)
      throw new Error(`seeding the user failed: ${JSON.stringify(outcome)}`);
    userId = outcome.directoryId;
    await ledger.database.db
      .update(accounts)
      .set({ directoryId: userId })
      .where(eq(accounts.address, address));

    // The CLI's runtime with the same environment: its changes queue directory effects.
    entra = await openRuntime(loadConfig(env));
  }, 120_000);
  afterEach(() => killLeftoverChildren());
  afterAll(async () => {
    await entra?.close();
    await ledger?.close();
    await scratch?.drop();
    await s?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses to start when the app lacks a permission, naming it and where to grant it', async () => {
    s.entra.roles = ['User.ReadWrite.All', 'User-LifeCycleInfo.ReadWrite.All'];
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: { write: (line: string) => lines.push(line) },
    });
    try {
      const failure = await startBot(loadConfig({ ...env, PORT: '0' }), logger, {
        graphTransport: trustingTransport(s.tls.cert),
      }).then(
        async (started) => {
          await started.stop();
          throw new Error('the bot started without GroupMember.ReadWrite.All');
        },
        (e: unknown) => startFailure(e),
      );
      expect(failure).toMatch(/^DIRECTORY=entra, but the app registration /);
      expect(failure).toContain(
        'GroupMember.ReadWrite.All (to add users to their organisation’s group and remove them from it)',
      );
      expect(failure).toContain('API permissions');
      expect(failure + lines.join('')).not.toContain(s.config.clientSecret);
      expect(lines.join('')).not.toContain('"msg":"ready"');
    } finally {
      s.entra.roles = [...ALL_PERMISSIONS];
    }
  });

  it('applies a leaver to Entra through the scheduled worker: leave date set, group left', async () => {
    const markedAt = new Date();
    await entra.lifecycle.leaver(operator(markedAt), { address });
    expect((await entra.lifecycle.status(operator(), { address })).directory).toMatchObject({
      state: 'waiting',
      pending: 1,
    });
    expect(s.graph.membersOf(G_RXX)).toEqual([userId]);

    const before = s.graph.requests.length;
    const bot = new BotProcess(env);
    try {
      await until(() => bot.output.includes('"msg":"ready"'), 60_000);
      expect(bot.output).toContain('directory: entra (credential: password)');
      await until(
        async () => (await entra.lifecycle.status(operator(), { address })).directory.state === 'in-step',
        20_000,
      );
    } finally {
      bot.child.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
    }
    // A leaver stays enabled through grace; the leave date is when it was marked.
    const user = s.graph.user(userId);
    expect(user?.accountEnabled).toBe(true);
    expect(new Date(String(user?.employeeLeaveDateTime)).getTime()).toBe(markedAt.getTime());
    expect(s.graph.membersOf(G_RXX)).toEqual([]);
    const writes = s.graph.requests
      .slice(before)
      .filter((r) => r.method !== 'GET' && r.path !== '/$batch')
      .map((r) => `${r.method} ${r.path} ${r.status}`);
    expect(writes).toEqual([
      `PATCH /users/${userId} 204`,
      `DELETE /groups/${G_RXX}/members/${userId}/$ref 204`,
    ]);
    expect(bot.output).not.toContain(s.config.clientSecret);
  }, 120_000);
});

describe('the bot with DIRECTORY unset', () => {
  let scratch: ScratchDatabase;
  let dir = '';
  let bot: RunningBot | undefined;

  afterAll(async () => {
    await bot?.stop();
    await scratch?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('says at start that it records decisions only (ledger mode), and runs no directory worker', async () => {
    scratch = await createScratchPostgresDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-ledger-'));
    const lines: Array<{ msg: string; task?: string }> = [];
    const logger = createLogger({
      level: 'info',
      destination: { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) },
    });
    bot = await startBot(
      loadConfig({ DATABASE_URL: scratch.url, DATA_DIR: dir, PORT: '0', SWEEP_CATCH_UP: 'false' }),
      logger,
    );
    expect(lines.map((l) => l.msg)).toContain(
      'directory: none — recording decisions only (ledger mode); set DIRECTORY=entra to apply changes to Microsoft Entra',
    );
    const scheduled = lines.filter((l) => l.msg === 'scheduled').map((l) => l.task);
    expect(scheduled).not.toContain('directory-effects');
    expect(scheduled).toContain('daily-sweep');
  }, 60_000);
});
