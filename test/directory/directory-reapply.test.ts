import { randomUUID } from 'node:crypto';
import type { User } from '@microsoft/microsoft-graph-types';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createEntraDirectory } from '../../adapters/directory/entra.js';
import { createEntraReader } from '../../adapters/directory/entra-reader.js';
import { runText } from '../../src/commands/execute.js';
import type { DirectoryReader } from '../../src/service/directory-reader.js';
import type { Directory } from '../../src/service/ports.js';
import { describeEachEngine, queryRows } from '../support/engines.js';
import { runWorker } from '../support/scripted-directory.js';
import { addOrg, as, day, grant, operator, refusal, T0, useService } from '../support/service.js';
import { directoryUser } from './support/directory-users.js';
import { type GraphStandIn, startGraphStandIn } from './support/graph-test-client.js';

/**
 * Issue 15: `directory reapply ADDRESS` settles the drift lines the directory got wrong, for one
 * account, by queueing one directory change that writes what the bot already holds. Against the
 * Graph stand-in over HTTPS: changed by hand in Entra, reported as drift, reapplied, applied by the
 * directory worker, and gone from the next drift report.
 */

const G_RXX = randomUUID();
const G_RYY = randomUUID();

describeEachEngine('directory reapply', (ctx) => {
  const s = useService(ctx, {}, { directoryEffects: true });
  let g: GraphStandIn;
  let reader: DirectoryReader;
  let entra: Directory;
  const ids = new Map<string, string>();

  beforeAll(async () => {
    g = await startGraphStandIn({ now: () => T0, verifiedDomains: ['nhs.net'] });
    reader = createEntraReader({ client: g.client });
    entra = createEntraDirectory({ client: g.client, graphOrigin: g.graph.url });
  });
  afterAll(async () => {
    await g?.close();
  });

  async function user(upn: string, extra: User = {}, group?: string): Promise<string> {
    const id = await directoryUser(g, upn, extra, group);
    ids.set(upn, id);
    return id;
  }
  const id = (address: string) => ids.get(address) ?? '';

  const ALICE = 'alice.smith@nhs.net';
  const BOB = 'bob.jones@nhs.net';
  const CAROL = 'carol.white@nhs.net';

  /** RXX: alice and bob, active; RYY: carol, disabled (inactive in the bot). Adopted, then no drift. */
  beforeEach(async () => {
    g.graph.reset();
    ids.clear();
    g.graph.addGroup(G_RXX, 'RXX staff');
    g.graph.addGroup(G_RYY, 'RYY staff');
    await addOrg(s.lifecycle, 'RXX');
    await addOrg(s.lifecycle, 'RYY');
    await s.lifecycle.setDirectoryGroup(operator(), { ods: 'RXX', group: G_RXX });
    await s.lifecycle.setDirectoryGroup(operator(), { ods: 'RYY', group: G_RYY });
    await user(ALICE, {}, G_RXX);
    await user(BOB, {}, G_RXX);
    await user(CAROL, { accountEnabled: false }, G_RYY);
    expect(await s.lifecycle.importDirectory(operator(), { reader, dryRun: false })).toMatchObject({
      adopted: 3,
    });
    await drift(day(1));
  });

  const drift = (now = day(1)) => s.lifecycle.directoryDrift(operator(now), { reader });
  const linesOf = async (address: string) =>
    (await s.lifecycle.driftReport(operator(), {})).lines
      .filter((l) => l.address === address)
      .map((l) => l.kind)
      .sort();
  const effectsOf = (address: string) =>
    queryRows<{ kind: string; state: string; payload: unknown }>(
      s.db.db,
      sql`select e.kind, e.state::text as state, e.payload from directory_effects e
          join accounts a on a.id = e.account_id where a.address = ${address} order by e.id`,
    );

  it('puts a user changed by hand back as the bot has it: enabled, its names, its home group only', async () => {
    await g.client.api(`/users/${id(ALICE)}`).patch({ accountEnabled: false, givenName: 'Alicia' });
    g.graph.addToGroup(G_RYY, id(ALICE));
    await g.client.api(`/groups/${G_RXX}/members/${id(ALICE)}/$ref`).delete();
    await drift(day(2));
    expect(await linesOf(ALICE)).toEqual(['enabled-mismatch', 'group-mismatch', 'name-mismatch']);

    const reply = await runText(s.lifecycle, operator(day(2)), `directory reapply ${ALICE}`);
    expect(reply.ok).toBe(true);
    expect(reply.text).toContain(`to put ${ALICE} back as the bot has it`);
    expect(reply.text).toContain('name-mismatch: the bot has alice smith; the directory has Alicia smith');
    expect(await effectsOf(ALICE)).toEqual([
      {
        kind: 'reconcile',
        state: 'pending',
        payload: {
          kind: 'reconcile',
          address: ALICE,
          org: 'RXX',
          restore: false,
          enabled: true,
          names: { given: 'alice', family: 'smith' },
          inHomeGroup: true,
          leave: ['RYY'],
        },
      },
    ]);
    const trail = await s.lifecycle.auditTrail(operator(), { address: ALICE });
    expect(trail.at(-1)).toMatchObject({
      action: 'directory-reapply',
      actor: 'operator',
      from: 'active',
      to: 'active',
      reason: expect.stringContaining('the directory has it disabled'),
    });

    await runWorker(s.db, entra, day(2));
    expect((await effectsOf(ALICE))[0]?.state).toBe('applied');
    expect(g.graph.user(id(ALICE))).toMatchObject({ accountEnabled: true, givenName: 'alice' });
    expect(g.graph.membersOf(G_RXX)).toContain(id(ALICE));
    expect(g.graph.membersOf(G_RYY)).not.toContain(id(ALICE));
    await drift(day(3));
    expect(await linesOf(ALICE)).toEqual([]);
  });

  it('restores a live account the directory deleted', async () => {
    await g.client.api(`/users/${id(BOB)}`).delete();
    await drift(day(2));
    expect(await linesOf(BOB)).toEqual(['deleted-in-directory']);
    const done = await s.lifecycle.reapplyToDirectory(operator(day(2)), { address: BOB });
    expect(done.effect).toMatchObject({ kind: 'reconcile', restore: true, enabled: true });
    await runWorker(s.db, entra, day(2));
    expect(g.graph.user(id(BOB))).toMatchObject({ accountEnabled: true, userPrincipalName: BOB });
    await drift(day(3));
    expect(await linesOf(BOB)).toEqual([]);
  });

  it('blocks an inactive account the directory enabled, its sessions revoked', async () => {
    await g.client.api(`/users/${id(CAROL)}`).patch({ accountEnabled: true });
    await drift(day(2));
    expect(await linesOf(CAROL)).toEqual(['enabled-mismatch']);
    await s.lifecycle.reapplyToDirectory(operator(day(2)), { address: CAROL });
    await runWorker(s.db, entra, day(2));
    expect(g.graph.user(id(CAROL))).toMatchObject({ accountEnabled: false });
    expect(g.graph.requests.some((r) => r.path === `/users/${id(CAROL)}/revokeSignInSessions`)).toBe(true);
    await drift(day(3));
    expect(await linesOf(CAROL)).toEqual([]);
  });

  it('refuses when the report has nothing for the account to settle, and changes nothing', async () => {
    const refused = await refusal(
      s.lifecycle.reapplyToDirectory(operator(day(2)), { address: ALICE }),
      'NOTHING_TO_REAPPLY',
    );
    expect(refused.message).toContain('"directory drift" shows the report');
    // Missing from the directory: reapplying cannot make it; the line's own remedy is named.
    await g.client.api(`/users/${id(BOB)}`).delete();
    await g.client.api(`/directory/deletedItems/${id(BOB)}`).delete();
    await drift(day(2));
    expect(await linesOf(BOB)).toEqual(['not-in-directory']);
    const missing = await refusal(
      s.lifecycle.reapplyToDirectory(operator(day(2)), { address: BOB }),
      'NOTHING_TO_REAPPLY',
    );
    expect(missing.message).toContain('make it in Entra, then directory import links it');
    expect(await effectsOf(ALICE)).toEqual([]);
    expect(await effectsOf(BOB)).toEqual([]);
  });

  it('lets a local administrator of the account’s organisation reapply it, and no one else', async () => {
    await g.client.api(`/users/${id(ALICE)}`).patch({ accountEnabled: false });
    await drift(day(2));
    await grant(s.lifecycle, 'admin.ryy@nhs.net', 'local-admin', 'RYY');
    await grant(s.lifecycle, 'admin.rxx@nhs.net', 'local-admin', 'RXX');
    await refusal(
      s.lifecycle.reapplyToDirectory(as('admin.ryy@nhs.net', day(2)), { address: ALICE }),
      'NOT_YOUR_ORGANISATION',
    );
    expect(await effectsOf(ALICE)).toEqual([]);
    const done = await s.lifecycle.reapplyToDirectory(as('admin.rxx@nhs.net', day(2)), { address: ALICE });
    expect(done.effect).toMatchObject({ kind: 'reconcile', enabled: true, names: null, leave: [] });
  });
});
