import type { User } from '@microsoft/microsoft-graph-types';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEntraDirectory } from '../../adapters/directory/entra.js';
import { BOT_MARKER } from '../../adapters/directory/entra-requests.js';
import { runText } from '../../src/commands/execute.js';
import { type CreatedUser, DEFAULT_DIRECTORY_WORKER, runDirectoryEffects } from '../../src/jobs/directory.js';
import { silentLogger } from '../../src/logger.js';
import { describeEachEngine, queryRows } from '../support/engines.js';
import {
  alreadyInDirectory,
  CONFLICT,
  capturingNewUsers,
  FAILED,
  runWorker,
  ScriptedDirectory,
} from '../support/scripted-directory.js';
import {
  activeAccount,
  addOrg,
  as,
  auditCount,
  day,
  grant,
  operator,
  person,
  refusal,
  useService,
} from '../support/service.js';
import { type GraphStandIn, startGraphStandIn } from './support/graph-test-client.js';

const G_RXX = '3f0e2a4c-1b7d-4c9e-8a21-5d6f7e8a9b01';

/**
 * Issue 14: `directory retry ID --adopt`. A new account parked as a conflict, because a directory
 * account the bot did not make holds its address, is requeued — by the operator or NAS, audited —
 * to take that account over; without --adopt the conflict is still refused, and names --adopt.
 */
