import { randomUUID } from 'node:crypto';
import type { User } from '@microsoft/microsoft-graph-types';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createEntraReader } from '../../adapters/directory/entra-reader.js';
import { DELTA_LINK_SETTING } from '../../src/service/directory-import.js';
import type { DirectoryReader, DirectoryUser } from '../../src/service/directory-reader.js';
import { describeEachEngine, queryRows } from '../support/engines.js';
import {
  addOrg,
  as,
  day,
  everyTableAsText,
  operator,
  person,
  refusal,
  T0,
  useService,
} from '../support/service.js';
import { directoryUser } from './support/directory-users.js';
import { type GraphStandIn, startGraphStandIn } from './support/graph-test-client.js';

/**
 * Issue 15, `directory import`: a tenant of users in the Graph stand-in, read over HTTPS by the
 * Entra reader, adopted in one call; matched, unplaced and refused users reported; twice is once.
 */

const G_RXX = randomUUID();
const G_RYY = randomUUID();

type AccountRow = {
  address: string;
  status: string;
  home_org: string;
  given: string | null;
  family: string | null;
  directory_id: string | null;
  first_login_at: Date | string | null;
  last_activity_at: Date | string | null;
  inactive_since: Date | string | null;
};
const iso = (v: Date | string | null | undefined) => (v == null ? null : new Date(v).toISOString());

