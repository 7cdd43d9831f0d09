import { Writable } from 'node:stream';
import type { User } from '@microsoft/microsoft-graph-types';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEntraDirectory } from '../../adapters/directory/entra.js';
import { judge } from '../../adapters/directory/entra-outcomes.js';
import { BOT_MARKER } from '../../adapters/directory/entra-requests.js';
import type { Effect } from '../../src/domain/effects.js';
import type {
  Directory,
  DirectoryCredential,
  EffectOutcome,
  EffectToApply,
} from '../../src/service/ports.js';
import { type GraphStandIn, startGraphStandIn } from './support/graph-test-client.js';

const T0 = new Date('2026-03-02T09:00:00Z');
const DAY = 24 * 60 * 60 * 1000;
const G_RXX = '3f0e2a4c-1b7d-4c9e-8a21-5d6f7e8a9b01';
const G_RYY = '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c02';
const ORGS = {
  RXX: { name: 'Leeds Teaching Hospitals NHS Trust', group: G_RXX },
  RYY: { name: 'Bradford District Care NHS Foundation Trust', group: G_RYY },
  RZZ: { name: 'A Trust With No Group', group: null },
};
const PASSWORD = 'Welcome-2026-Xq!7';
const GHOST = '00000000-0000-4000-8000-00000000dead';

const password = (pw = PASSWORD): DirectoryCredential => ({
  kind: 'password',
  password: pw,
  forceChangeWithMfa: true,
});
const starter = (local: string, org = 'RXX'): Extract<Effect, { kind: 'create-user' }> => ({
  kind: 'create-user',
  address: `${local}@nhs.net`,
  given: 'Jane',
  family: 'Doe',
  org,
  employeeId: 'E-1001',
  mfaRequired: true,
});