describeEachEngine('directory retry --adopt', (ctx) => {
  const s = useService(ctx, {}, { directoryEffects: true });

  /** Jane's account, with its creation queued in the directory (the bot's provisioning queues it so). */
  async function starter(given = 'Jane'): Promise<{ address: string; id: number }> {
    const address = await activeAccount(s.lifecycle, 'RXX', person(given, 'Doe'));
    // provision queued its create-user, as every new account's is.
    const [effect] = await queryRows<{ id: number }>(
      s.db.db,
      sql`select e.id::int as id from directory_effects e join accounts a on a.id = e.account_id
          where a.address = ${address} and e.kind = 'create-user'`,
    );
    return { address, id: effect?.id ?? 0 };
  }
  const effectRow = async (id: number) =>
    (
      await queryRows<{ state: string; adopt: boolean; attempts: number; available_at: Date | string }>(
        s.db.db,
        sql`select state::text as state, adopt, attempts, available_at from directory_effects where id = ${id}`,
      )
    )[0];

  it('requeues a conflicting creation with the adopt flag, audited; plain retry still refuses it and names --adopt', async () => {
    await addOrg(s.lifecycle, 'RXX');
    const jane = await starter();
    const directory = new ScriptedDirectory();
    directory.script.set(jane.address, [CONFLICT]);
    await runWorker(s.db, directory, day(2));
    expect(await effectRow(jane.id)).toMatchObject({ state: 'conflict', adopt: false });

    const plain = await refusal(
      s.lifecycle.retryDirectoryEffects(operator(day(3)), { id: jane.id }),
      'DIRECTORY_CONFLICT',
    );
    expect(plain.message).toContain(`"directory retry ${jane.id} --adopt"`);
    expect(plain.message).toContain('NAS must resolve it in the directory first');
    expect(await effectRow(jane.id)).toMatchObject({ state: 'conflict', adopt: false });

    const audits = await auditCount(s.db);
    const result = await s.lifecycle.adoptDirectoryEffect(operator(day(3)), { id: jane.id });
    expect(result.adopted).toMatchObject({
      id: jane.id,
      address: jane.address,
      kind: 'create-user',
      state: 'conflict',
      availableAt: day(3).toISOString(),
    });
    const row = await effectRow(jane.id);
    expect(row).toMatchObject({ state: 'pending', adopt: true, attempts: 0 });
    expect(new Date(row?.available_at ?? 0).toISOString()).toBe(day(3).toISOString());
    expect(await auditCount(s.db)).toBe(audits + 1);
    const trail = await s.lifecycle.auditTrail(operator(day(3)), { address: jane.address });
    expect(trail.at(-1)).toMatchObject({
      actor: 'operator',
      platform: 'cli',
      action: 'directory-adopt',
      from: null,
      to: null,
      reason: expect.stringContaining('is this person'),
    });

    // The worker hands the flag to the directory, and the change is applied.
    await runWorker(s.db, directory, day(3));
    expect(directory.applied.at(-1)).toMatchObject({ id: jane.id, adopt: true });
    expect(await effectRow(jane.id)).toMatchObject({ state: 'applied' });
  });

  it('lets NAS adopt from chat, and refuses anyone else', async () => {
    await addOrg(s.lifecycle, 'RXX');
    const jane = await starter();
    const directory = new ScriptedDirectory();
    directory.script.set(jane.address, [CONFLICT]);
    await runWorker(s.db, directory, day(2));
    await grant(s.lifecycle, 'la@nhs.net', 'local-admin', 'RXX');
    await grant(s.lifecycle, 'nas@nhs.net', 'nas-admin');

    const la = await runText(
      s.lifecycle,
      as('la@nhs.net', day(3), 'slack'),
      `directory retry ${jane.id} --adopt`,
    );
    expect(la).toMatchObject({ exitCode: 1, error: { code: 'NAS_ONLY' } });
    expect(await effectRow(jane.id)).toMatchObject({ state: 'conflict', adopt: false });
    // NAS may adopt, but a plain retry stays the operator's.
    const nasRetry = await runText(
      s.lifecycle,
      as('nas@nhs.net', day(3), 'slack'),
      `directory retry ${jane.id}`,
    );
    expect(nasRetry).toMatchObject({ exitCode: 1, error: { code: 'OPERATOR_ONLY' } });

    const nas = await runText(
      s.lifecycle,
      as('nas@nhs.net', day(3), 'slack'),
      `directory retry ${jane.id} --adopt`,
    );
    expect(nas.exitCode).toBe(0);
    expect(nas.text).toContain(
      `Requeued directory change ${jane.id} to adopt the directory account holding ${jane.address}`,
    );
    expect(nas.data).toMatchObject({ adopted: { id: jane.id, address: jane.address } });
    expect(await effectRow(jane.id)).toMatchObject({ state: 'pending', adopt: true });
    const trail = await s.lifecycle.auditTrail(operator(day(3)), { address: jane.address });
    expect(trail.at(-1)).toMatchObject({
      actor: 'nas@nhs.net',
      platform: 'slack',
      action: 'directory-adopt',
    });
  });

  it('refuses --adopt on a change that is not a new account in conflict, changing nothing', async () => {
    await addOrg(s.lifecycle, 'RXX');
    const failed = await starter('Fay');
    // Lee's leaver meets a conflict: not a creation, so there is nothing to adopt.
    const lee = await activeAccount(s.lifecycle, 'RXX', person('Lee', 'Doe'));
    await alreadyInDirectory(s.db, lee);
    await s.lifecycle.leaver(operator(day(1)), { address: lee });
    const directory = new ScriptedDirectory();
    directory.script.set(failed.address, [FAILED]);
    directory.script.set(lee, [CONFLICT]);
    await runWorker(s.db, directory, day(2));
    const queued = await starter('Quin');
    const [leeLeaver] = (await s.lifecycle.failedDirectoryEffects(operator())).filter(
      (e) => e.address === lee,
    );
    const audits = await auditCount(s.db);

    const notConflict = await refusal(
      s.lifecycle.adoptDirectoryEffect(operator(day(3)), { id: failed.id }),
      'DIRECTORY_EFFECT_NOT_CONFLICT',
    );
    expect(notConflict.details).toEqual({ id: failed.id, state: 'failed' });
    expect(notConflict.message).toContain(`retry it without --adopt ("directory retry ${failed.id}")`);
    const pending = await refusal(
      s.lifecycle.adoptDirectoryEffect(operator(day(3)), { id: queued.id }),
      'DIRECTORY_EFFECT_NOT_CONFLICT',
    );
    expect(pending.details).toEqual({ id: queued.id, state: 'pending' });
    const leaver = await refusal(
      s.lifecycle.adoptDirectoryEffect(operator(day(3)), { id: leeLeaver?.id ?? 0 }),
      'DIRECTORY_EFFECT_NOT_CONFLICT',
    );
    expect(leaver.details).toEqual({ id: leeLeaver?.id, state: 'conflict' });
    expect(leaver.message).toContain('only a new account’s creation can adopt');
    await refusal(
      s.lifecycle.adoptDirectoryEffect(operator(day(3)), { id: 999_999 }),
      'DIRECTORY_EFFECT_NOT_FOUND',
    );
    expect(await effectRow(failed.id)).toMatchObject({ state: 'failed', adopt: false });
    expect(await effectRow(queued.id)).toMatchObject({ state: 'pending', adopt: false });
    expect(await auditCount(s.db)).toBe(audits);
  });

  it('names one change: --adopt with --all is refused as the operator typed it', async () => {
    const reply = await runText(s.lifecycle, operator(), 'directory retry --all --adopt');
    expect(reply).toMatchObject({ exitCode: 2, error: { code: 'MISSING_ARGUMENT' } });
    expect(reply.text).toContain('directory retry 42 --adopt');
  });

  describe('through the Graph stand-in', () => {
    let graph: GraphStandIn;
    beforeAll(async () => {
      graph = await startGraphStandIn();
    });
    afterAll(async () => graph?.close());

    it('a hand-made account at the address: conflict, adopted, marked, given the delivered password, put in the group', async () => {
      graph.graph.reset();
      graph.graph.addGroup(G_RXX, 'RXX staff');
      await addOrg(s.lifecycle, 'RXX');
      await s.lifecycle.setDirectoryGroup(operator(), { ods: 'RXX', group: G_RXX });
      const jane = await starter();
      const theirs: User = {
        accountEnabled: true,
        displayName: 'Jane Doe (made by hand)',
        mailNickname: jane.address.split('@')[0] ?? 'jane',
        userPrincipalName: jane.address,
        passwordProfile: { password: 'Hand-Made-Pass-77' },
      };
      const handMade = String((await graph.client.api('/users').post(theirs)).id);
      const entra = createEntraDirectory({ client: graph.client, graphOrigin: graph.graph.url });
      const delivered: CreatedUser[] = [];
      const work = (at: Date) =>
        runDirectoryEffects(
          s.db.db,
          entra,
          silentLogger(),
          () => at,
          DEFAULT_DIRECTORY_WORKER,
          capturingNewUsers((c) => {
            delivered.push(c);
          }),
        );

      expect(await work(day(2))).toMatchObject({ conflicts: 1 });
      expect(delivered).toEqual([]);
      expect(graph.graph.passwordOf(jane.address) === 'Hand-Made-Pass-77').toBe(true);
      const status = await runText(s.lifecycle, operator(day(2)), ['status', jane.address]);
      expect(status.text).toContain(`"directory retry ${jane.id} --adopt"`);

      const adopt = await runText(s.lifecycle, operator(day(3)), `directory retry ${jane.id} --adopt`);
      expect(adopt.exitCode).toBe(0);
      expect(await work(day(3))).toMatchObject({ applied: 1 });

      expect(graph.graph.user(handMade)).toMatchObject({
        displayName: 'Jane Doe (made by hand)',
        onPremisesExtensionAttributes: { extensionAttribute15: BOT_MARKER },
      });
      expect(graph.graph.membersOf(G_RXX)).toEqual([handMade]);
      const [sent] = delivered;
      const password = sent?.credential.kind === 'password' ? sent.credential.password : '';
      expect(graph.graph.passwordOf(jane.address) === password && password !== '').toBe(true);
      const [account] = await queryRows<{ directory_id: string }>(
        s.db.db,
        sql`select directory_id from accounts where address = ${jane.address}`,
      );
      expect(account?.directory_id).toBe(handMade);
      expect((await s.lifecycle.status(operator(day(3)), { address: jane.address })).directory).toMatchObject(
        {
          state: 'in-step',
        },
      );
    });
  });
});