describeEachEngine('directory import', (ctx) => {
  const s = useService(ctx);
  let g: GraphStandIn;
  let reader: DirectoryReader;
  /** Directory ids by local part. */
  const ids = new Map<string, string>();

  beforeAll(async () => {
    g = await startGraphStandIn({ now: () => T0, verifiedDomains: ['nhs.net', 'contoso.org'] });
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

  /**
   * RXX (group G_RXX): alice (signed in three days ago), bob (never signed in), jane (already the
   * bot's). RYY (G_RYY): carol, disabled. No group: dave. Refused: eve (not @nhs.net), frank (no name).
   */
  beforeEach(async () => {
    g.graph.reset();
    ids.clear();
    g.graph.setDeltaPageSize(3);
    g.graph.addGroup(G_RXX, 'RXX staff');
    g.graph.addGroup(G_RYY, 'RYY staff');
    await addOrg(s.lifecycle, 'RXX');
    await addOrg(s.lifecycle, 'RYY');
    await s.lifecycle.setDirectoryGroup(operator(), { ods: 'RXX', group: G_RXX });
    await s.lifecycle.setDirectoryGroup(operator(), { ods: 'RYY', group: G_RYY });
    const jane = await s.lifecycle.provision(operator(day(-40)), { ...person('Jane', 'Doe'), org: 'RXX' });
    expect(jane.account.address).toBe('jane.doe@nhs.net');

    await user('alice.smith@nhs.net', {}, G_RXX);
    g.graph.setSignIn('alice.smith@nhs.net', day(-3));
    await user('bob.jones@nhs.net', {}, G_RXX);
    await user('jane.doe@nhs.net', {}, G_RXX);
    await user('carol.white@nhs.net', { accountEnabled: false }, G_RYY);
    g.graph.setSignIn('carol.white@nhs.net', day(-90));
    await user('dave.brown@nhs.net');
    await user('eve.black@contoso.org', {}, G_RXX);
    await user('frank.nobody@nhs.net', { givenName: null, surname: null }, G_RYY);
  });

  const accountsNow = () =>
    queryRows<AccountRow>(
      s.db.db,
      sql`select address, status::text as status, home_org, given, family, directory_id,
                 first_login_at, last_activity_at, inactive_since
          from accounts order by address`,
    );
  const auditsOf = (action: string) =>
    queryRows<{
      address: string;
      platform: string;
      actor: string;
      org: string;
      to_status: string;
      details: unknown;
    }>(
      s.db.db,
      sql`select address, platform::text as platform, actor, org, to_status::text as to_status, details
          from audit_log where action = ${action} order by address`,
    );
  const importNow = (input: { org?: string; dryRun?: boolean } = {}) =>
    s.lifecycle.importDirectory(operator(), { reader, dryRun: false, ...input });

  it('adopts the tenant in one call: placed by group, enabled active from the last sign-in, disabled inactive', async () => {
    const report = await importNow();
    expect(report).toMatchObject({
      dryRun: false,
      org: null,
      users: 7,
      adopted: 3,
      active: 2,
      inactive: 1,
      matched: 1,
      unplaced: 1,
      refused: 2,
      truncated: false,
      deltaLinkStored: true,
    });
    expect(report.details.adopted).toEqual(
      expect.arrayContaining([
        { address: 'alice.smith@nhs.net', org: 'RXX', status: 'active' },
        { address: 'bob.jones@nhs.net', org: 'RXX', status: 'active' },
        { address: 'carol.white@nhs.net', org: 'RYY', status: 'inactive' },
      ]),
    );
    expect(report.details.unplaced).toEqual([
      { id: ids.get('dave.brown'), address: 'dave.brown@nhs.net', name: 'dave.brown' },
    ]);
    const refusedBy = Object.fromEntries(report.details.refused.map((r) => [r.address, r.reason]));
    expect(refusedBy['eve.black@contoso.org']).toMatch(/not an @nhs\.net address/);
    expect(refusedBy['frank.nobody@nhs.net']).toMatch(/no given name or surname/);

    const rows = Object.fromEntries((await accountsNow()).map((a) => [a.address, a]));
    expect(Object.keys(rows).sort()).toEqual([
      'alice.smith@nhs.net',
      'bob.jones@nhs.net',
      'carol.white@nhs.net',
      'jane.doe@nhs.net',
    ]);
    expect(rows['alice.smith@nhs.net']).toMatchObject({
      status: 'active',
      home_org: 'RXX',
      given: 'alice',
      family: 'smith',
      directory_id: ids.get('alice.smith'),
    });
    expect(iso(rows['alice.smith@nhs.net']?.last_activity_at)).toBe(day(-3).toISOString());
    expect(iso(rows['alice.smith@nhs.net']?.first_login_at)).toBe(day(-3).toISOString());
    // Never signed in: the activity clock starts at the import.
    expect(iso(rows['bob.jones@nhs.net']?.last_activity_at)).toBe(T0.toISOString());
    expect(rows['carol.white@nhs.net']).toMatchObject({ status: 'inactive', home_org: 'RYY' });
    expect(iso(rows['carol.white@nhs.net']?.inactive_since)).toBe(T0.toISOString());
    // Jane was the bot's already: matched, not duplicated, her directory id recorded.
    expect(rows['jane.doe@nhs.net']).toMatchObject({ status: 'pending', directory_id: ids.get('jane.doe') });

    const audits = await auditsOf('directory-import');
    expect(audits).toEqual([
      expect.objectContaining({
        address: 'alice.smith@nhs.net',
        platform: 'directory',
        actor: 'operator',
        org: 'RXX',
        to_status: 'active',
      }),
      expect.objectContaining({ address: 'bob.jones@nhs.net', platform: 'directory', to_status: 'active' }),
      expect.objectContaining({
        address: 'carol.white@nhs.net',
        platform: 'directory',
        org: 'RYY',
        to_status: 'inactive',
      }),
    ]);
    expect(audits[0]?.details).toEqual({
      directoryId: ids.get('alice.smith'),
      lastSignIn: day(-3).toISOString(),
    });

    const [stored] = await queryRows<{ value: string }>(
      s.db.db,
      sql`select value from settings where key = ${DELTA_LINK_SETTING}`,
    );
    expect(stored?.value).toMatch(/\/users\/delta\?\$deltatoken=/);
  });

  it('shows the adopted accounts in the audit trail with platform directory', async () => {
    await importNow();
    const trail = await s.lifecycle.auditTrail(operator(), { address: 'carol.white@nhs.net' });
    expect(JSON.stringify(trail)).toContain('directory');
  });

  it('changes nothing when run again, and reports everyone it has as matched', async () => {
    await importNow();
    const accounts = await accountsNow();
    const audits = await queryRows(s.db.db, sql`select * from audit_log order by id`);
    const again = await importNow();
    expect(again).toMatchObject({ adopted: 0, matched: 4, unplaced: 1, refused: 2 });
    expect(await accountsNow()).toEqual(accounts);
    expect(await queryRows(s.db.db, sql`select * from audit_log order by id`)).toEqual(audits);
  });

  it('with --org, reads only that organisation’s group', async () => {
    const report = await importNow({ org: 'RXX' });
    expect(report).toMatchObject({ org: 'RXX', users: 4, adopted: 2, matched: 1, unplaced: 0, refused: 1 });
    expect((await accountsNow()).map((a) => a.address)).toEqual([
      'alice.smith@nhs.net',
      'bob.jones@nhs.net',
      'jane.doe@nhs.net',
    ]);
  });

  it('writes nothing in a dry run, and reports what it would do', async () => {
    const before = await everyTableAsText(s.db);
    const report = await importNow({ dryRun: true });
    expect(report).toMatchObject({
      dryRun: true,
      adopted: 3,
      matched: 1,
      unplaced: 1,
      refused: 2,
      deltaLinkStored: false,
    });
    expect(await everyTableAsText(s.db)).toBe(before);
  });

  it('keeps every user it reads in the directory mirror, placed or not, also with --org; none in a dry run', async () => {
    const mirrored = () =>
      queryRows<{ id: string; address: string | null; given: string | null; account_enabled: boolean }>(
        s.db.db,
        sql`select id, address, given, account_enabled from directory_users order by id`,
      );
    await importNow({ dryRun: true });
    expect(await mirrored()).toEqual([]);
    await importNow({ org: 'RXX' });
    const rows = await mirrored();
    expect(rows.map((r) => r.id).sort()).toEqual([...ids.values()].sort());
    const byId = new Map(rows.map((r) => [r.id, r]));
    // Unplaced (dave), refused outside @nhs.net (eve: no address kept), refused without names (frank).
    expect(byId.get(ids.get('dave.brown') ?? '')).toMatchObject({
      address: 'dave.brown@nhs.net',
      given: 'dave',
    });
    expect(byId.get(ids.get('eve.black') ?? '')).toMatchObject({ address: null, given: 'eve' });
    expect(byId.get(ids.get('frank.nobody') ?? '')).toMatchObject({
      address: 'frank.nobody@nhs.net',
      given: null,
    });
    expect(byId.get(ids.get('carol.white') ?? '')?.account_enabled).toBe(false);
  });

  it('refuses a user in two organisations’ groups, since an account has one home', async () => {
    g.graph.addToGroup(G_RYY, 'alice.smith@nhs.net');
    const report = await importNow();
    expect(report.details.refused.find((r) => r.address === 'alice.smith@nhs.net')?.reason).toMatch(
      /groups of RXX and RYY/,
    );
    expect((await accountsNow()).map((a) => a.address)).not.toContain('alice.smith@nhs.net');
  });

  it('refuses anyone but the operator, and --org for an organisation with no group', async () => {
    await refusal(
      s.lifecycle.importDirectory(as('someone@nhs.net'), { reader, dryRun: false }),
      'OPERATOR_ONLY',
    );
    await addOrg(s.lifecycle, 'RZZ');
    const e = await refusal(importNow({ org: 'RZZ' }), 'NO_DIRECTORY_GROUP');
    expect(e.message).toContain('org group --ods RZZ');
    await refusal(importNow({ org: 'RQQ' }), 'ORG_NOT_FOUND');
  });

  it('refuses an address the bot has tied to another directory object, and changes nothing for it', async () => {
    await s.db.db.execute(
      sql`update accounts set directory_id = 'another-object' where address = 'jane.doe@nhs.net'`,
    );
    const report = await importNow();
    expect(report.details.refused.find((r) => r.address === 'jane.doe@nhs.net')?.reason).toMatch(
      /tied to another directory object \(another-object\)/,
    );
    expect(report.matched).toBe(0);
    const [jane] = (await accountsNow()).filter((a) => a.address === 'jane.doe@nhs.net');
    expect(jane?.directory_id).toBe('another-object');
  });

  it('stops when Graph restarts the round mid-way, keeping the pages written, and a new run completes it', async () => {
    g.graph.setDeltaPageSize(2);
    // After the first page, Graph forgets the round (as after a reset on its side): the next page is 410.
    const expiring: DirectoryReader = {
      ...reader,
      async *readUsers(deltaLink) {
        let first = true;
        for await (const step of reader.readUsers(deltaLink)) {
          yield step;
          if (first) g.graph.expireDeltaTokens();
          first = false;
        }
      },
    };
    const e = await refusal(
      s.lifecycle.importDirectory(operator(), { reader: expiring, dryRun: false }),
      'GRAPH_ERROR',
    );
    expect(e.message).toMatch(/Run the import again/);
    const [stored] = await queryRows(
      s.db.db,
      sql`select value from settings where key = ${DELTA_LINK_SETTING}`,
    );
    expect(stored).toBeUndefined();
    const after = await importNow();
    expect(after.adopted + after.matched).toBe(4);
    expect((await accountsNow()).map((a) => a.address)).toHaveLength(4);
  });

  it('takes a user Graph lists twice, in one page or in two written at once: once, the later values kept', async () => {
    g.graph.setDeltaPageSize(2);
    // Graph allows duplicates in a delta sequence: each page repeats the previous page's last user,
    // renamed, and the first page lists its first user twice.
    let previous: DirectoryUser | undefined;
    const repeating: DirectoryReader = {
      ...reader,
      async *readUsers(deltaLink) {
        for await (const step of reader.readUsers(deltaLink)) {
          if (step.kind !== 'page') {
            yield step;
            continue;
          }
          const users = step.entries.filter((e): e is DirectoryUser => e.kind === 'user');
          const first = users[0];
          const again = [
            ...(previous ? [previous] : first ? [{ ...first, givenName: 'Once' }] : []),
            ...step.entries,
            ...(previous ? [] : first ? [{ ...first, givenName: 'Twice' }] : []),
          ];
          const last = users.at(-1);
          previous = last ? { ...last, givenName: 'Repeated' } : undefined;
          yield { kind: 'page', entries: again };
        }
      },
    };
    const report = await s.lifecycle.importDirectory(operator(), { reader: repeating, dryRun: false });
    expect(report.refused).toBe(2); // eve (not @nhs.net) and frank (no names), as without repeats
    const mirrored = await queryRows<{ id: string; given: string | null }>(
      s.db.db,
      sql`select id, given from directory_users order by id`,
    );
    expect(mirrored.map((r) => r.id).sort()).toEqual([...ids.values()].sort());
    expect(mirrored.some((r) => r.given === 'Twice')).toBe(true);
    const addresses = (await accountsNow()).map((a) => a.address);
    expect(new Set(addresses).size).toBe(addresses.length);
  });

  it('stops at a page the database refuses, with that page’s own error, while another is being written', async () => {
    g.graph.setDeltaPageSize(2);
    let page = 0;
    const poisoned: DirectoryReader = {
      ...reader,
      async *readUsers(deltaLink) {
        for await (const step of reader.readUsers(deltaLink)) {
          if (step.kind === 'page' && ++page === 2) {
            // A NUL character, which PostgreSQL's text refuses: this page's transaction fails.
            yield {
              kind: 'page',
              entries: [...step.entries, { kind: 'removed', id: 'bad\u0000id', reason: 'deleted' }],
            };
            continue;
          }
          yield step;
        }
      },
    };
    await expect(
      s.lifecycle.importDirectory(operator(), { reader: poisoned, dryRun: false }),
    ).rejects.toThrow();
    const [stored] = await queryRows(
      s.db.db,
      sql`select value from settings where key = ${DELTA_LINK_SETTING}`,
    );
    expect(stored).toBeUndefined();
    // Nothing is left running, and the claim on the directory is released: a new run completes it.
    const after = await importNow();
    expect(after.deltaLinkStored).toBe(true);
    expect(after.adopted + after.matched).toBe(4);
  });
});