describe('the Entra directory, against the Graph stand-in', () => {
  let s: GraphStandIn;
  let clock: Date;
  let directory: Directory;
  let nextId = 1;
  const logged: string[] = [];
  /** Every error any outcome carried, checked at the end for secrets. */
  const errors: string[] = [];

  beforeAll(async () => {
    s = await startGraphStandIn({ now: () => clock });
    const sink = new Writable({
      write(chunk, _encoding, callback) {
        logged.push(String(chunk));
        callback();
      },
    });
    directory = createEntraDirectory({
      client: s.client,
      graphOrigin: s.graph.url,
      logger: pino({ level: 'debug' }, sink),
    });
  });
  afterAll(async () => {
    await s?.close();
  });
  beforeEach(() => {
    clock = T0;
    s.graph.reset();
    s.graph.setChaos(undefined);
    s.graph.setWriteBudget(undefined);
    s.graph.addGroup(G_RXX, 'RXX staff');
    s.graph.addGroup(G_RYY, 'RYY staff');
  });

  const item = (effect: Effect, extra: Partial<EffectToApply> = {}): EffectToApply => ({
    id: nextId++,
    effect,
    directoryId: null,
    orgs: ORGS,
    ...extra,
  });
  const applyAll = async (items: EffectToApply[]): Promise<EffectOutcome[]> => {
    const outcomes = await directory.apply(items);
    expect(outcomes.size).toBe(items.length);
    return items.map((i) => {
      const outcome = outcomes.get(i.id);
      if (!outcome) throw new Error(`no outcome for effect ${i.id}`);
      if (!outcome.ok) errors.push(outcome.error);
      return outcome;
    });
  };
  const apply = async (i: EffectToApply): Promise<EffectOutcome> => (await applyAll([i]))[0] as EffectOutcome;
  const created = async (local: string, org = 'RXX'): Promise<string> => {
    const outcome = await apply(item(starter(local, org), { credential: password() }));
    if (!outcome.ok || outcome.directoryId === null)
      throw new Error(`not created: ${JSON.stringify(outcome)}`);
    return outcome.directoryId;
  };
  const usersAt = async (address: string): Promise<unknown[]> =>
    (await s.client.api('/users').filter(`userPrincipalName eq '${address}'`).get()).value;

  it('creates a user with exactly the password given, marked as the bot’s, in its organisation’s group', async () => {
    const outcome = await apply(item(starter('jane.doe'), { credential: password() }));
    expect(outcome).toEqual({ ok: true, directoryId: expect.any(String) });
    const id = outcome.ok ? String(outcome.directoryId) : '';
    expect(s.graph.passwordOf('jane.doe@nhs.net')).toBe(PASSWORD);
    expect(s.graph.user(id)).toMatchObject({
      accountEnabled: true,
      displayName: 'Jane Doe',
      givenName: 'Jane',
      surname: 'Doe',
      mailNickname: 'jane.doe',
      userPrincipalName: 'jane.doe@nhs.net',
      employeeId: 'E-1001',
      companyName: 'Leeds Teaching Hospitals NHS Trust',
      passwordProfile: { forceChangePasswordNextSignIn: true, forceChangePasswordNextSignInWithMfa: true },
      onPremisesExtensionAttributes: { extensionAttribute15: BOT_MARKER },
    });
    expect(s.graph.membersOf(G_RXX)).toEqual([id]);
    // Everything went through JSON batching: no request reached Graph on its own.
    expect(s.graph.requests.filter((r) => r.batchItem === undefined).map((r) => r.path)).toEqual([
      '/$batch',
      '/$batch',
    ]);
  });

  it('creates without a group when none is mapped, and without employeeId when HR gave none', async () => {
    const effect = { ...starter('sam.lee', 'RZZ'), employeeId: null };
    const outcome = await apply(item(effect, { credential: password() }));
    expect(outcome.ok).toBe(true);
    const user = s.graph.user('sam.lee@nhs.net');
    expect(user).toMatchObject({ companyName: 'A Trust With No Group' });
    expect(user).not.toHaveProperty('employeeId');
    expect(s.graph.membersOf(G_RXX)).toEqual([]);
  });

  it('issues a Temporary Access Pass and returns it, the password set being one no one is told', async () => {
    const tap: DirectoryCredential = { kind: 'tap', lifetimeMinutes: 480, startDateTime: T0.toISOString() };
    const outcome = await apply(item(starter('max.rowe'), { credential: tap }));
    if (!outcome.ok) throw new Error(outcome.error);
    const id = String(outcome.directoryId);
    expect(outcome.temporaryAccessPass).toBe(s.graph.tapOf(id)?.temporaryAccessPass);
    expect(s.graph.tapOf(id)).toMatchObject({ lifetimeInMinutes: 480, startDateTime: T0.toISOString() });
    expect(s.graph.passwordOf('max.rowe@nhs.net')).toMatch(/^.{30,}$/);
    expect(JSON.stringify(outcome)).not.toContain(String(s.graph.passwordOf('max.rowe@nhs.net')));
    expect(s.graph.membersOf(G_RXX)).toEqual([id]);
  });

  it('refuses a pass whose lifetime is outside the tenant’s policy, permanently, with Graph’s message', async () => {
    const tap: DirectoryCredential = { kind: 'tap', lifetimeMinutes: 5, startDateTime: T0.toISOString() };
    const outcome = await apply(item(starter('kim.park'), { credential: tap }));
    expect(outcome).toMatchObject({ ok: false, permanent: true, conflict: false });
    expect(outcome.ok ? '' : outcome.error).toContain(
      'Invalid LifetimeInMinutes specified. The valid range between 10 and 43200.',
    );
  });

  it('never overwrites a taken address it did not make: a conflict naming the address', async () => {
    const theirs: User = {
      accountEnabled: true,
      displayName: 'Someone Else',
      mailNickname: 'jane.doe',
      userPrincipalName: 'jane.doe@nhs.net',
      passwordProfile: { password: 'Their-Own-Pass-99' },
    };
    const id = (await s.client.api('/users').post(theirs)).id;
    const outcome = await apply(item(starter('jane.doe'), { credential: password() }));
    expect(outcome).toMatchObject({ ok: false, permanent: true, conflict: true });
    expect(outcome.ok ? '' : outcome.error).toMatch(/jane\.doe@nhs\.net.*nothing was overwritten/);
    expect(s.graph.passwordOf('jane.doe@nhs.net')).toBe('Their-Own-Pass-99');
    expect(s.graph.user(id)).toMatchObject({ displayName: 'Someone Else' });
    expect(s.graph.membersOf(G_RXX)).toEqual([]);
  });

  it('adopts a user it made before a crash: the password reset to the one given, one user, one membership', async () => {
    const first = await created('jane.doe');
    const again = await apply(item(starter('jane.doe'), { credential: password('Second-Try-2026!x') }));
    expect(again).toEqual({ ok: true, directoryId: first });
    expect(s.graph.passwordOf('jane.doe@nhs.net')).toBe('Second-Try-2026!x');
    expect(await usersAt('jane.doe@nhs.net')).toHaveLength(1);
    expect(s.graph.membersOf(G_RXX)).toEqual([first]);
  });

  it('marks a leaver: leave date set, out of the old group, still enabled; again is still done', async () => {
    const id = await created('ann.bell');
    const leaveAt = '2026-03-02T09:00:00.000Z';
    const leaver = { kind: 'mark-leaver', address: 'ann.bell@nhs.net', org: 'RXX', leaveAt } as const;
    expect(await apply(item(leaver, { directoryId: id }))).toEqual({ ok: true, directoryId: id });
    expect(s.graph.user(id)).toMatchObject({ employeeLeaveDateTime: leaveAt, accountEnabled: true });
    expect(s.graph.membersOf(G_RXX)).toEqual([]);
    expect(await apply(item(leaver, { directoryId: id }))).toEqual({ ok: true, directoryId: id });
  });

  it('moves a joiner: into the new group, the new company name, the leave date cleared', async () => {
    const id = await created('lee.moss');
    const leaveAt = '2026-03-02T09:00:00.000Z';
    await apply(
      item({ kind: 'mark-leaver', address: 'lee.moss@nhs.net', org: 'RXX', leaveAt }, { directoryId: id }),
    );
    const move = { kind: 'move-org', address: 'lee.moss@nhs.net', from: 'RXX', to: 'RYY' } as const;
    expect(await apply(item(move, { directoryId: id }))).toEqual({ ok: true, directoryId: id });
    expect(s.graph.user(id)).toMatchObject({
      companyName: 'Bradford District Care NHS Foundation Trust',
      employeeLeaveDateTime: null,
    });
    expect(s.graph.membersOf(G_RYY)).toEqual([id]);
    // Already a member counts as done.
    expect(await apply(item(move, { directoryId: id }))).toEqual({ ok: true, directoryId: id });
    expect(s.graph.membersOf(G_RYY)).toEqual([id]);
  });

  it('disables with every session revoked, and enables again', async () => {
    const id = await created('pat.hill');
    clock = new Date(T0.getTime() + DAY);
    expect(await apply(item({ kind: 'disable', address: 'pat.hill@nhs.net' }, { directoryId: id }))).toEqual({
      ok: true,
      directoryId: id,
    });
    expect(s.graph.user(id)).toMatchObject({
      accountEnabled: false,
      signInSessionsValidFromDateTime: clock.toISOString(),
    });
    await apply(item({ kind: 'enable', address: 'pat.hill@nhs.net' }, { directoryId: id }));
    expect(s.graph.user(id)).toMatchObject({ accountEnabled: true });
  });

  it('finds the user by its address when the directory id is not known, and says which it found', async () => {
    const id = await created('ivy.cole');
    const outcome = await apply(item({ kind: 'disable', address: 'ivy.cole@nhs.net' }));
    expect(outcome).toEqual({ ok: true, directoryId: id });
    expect(s.graph.user(id)).toMatchObject({ accountEnabled: false });
    const nobody = await apply(item({ kind: 'enable', address: 'nobody@nhs.net' }));
    expect(nobody).toMatchObject({ ok: false, permanent: true });
    const restore = await apply(item({ kind: 'restore', address: 'ivy.cole@nhs.net' }));
    expect(restore).toMatchObject({ ok: false, permanent: true });
    expect(restore.ok ? '' : restore.error).toMatch(/never learnt its directory object id/);
  });

  it('deletes, restores enabled, deletes and purges; a repeat of each is done', async () => {
    const id = await created('una.webb');
    const address = 'una.webb@nhs.net';
    await apply(item({ kind: 'disable', address }, { directoryId: id }));
    expect(await apply(item({ kind: 'delete', address }, { directoryId: id }))).toEqual({
      ok: true,
      directoryId: id,
    });
    expect(s.graph.deletedUser(id)).toBeDefined();
    expect((await apply(item({ kind: 'delete', address }, { directoryId: id }))).ok).toBe(true);

    clock = new Date(T0.getTime() + 29 * DAY);
    expect(await apply(item({ kind: 'restore', address }, { directoryId: id }))).toEqual({
      ok: true,
      directoryId: id,
    });
    expect(s.graph.user(id)).toMatchObject({ accountEnabled: true, userPrincipalName: address });
    // A restore repeated (its enable failed the first time) finds the user active and enables it.
    expect((await apply(item({ kind: 'restore', address }, { directoryId: id }))).ok).toBe(true);

    await apply(item({ kind: 'delete', address }, { directoryId: id }));
    expect(await apply(item({ kind: 'purge', address }, { directoryId: id }))).toEqual({
      ok: true,
      directoryId: id,
    });
    expect(s.graph.deletedUser(id)).toBeUndefined();
    expect((await apply(item({ kind: 'purge', address }, { directoryId: id }))).ok).toBe(true);
  });

  it('reapplies the bot’s record: enabled, the bot’s names, in the home group and out of another’s; again is done', async () => {
    const id = await created('pat.lowe');
    const address = 'pat.lowe@nhs.net';
    // Changed by hand in Entra: disabled, renamed, moved to RYY's group as well.
    await s.client.api(`/users/${id}`).patch({ accountEnabled: false, givenName: 'Patricia' });
    s.graph.addToGroup(G_RYY, id);
    const reconcile: Effect = {
      kind: 'reconcile',
      address,
      org: 'RXX',
      restore: false,
      enabled: true,
      names: { given: 'Pat', family: 'Lowe' },
      inHomeGroup: true,
      leave: ['RYY'],
    };
    expect(await apply(item(reconcile, { directoryId: id }))).toEqual({ ok: true, directoryId: id });
    expect(s.graph.user(id)).toMatchObject({
      accountEnabled: true,
      givenName: 'Pat',
      surname: 'Lowe',
      displayName: 'Pat Lowe',
      companyName: 'Leeds Teaching Hospitals NHS Trust',
    });
    expect(s.graph.membersOf(G_RXX)).toContain(id);
    expect(s.graph.membersOf(G_RYY)).not.toContain(id);
    // Every step is "already so" the second time, found by address without the id.
    expect(await apply(item(reconcile))).toEqual({ ok: true, directoryId: id });
  });

  it('reapplies a blocked account with its sessions revoked, and restores one the directory deleted', async () => {
    const id = await created('kit.moss');
    const address = 'kit.moss@nhs.net';
    await apply(item({ kind: 'delete', address }, { directoryId: id }));
    const reconcile: Effect = {
      kind: 'reconcile',
      address,
      org: 'RXX',
      restore: true,
      enabled: false,
      names: null,
      inHomeGroup: false,
      leave: [],
    };
    // A deleted user is found by its id only, as a restore.
    expect(await apply(item(reconcile))).toMatchObject({ ok: false, permanent: true });
    expect(await apply(item(reconcile, { directoryId: id }))).toEqual({ ok: true, directoryId: id });
    expect(s.graph.user(id)).toMatchObject({
      accountEnabled: false,
      givenName: 'Jane',
      userPrincipalName: address,
    });
    // A leaver's reapply leaves the home group, as marking the leaver did.
    expect(s.graph.membersOf(G_RXX)).not.toContain(id);
    expect(
      s.graph.requests.filter((r) => r.path === `/users/${id}/revokeSignInSessions` && r.status < 300),
    ).toHaveLength(1);
  });

  it('cannot restore a user whose 30 days have passed: permanent, saying so', async () => {
    const id = await created('ros.hart');
    await apply(item({ kind: 'delete', address: 'ros.hart@nhs.net' }, { directoryId: id }));
    clock = new Date(T0.getTime() + 31 * DAY);
    const outcome = await apply(item({ kind: 'restore', address: 'ros.hart@nhs.net' }, { directoryId: id }));
    expect(outcome).toMatchObject({ ok: false, permanent: true, conflict: false });
    expect(outcome.ok ? '' : outcome.error).toMatch(/no longer holds it: its 30 days have passed/);
  });

  it('names the permission Graph’s 403 is missing', async () => {
    s.graph.grant(['User.ReadWrite.All']);
    const join = await apply(item(starter('ed.fox'), { credential: password() }));
    expect(join).toMatchObject({ ok: false, permanent: true });
    expect(join.ok ? '' : join.error).toMatch(/Authorization_RequestDenied.*GroupMember\.ReadWrite\.All/);
    const id = String(s.graph.user('ed.fox@nhs.net')?.id);
    const leaveAt = T0.toISOString();
    const leaver = await apply(
      item({ kind: 'mark-leaver', address: 'ed.fox@nhs.net', org: 'RZZ', leaveAt }, { directoryId: id }),
    );
    expect(leaver.ok ? '' : leaver.error).toContain('User-LifeCycleInfo.ReadWrite.All');
    const tap: DirectoryCredential = { kind: 'tap', lifetimeMinutes: 60, startDateTime: T0.toISOString() };
    const pass = await apply(item(starter('jo.dean', 'RZZ'), { credential: tap }));
    expect(pass).toMatchObject({ ok: false, permanent: true });
    expect(pass.ok ? '' : pass.error).toContain('UserAuthenticationMethod.ReadWrite.All');
  });

  it('answers a throttled effect with Graph’s Retry-After, and an unavailable one as retryable', async () => {
    const id = await created('ali.khan');
    const disable = { kind: 'disable', address: 'ali.khan@nhs.net' } as const;
    s.graph.setChaos({ seed: 1, throttleRate: 1, retryAfterSeconds: 7 });
    const throttled = await apply(item(disable, { directoryId: id }));
    expect(throttled).toEqual({ ok: false, retryAfterMs: 7000, error: expect.stringContaining('HTTP 429') });
    s.graph.setChaos({ seed: 1, unavailableRate: 1, retryAfterSeconds: 0 });
    const unavailable = await apply(item(starter('bo.nash'), { credential: password() }));
    expect(unavailable).toMatchObject({ ok: false, permanent: false, conflict: false });
    expect(unavailable.ok ? '' : unavailable.error).toContain('HTTP 503');
    s.graph.setChaos(undefined);
    expect(s.graph.user(id)).toMatchObject({ accountEnabled: true });
  });

  it('sends more than 20 effects in several batches and judges each on its own', async () => {
    const ids: string[] = [];
    const many = Array.from({ length: 24 }, (_, i) => starter(`user.${i}`));
    const outcomes = await applyAll(many.map((effect) => item(effect, { credential: password() })));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    for (const o of outcomes) if (o.ok) ids.push(String(o.directoryId));
    expect(new Set(ids).size).toBe(24);
    expect(s.graph.membersOf(G_RXX)).toHaveLength(24);

    s.graph.requests.length = 0;
    s.graph.setWriteBudget({ writes: 20, windowMs: 60_000 });
    const enables = ids.map((id, i) =>
      item({ kind: 'enable', address: `user.${i}@nhs.net` }, { directoryId: id }),
    );
    enables[3] = item({ kind: 'enable', address: 'ghost@nhs.net' }, { directoryId: GHOST });
    const judged = await applyAll(enables);
    const batches = s.graph.requests.filter((r) => r.path === '/$batch');
    expect(batches).toHaveLength(2);
    for (const batch of batches) {
      expect((batch.body as { requests: unknown[] }).requests.length).toBeLessThanOrEqual(20);
    }
    expect(judged[3]).toMatchObject({ ok: false, permanent: true, error: expect.stringContaining('404') });
    expect(judged.slice(20).every((o) => !o.ok && 'retryAfterMs' in o)).toBe(true);
    expect(judged.filter((o) => o.ok)).toHaveLength(19);
  });

  it('blanks a secret out of an error even where Graph echoes it back', () => {
    const echoed = judge(
      { status: 400, headers: {}, body: { error: { code: 'x', message: `weak: ${PASSWORD}` } } },
      { what: 'create the user a@nhs.net', needs: 'User.ReadWrite.All' },
      [PASSWORD],
    );
    expect(echoed).toMatchObject({
      ok: false,
      permanent: true,
      error: expect.stringContaining('[redacted]'),
    });
    expect(echoed.ok ? '' : echoed.error).not.toContain(PASSWORD);
  });

  it('puts no password or pass in any error or log line', () => {
    expect(errors.length).toBeGreaterThan(5);
    const secrets = [PASSWORD, 'Second-Try-2026!x', 'Their-Own-Pass-99'];
    for (const text of [...errors, ...logged]) {
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
    expect(logged.join('')).toContain('Graph answered a $batch');
  });
});
