import { randomUUID } from 'node:crypto';
import type { User } from '@microsoft/microsoft-graph-types';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createEntraReader } from '../../adapters/directory/entra-reader.js';
import { driftText } from '../../src/commands/catalogue/directory.js';
import type { DriftKind } from '../../src/domain/drift.js';
import type { DriftReportLine } from '../../src/service/directory-drift.js';
import type { DirectoryReader } from '../../src/service/directory-reader.js';
import { describeEachEngine, queryRows, schemaTableNames } from '../support/engines.js';
import {
  addOrg,
  as,
  day,
  grant,
  operator,
  outboxRows,
  person,
  refusal,
  T0,
  useService,
} from '../support/service.js';
import { directoryUser } from './support/directory-users.js';
import { type GraphStandIn, startGraphStandIn } from './support/graph-test-client.js';

/**
 * Issue 15, point 3: drift between the directory (the Graph stand-in, over HTTPS) and the bot,
 * one test per kind with the command that settles it; change rounds from the stored deltaLink, a
 * full resync on 410; nothing changed on the directory's word; one operators' line per change.
 */

const G_RXX = randomUUID();
const G_RYY = randomUUID();

describeEachEngine('directory drift', (ctx) => {
  const s = useService(ctx);
  let g: GraphStandIn;
  let reader: DirectoryReader;
  const ids = new Map<string, string>();

  beforeAll(async () => {
    g = await startGraphStandIn({ now: () => T0, verifiedDomains: ['nhs.net'] });
    reader = createEntraReader({ client: g.client });
  });
  afterAll(async () => {
    await g?.close();
  });

  async function user(upn: string, extra: User = {}, group?: string): Promise<string> {
    const id = await directoryUser(g, upn, extra, group);
    ids.set(upn.split('@')[0] ?? upn, id);
    return id;
  }
  const id = (local: string) => ids.get(local) ?? '';
  const patch = (local: string, body: User) => g.client.api(`/users/${id(local)}`).patch(body);

  /**
   * RXX (G_RXX): alice, bob, jane (provisioned by the bot, pending). RYY (G_RYY): carol, disabled.
   * All adopted or matched by `directory import`, then a first drift round: no drift.
   */
  beforeEach(async () => {
    g.graph.reset();
    ids.clear();
    g.graph.setDeltaPageSize(2);
    g.graph.addGroup(G_RXX, 'RXX staff');
    g.graph.addGroup(G_RYY, 'RYY staff');
    await addOrg(s.lifecycle, 'RXX');
    await addOrg(s.lifecycle, 'RYY');
    await s.lifecycle.setDirectoryGroup(operator(), { ods: 'RXX', group: G_RXX });
    await s.lifecycle.setDirectoryGroup(operator(), { ods: 'RYY', group: G_RYY });
    await s.lifecycle.provision(operator(day(-40)), { ...person('jane', 'doe'), org: 'RXX' });
    await user('alice.smith@nhs.net', {}, G_RXX);
    await user('bob.jones@nhs.net', {}, G_RXX);
    await user('jane.doe@nhs.net', {}, G_RXX);
    await user('carol.white@nhs.net', { accountEnabled: false }, G_RYY);
    const imported = await s.lifecycle.importDirectory(operator(), { reader, dryRun: false });
    expect(imported).toMatchObject({ adopted: 3, matched: 1, unplaced: 0, refused: 0 });
  });

  const drift = (now = day(1)) => s.lifecycle.directoryDrift(operator(now), { reader });
  const report = async (org?: string) => (await s.lifecycle.driftReport(operator(), { org })).lines;
  const only = (lines: DriftReportLine[], kind: DriftKind) => lines.filter((l) => l.kind === kind);
  const told = async () => (await outboxRows(s.db)).filter((r) => r.kind === 'directory-drift');

  it('reads only the changes after the import, and finds no drift when the two agree', async () => {
    g.graph.requests.length = 0;
    const summary = await drift();
    expect(summary).toMatchObject({ round: 'changes', users: 0, total: 0, new: 0, settled: 0 });
    const deltas = g.graph.requests.filter((r) => r.path === '/users/delta');
    expect(deltas).toHaveLength(1);
    expect(deltas[0]?.query).toMatch(/^\$deltatoken=/);
    expect(await report()).toEqual([]);
    expect(await told()).toEqual([]);
  });

  it('not-in-bot: a directory user the bot has no account for, settled by importing its organisation', async () => {
    await user('dave.brown@nhs.net', {}, G_RYY);
    await user('erin.grey@nhs.net');
    const summary = await drift();
    expect(summary).toMatchObject({ round: 'changes', users: 2 });
    const lines = only(await report(), 'not-in-bot');
    expect(lines).toEqual([
      expect.objectContaining({ address: 'dave.brown@nhs.net', org: 'RYY', directoryId: id('dave.brown') }),
      expect.objectContaining({ address: 'erin.grey@nhs.net', org: null }),
    ]);
    expect(lines[0]?.detail.settle).toBe('directory import --org RYY');
    expect(lines[1]?.detail.settle).toMatch(
      /^org group --ods ODS --group OBJECT_ID .*then directory import$/,
    );
  });

  it('not-in-directory: an account the directory lacks or purged; a queued creation is not drift, a parked one names its retry', async () => {
    await s.lifecycle.provision(operator(), { ...person('kim', 'lee'), org: 'RXX' });
    await g.client.api(`/users/${id('bob.jones')}`).delete();
    await g.client.api(`/directory/deletedItems/${id('bob.jones')}`).delete();
    await drift();
    const lines = only(await report(), 'not-in-directory');
    expect(lines.map((l) => [l.address, l.detail.says, l.detail.settle])).toEqual([
      [
        'bob.jones@nhs.net',
        'the bot has it active; the directory deleted it for good',
        'make it in Entra, then directory import links it; or leaver bob.jones@nhs.net if the person has gone',
      ],
      [
        'kim.lee@nhs.net',
        'the bot has it pending; the directory has no such user',
        'make it in Entra, then directory import links it; or leaver kim.lee@nhs.net if the person has gone',
      ],
    ]);
    expect(lines[0]?.detail).toMatchObject({ removed: 'deleted', directoryId: id('bob.jones') });

    const effect = async (state: string) => {
      await s.db.db.execute(sql`delete from directory_effects`);
      const [row] = await queryRows<{ id: number }>(
        s.db.db,
        sql`insert into directory_effects (account_id, kind, payload, state, available_at, created_at)
            values ((select id from accounts where address = 'kim.lee@nhs.net'), 'create-user', '{}'::jsonb, ${state}::effect_state, ${T0.toISOString()}::timestamptz, ${T0.toISOString()}::timestamptz)
            returning id`,
      );
      return Number(row?.id);
    };
    await effect('pending');
    await drift();
    expect(only(await report(), 'not-in-directory').map((l) => l.address)).toEqual(['bob.jones@nhs.net']);
    const failed = await effect('failed');
    await drift();
    const kimLine = (await report()).find((l) => l.address === 'kim.lee@nhs.net');
    expect(kimLine?.detail.settle).toBe(`directory retry ${failed}`);
    const conflict = await effect('conflict');
    await drift();
    expect((await report()).find((l) => l.address === 'kim.lee@nhs.net')?.detail.settle).toMatch(
      new RegExp(`^directory retry ${conflict} --adopt`),
    );
  });

  it('deleted-in-directory: a live account in the directory’s deleted users, settled by reapply or leaver', async () => {
    await g.client.api(`/users/${id('bob.jones')}`).delete();
    await drift();
    const [line] = only(await report(), 'deleted-in-directory');
    expect(line).toMatchObject({ address: 'bob.jones@nhs.net', org: 'RXX' });
    expect(line?.detail).toMatchObject({
      removed: 'changed',
      status: 'active',
      directoryId: id('bob.jones'),
    });
    expect(line?.detail.settle).toBe(
      'directory reapply bob.jones@nhs.net (restores it) or leaver bob.jones@nhs.net',
    );
  });

  it('enabled-mismatch: disabled while active, enabled while inactive, each with its settling command', async () => {
    await patch('alice.smith', { accountEnabled: false });
    await patch('carol.white', { accountEnabled: true });
    await drift();
    const lines = only(await report(), 'enabled-mismatch');
    expect(lines.map((l) => [l.address, l.detail.enabled, l.detail.settle])).toEqual([
      [
        'alice.smith@nhs.net',
        false,
        'directory reapply alice.smith@nhs.net (enables it) or leaver alice.smith@nhs.net',
      ],
      [
        'carol.white@nhs.net',
        true,
        'directory reapply carol.white@nhs.net (disables it) or reactivate carol.white@nhs.net',
      ],
    ]);
  });

  it('group-mismatch: out of its home group and in another organisation’s, settled by reapply or transfer', async () => {
    await g.client.api(`/groups/${G_RXX}/members/${id('alice.smith')}/$ref`).delete();
    g.graph.addToGroup(G_RYY, id('alice.smith'));
    await drift();
    const [line] = only(await report(), 'group-mismatch');
    expect(line).toMatchObject({ address: 'alice.smith@nhs.net', org: 'RXX' });
    expect(line?.detail.groups).toEqual(['RYY']);
    expect(line?.detail.says).toBe('home RXX: not in RXX’s group; in the group of RYY');
    expect(line?.detail.settle).toBe(
      'directory reapply alice.smith@nhs.net (puts it in its home group only) or transfer alice.smith@nhs.net --to RYY when it belongs there',
    );
    // Seen from RYY too: the user sits in its group.
    expect((await report('RYY')).map((l) => l.address)).toEqual(['alice.smith@nhs.net']);
  });

  it('name-mismatch: a surname changed in the directory, settled by reapply; case counts, spaces do not', async () => {
    await patch('bob.jones', { surname: 'Jones-Smith' });
    await patch('alice.smith', { surname: ' smith ' });
    await drift();
    const lines = only(await report(), 'name-mismatch');
    expect(lines.map((l) => l.address)).toEqual(['bob.jones@nhs.net']);
    expect(lines[0]?.detail).toMatchObject({ surname: 'Jones-Smith', botFamily: 'jones' });
    expect(lines[0]?.detail.settle).toBe('directory reapply bob.jones@nhs.net (writes the bot’s names)');
    await patch('bob.jones', { surname: 'Jones' });
    await drift(day(2));
    expect(only(await report(), 'name-mismatch').map((l) => l.address)).toEqual(['bob.jones@nhs.net']);
  });

  it('keeps the names a change round leaves out (Graph sends a changed user’s changed properties only)', async () => {
    // As Graph does: a change round gives a changed user's id and its changed properties.
    const sparse: DirectoryReader = {
      ...reader,
      async *readUsers(deltaLink) {
        for await (const step of reader.readUsers(deltaLink)) {
          if (step.kind !== 'page' || !deltaLink) {
            yield step;
            continue;
          }
          yield {
            kind: 'page',
            entries: step.entries.map((e) =>
              e.kind === 'user'
                ? {
                    ...e,
                    userPrincipalName: null,
                    givenName: null,
                    surname: null,
                    displayName: null,
                    omitted: ['userPrincipalName', 'givenName', 'surname', 'displayName'] as const,
                  }
                : e,
            ),
          };
        }
      },
    };
    await patch('alice.smith', { accountEnabled: false });
    await s.lifecycle.directoryDrift(operator(day(1)), { reader: sparse });
    const [mirrored] = await queryRows<{
      given: string;
      surname: string;
      address: string;
      account_enabled: boolean;
    }>(
      s.db.db,
      sql`select given, surname, address, account_enabled from directory_users where id = ${id('alice.smith')}`,
    );
    expect(mirrored).toEqual({
      given: 'alice',
      surname: 'smith',
      address: 'alice.smith@nhs.net',
      account_enabled: false,
    });
    expect((await report()).map((l) => [l.kind, l.address])).toEqual([
      ['enabled-mismatch', 'alice.smith@nhs.net'],
    ]);
  });

  it('starts a full resync when Graph has forgotten the deltaLink (410), and still reports correctly', async () => {
    await drift();
    g.graph.expireDeltaTokens();
    await patch('alice.smith', { accountEnabled: false });
    await g.client.api(`/users/${id('bob.jones')}`).delete();
    g.graph.requests.length = 0;
    const summary = await drift(day(2));
    expect(summary).toMatchObject({ round: 'resync', users: 3 });
    expect(g.graph.requests.filter((r) => r.path === '/users/delta').map((r) => r.status)).toContain(410);
    // A full round lists live users only: bob, deleted meanwhile, is found in the directory's
    // deleted items (read after the round), so restorable, not gone for good.
    expect((await report()).map((l) => [l.kind, l.address])).toEqual([
      ['deleted-in-directory', 'bob.jones@nhs.net'],
      ['enabled-mismatch', 'alice.smith@nhs.net'],
    ]);
    expect(
      g.graph.requests.filter(
        (r) => r.path === '/directory/deletedItems/microsoft.graph.user' && r.status === 200,
      ),
    ).toHaveLength(1);
    // The new link is stored: the next run is a change round again.
    expect(await drift(day(3))).toMatchObject({ round: 'changes', users: 0, total: 2, new: 0 });
  });

  it('changes nothing on the directory’s word: no account, audit row or directory effect', async () => {
    await user('dave.brown@nhs.net', {}, G_RYY);
    await patch('alice.smith', { accountEnabled: false, surname: 'Other' });
    await g.client.api(`/users/${id('bob.jones')}`).delete();
    const kept = schemaTableNames.filter(
      (t) => !['directory_users', 'directory_drift', 'settings', 'outbox'].includes(t),
    );
    const snapshot = async () => {
      const parts: string[] = [];
      for (const table of kept) {
        const rows = await queryRows<{ t: string }>(
          s.db.db,
          sql`select t::text as t from ${sql.identifier(table)} t order by 1`,
        );
        parts.push(`${table}: ${rows.map((r) => r.t).join('\n')}`);
      }
      return parts.join('\n');
    };
    const before = await snapshot();
    expect(before).toContain('accounts: ');
    const summary = await drift();
    expect(summary.total).toBe(4);
    expect(await snapshot()).toBe(before);
    // The outbox holds the operators' line and nothing else.
    expect((await outboxRows(s.db)).map((r) => r.kind)).toEqual(['directory-drift']);
  });

  it('tells the operators once per change: one line when the set of lines changes, none when it does not', async () => {
    await patch('alice.smith', { accountEnabled: false });
    await user('dave.brown@nhs.net', {}, G_RYY);
    expect(await drift(day(1))).toMatchObject({ total: 2, new: 2, settled: 0, notified: true });
    expect(await told()).toEqual([
      expect.objectContaining({
        audience: { type: 'operators' },
        payload: expect.objectContaining({ total: 2, new: 2, settled: 0 }),
      }),
    ]);
    expect(await drift(day(2))).toMatchObject({ total: 2, new: 0, settled: 0, notified: false });
    expect(await told()).toHaveLength(1);
    const [first] = await queryRows<{ first_seen_at: Date | string }>(
      s.db.db,
      sql`select first_seen_at from directory_drift where key = 'not-in-bot:dave.brown@nhs.net'`,
    );
    expect(new Date(first?.first_seen_at ?? 0).toISOString()).toBe(day(1).toISOString());

    await patch('alice.smith', { accountEnabled: true });
    expect(await drift(day(3))).toMatchObject({ total: 1, new: 0, settled: 1, notified: true });
    const lines = await told();
    expect(lines).toHaveLength(2);
    expect(lines[1]?.payload).toMatchObject({ total: 1, new: 0, settled: 1 });
  });

  it('directory drift: the report with each line’s settling command; --org for a local administrator of that organisation only', async () => {
    const none = await s.lifecycle.driftReport(operator(), {});
    expect(driftText(none)).toMatch(/^No drift report yet: the Graph job \(GRAPH_SCHEDULE/);

    await patch('carol.white', { accountEnabled: true });
    await user('dave.brown@nhs.net', {}, G_RXX);
    await drift();
    const text = driftText(await s.lifecycle.driftReport(operator(), {}));
    expect(text).toContain(`Directory drift, as of ${day(1).toISOString()}`);
    expect(text).toContain('2 line(s) — 1 not in the bot, 1 enabled/disabled');
    expect(text).toContain('not-in-bot           dave.brown@nhs.net (RXX)');
    expect(text).toContain('Settle: directory import --org RXX');
    expect(text).toContain(
      'Settle: directory reapply carol.white@nhs.net (disables it) or reactivate carol.white@nhs.net',
    );

    await grant(s.lifecycle, 'ann.admin@nhs.net', 'local-admin', 'RYY');
    const mine = await s.lifecycle.driftReport(as('ann.admin@nhs.net'), { org: 'RYY' });
    expect(mine.lines.map((l) => l.address)).toEqual(['carol.white@nhs.net']);
    expect(driftText(mine)).toContain('Directory drift for RYY');
    const whole = await refusal(
      s.lifecycle.driftReport(as('ann.admin@nhs.net'), {}),
      'NOT_YOUR_ORGANISATION',
    );
    expect(whole.message).toContain('directory drift --org ODS');
    await refusal(s.lifecycle.driftReport(as('ann.admin@nhs.net'), { org: 'RXX' }), 'NOT_YOUR_ORGANISATION');
    await grant(s.lifecycle, 'nas.admin@nhs.net', 'nas-admin');
    expect((await s.lifecycle.driftReport(as('nas.admin@nhs.net'), {})).lines).toHaveLength(2);
  });

  it('is made by the operator or the scheduler only', async () => {
    await refusal(s.lifecycle.directoryDrift(as('someone@nhs.net'), { reader }), 'OPERATOR_ONLY');
  });

  it('a user deleted for good whose address a new user holds: drift names the relink, and directory import makes it, audited', async () => {
    const gone = id('bob.jones');
    await g.client.api(`/users/${gone}`).delete();
    await g.client.api(`/directory/deletedItems/${gone}`).delete();
    const successor = await user('bob.jones@nhs.net', {}, G_RXX);
    await drift();
    const [line] = only(await report(), 'not-in-directory');
    expect(line?.detail.successor).toBe(successor);
    expect(line?.detail.settle).toBe(
      `directory import links the account to ${successor}, once you have checked it is this person; or leaver bob.jones@nhs.net if the person has gone`,
    );
    const imported = await s.lifecycle.importDirectory(operator(day(2)), { reader, dryRun: false });
    expect(imported.refused).toBe(0);
    const [row] = await queryRows<{ directory_id: string }>(
      s.db.db,
      sql`select directory_id from accounts where address = 'bob.jones@nhs.net'`,
    );
    expect(row?.directory_id).toBe(successor);
    const trail = await s.lifecycle.auditTrail(operator(), { address: 'bob.jones@nhs.net' });
    expect(trail.at(-1)).toMatchObject({
      action: 'directory-relink',
      platform: 'directory',
      reason: `its directory user ${gone} was deleted for good; ${successor} now holds the address`,
    });
    await drift(day(3));
    expect((await report()).filter((l) => l.address === 'bob.jones@nhs.net')).toEqual([]);
  });

  it('reads the directory one round at a time: an import and a drift round never overlap, a dead one’s claim lapses', async () => {
    const claim = (since: Date, minutes: number) =>
      s.db.db.execute(sql`
        insert into settings (key, value) values ('directory-reading', ${JSON.stringify({
          by: 'directory import',
          since: since.toISOString(),
          until: new Date(since.getTime() + minutes * 60_000).toISOString(),
          token: 'another-process',
        })})`);
    const claims = () =>
      queryRows<{ value: string }>(s.db.db, sql`select value from settings where key = 'directory-reading'`);
    // Released after each round.
    expect(await claims()).toEqual([]);
    await claim(day(1), 30);
    const busy = await refusal(drift(day(1)), 'DIRECTORY_BUSY');
    expect(busy.message).toContain(
      `A directory import has been reading the directory since ${day(1).toISOString()}`,
    );
    const again = await refusal(
      s.lifecycle.importDirectory(operator(day(1)), { reader, dryRun: false }),
      'DIRECTORY_BUSY',
    );
    expect(again.message).toContain('run the import again once it has finished');
    // A dry run writes nothing, so it may read meanwhile.
    expect((await s.lifecycle.importDirectory(operator(day(1)), { reader, dryRun: true })).dryRun).toBe(true);
    // Half an hour on, a claim no one renewed is taken over, and released again.
    expect((await drift(new Date(day(1).getTime() + 31 * 60_000))).round).toBe('changes');
    expect(await claims()).toEqual([]);
  });
});
