import type { User } from '@microsoft/microsoft-graph-types';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEntraDirectory } from '../../adapters/directory/entra.js';
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
const G_RXX = '3f0e2a4c-1b7d-4c9e-8a21-5d6f7e8a9b01';
const G_RYY = '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c02';
const ORGS = {
  RXX: { name: 'Leeds Teaching Hospitals NHS Trust', group: G_RXX },
  RYY: { name: 'Bradford District Care NHS Foundation Trust', group: G_RYY },
};
const password = (pw: string): DirectoryCredential => ({
  kind: 'password',
  password: pw,
  forceChangeWithMfa: true,
});
const starter = (local: string): Extract<Effect, { kind: 'create-user' }> => ({
  kind: 'create-user',
  address: `${local}@nhs.net`,
  given: 'Jane',
  family: 'Doe',
  org: 'RXX',
  employeeId: null,
  mfaRequired: true,
});

/**
 * Issue 14: an effect whose later step failed resumes at that step on its retry, spending no
 * write on the steps done (the outcome's `step`, passed back as EffectToApply.step); and a
 * create the operator adopts (`directory retry ID --adopt`) takes over the user holding the
 * address, marked as the bot's, where without adoption it stops at a conflict.
 */
describe('the Entra directory resumes at the failed step, and adopts when told to', () => {
  let s: GraphStandIn;
  let clock: Date;
  let directory: Directory;
  let nextId = 1;

  beforeAll(async () => {
    s = await startGraphStandIn({ now: () => clock });
    directory = createEntraDirectory({ client: s.client, graphOrigin: s.graph.url });
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

  const apply = async (effect: Effect, extra: Partial<EffectToApply> = {}): Promise<EffectOutcome> => {
    const item: EffectToApply = { id: nextId++, effect, directoryId: null, orgs: ORGS, ...extra };
    const outcome = (await directory.apply([item])).get(item.id);
    if (!outcome) throw new Error('no outcome');
    return outcome;
  };
  const created = async (local: string): Promise<string> => {
    const outcome = await apply(starter(local), { credential: password('First-Pass-2026!q') });
    if (!outcome.ok || outcome.directoryId === null) throw new Error('not created');
    return outcome.directoryId;
  };
  /** The writes (every method but GET) inside batches since the log was last cleared, as "METHOD path". */
  const writes = () =>
    s.graph.requests
      .filter((r) => r.batchItem !== undefined && r.method !== 'GET')
      .map((r) => `${r.method} ${r.path}`);
  /** Lets exactly one write through, then 429s for a minute. */
  const oneWriteThenThrottle = () => {
    s.graph.requests.length = 0;
    s.graph.setWriteBudget({ writes: 1, windowMs: 60_000 });
  };
  const aMinuteLater = () => {
    clock = new Date(clock.getTime() + 60_000);
    s.graph.requests.length = 0;
  };

  it('disable: sign-in blocked, revoke throttled; the retry only revokes', async () => {
    const id = await created('pat.hill');
    const disable = { kind: 'disable', address: 'pat.hill@nhs.net' } as const;
    oneWriteThenThrottle();
    const first = await apply(disable, { directoryId: id });
    expect(first).toMatchObject({ ok: false, retryAfterMs: expect.any(Number), step: 1 });
    expect(s.graph.user(id)).toMatchObject({ accountEnabled: false });
    aMinuteLater();
    expect(await apply(disable, { directoryId: id, step: 1 })).toEqual({ ok: true, directoryId: id });
    expect(writes()).toEqual([`POST /users/${id}/revokeSignInSessions`]);
    expect(s.graph.user(id)).toMatchObject({ signInSessionsValidFromDateTime: clock.toISOString() });
  });

  it('restore: restored, enable throttled; the retry only enables', async () => {
    const id = await created('una.webb');
    const address = 'una.webb@nhs.net';
    await apply({ kind: 'delete', address }, { directoryId: id });
    oneWriteThenThrottle();
    expect(await apply({ kind: 'restore', address }, { directoryId: id })).toMatchObject({
      ok: false,
      step: 1,
    });
    aMinuteLater();
    expect(await apply({ kind: 'restore', address }, { directoryId: id, step: 1 })).toEqual({
      ok: true,
      directoryId: id,
    });
    expect(writes()).toEqual([`PATCH /users/${id}`]);
    expect(s.graph.user(id)).toMatchObject({ accountEnabled: true });
  });

  it('mark-leaver and move-org: the first write done, the second throttled; the retry sends the second only', async () => {
    const id = await created('lee.moss');
    const address = 'lee.moss@nhs.net';
    const leaver = { kind: 'mark-leaver', address, org: 'RXX', leaveAt: T0.toISOString() } as const;
    oneWriteThenThrottle();
    expect(await apply(leaver, { directoryId: id })).toMatchObject({ ok: false, step: 1 });
    aMinuteLater();
    expect((await apply(leaver, { directoryId: id, step: 1 })).ok).toBe(true);
    expect(writes()).toEqual([`DELETE /groups/${G_RXX}/members/${id}/$ref`]);

    const move = { kind: 'move-org', address, from: 'RXX', to: 'RYY' } as const;
    oneWriteThenThrottle();
    expect(await apply(move, { directoryId: id })).toMatchObject({ ok: false, step: 1 });
    aMinuteLater();
    expect((await apply(move, { directoryId: id, step: 1 })).ok).toBe(true);
    expect(writes()).toEqual([`PATCH /users/${id}`]);
    expect(s.graph.membersOf(G_RYY)).toEqual([id]);
    expect(s.graph.user(id)).toMatchObject({ companyName: ORGS.RYY.name, employeeLeaveDateTime: null });
  });

  it('create-user: made, the group refused; the retry sets the new password and joins, without a second POST', async () => {
    s.graph.grant(['User.ReadWrite.All']);
    const first = await apply(starter('ed.fox'), { credential: password('First-Pass-2026!q') });
    const id = String(s.graph.user('ed.fox@nhs.net')?.id);
    expect(first).toMatchObject({ ok: false, permanent: true, step: 1, directoryId: id });
    s.graph.grant();
    s.graph.requests.length = 0;
    const again = await apply(starter('ed.fox'), {
      credential: password('Second-Pass-2026!w'),
      directoryId: id,
      step: 1,
    });
    expect(again).toEqual({ ok: true, directoryId: id });
    expect(writes()).toEqual([`PATCH /users/${id}`, `POST /groups/${G_RXX}/members/$ref`]);
    // The credential delivered for this attempt is the one the directory holds.
    expect(s.graph.passwordOf('ed.fox@nhs.net') === 'Second-Pass-2026!w').toBe(true);
    expect(s.graph.membersOf(G_RXX)).toEqual([id]);
  });

  it('create-user with a pass: made and in its group, the pass refused; the retry only issues the pass', async () => {
    s.graph.grant(['User.ReadWrite.All', 'GroupMember.ReadWrite.All']);
    const tap: DirectoryCredential = { kind: 'tap', lifetimeMinutes: 60, startDateTime: T0.toISOString() };
    const first = await apply(starter('jo.dean'), { credential: tap });
    const id = String(s.graph.user('jo.dean@nhs.net')?.id);
    expect(first).toMatchObject({ ok: false, step: 2, directoryId: id });
    s.graph.grant();
    s.graph.requests.length = 0;
    const again = await apply(starter('jo.dean'), { credential: tap, directoryId: id, step: 2 });
    expect(again).toMatchObject({ ok: true, directoryId: id, temporaryAccessPass: expect.any(String) });
    expect(writes()).toEqual([`POST /users/${id}/authentication/temporaryAccessPassMethods`]);
  });

  it('a step without the user’s id starts the create again, safely (the user found is the bot’s)', async () => {
    const id = await created('kim.park');
    s.graph.requests.length = 0;
    const again = await apply(starter('kim.park'), { credential: password('Third-Pass-2026!e'), step: 1 });
    expect(again).toEqual({ ok: true, directoryId: id });
    expect(s.graph.passwordOf('kim.park@nhs.net') === 'Third-Pass-2026!e').toBe(true);
  });

  describe('adoption', () => {
    const theirs: User = {
      accountEnabled: true,
      displayName: 'Jane Doe (made by hand)',
      mailNickname: 'jane.doe',
      userPrincipalName: 'jane.doe@nhs.net',
      passwordProfile: { password: 'Their-Own-Pass-99' },
    };

    it('without --adopt: a conflict, nothing overwritten', async () => {
      await s.client.api('/users').post(theirs);
      const outcome = await apply(starter('jane.doe'), { credential: password('Bot-Pass-2026!r') });
      expect(outcome).toMatchObject({ ok: false, permanent: true, conflict: true });
      expect(s.graph.passwordOf('jane.doe@nhs.net') === 'Their-Own-Pass-99').toBe(true);
    });

    it('with --adopt: the user is marked as the bot’s with the new password in one write, and joins its group', async () => {
      const id = (await s.client.api('/users').post(theirs)).id;
      s.graph.requests.length = 0;
      const outcome = await apply(starter('jane.doe'), {
        credential: password('Bot-Pass-2026!r'),
        adopt: true,
      });
      expect(outcome).toEqual({ ok: true, directoryId: id });
      expect(s.graph.user(id)).toMatchObject({
        displayName: 'Jane Doe (made by hand)',
        onPremisesExtensionAttributes: { extensionAttribute15: BOT_MARKER },
      });
      expect(s.graph.passwordOf('jane.doe@nhs.net') === 'Bot-Pass-2026!r').toBe(true);
      expect(s.graph.membersOf(G_RXX)).toEqual([id]);
      expect(writes()).toEqual(['POST /users', `PATCH /users/${id}`, `POST /groups/${G_RXX}/members/$ref`]);
      // Adopted, it is the bot's from now on: a later repeat of the create needs no adoption.
      const repeat = await apply(starter('jane.doe'), { credential: password('Bot-Pass-2026!t') });
      expect(repeat).toEqual({ ok: true, directoryId: id });
    });

    it('with --adopt and a pass: the user is marked, its password left, and the pass issued', async () => {
      const id = (await s.client.api('/users').post(theirs)).id;
      const tap: DirectoryCredential = { kind: 'tap', lifetimeMinutes: 60, startDateTime: T0.toISOString() };
      const outcome = await apply(starter('jane.doe'), { credential: tap, adopt: true });
      expect(outcome).toMatchObject({ ok: true, directoryId: id, temporaryAccessPass: expect.any(String) });
      expect(s.graph.passwordOf('jane.doe@nhs.net') === 'Their-Own-Pass-99').toBe(true);
    });

    it('with --adopt, once the hand-made user was deleted the address is free: a new user is made, marked as the bot’s', async () => {
      // Entra renames a deleted user's userPrincipalName, so it no longer holds the address.
      const id = (await s.client.api('/users').post(theirs)).id;
      await s.client.api(`/users/${id}`).delete();
      const outcome = await apply(starter('jane.doe'), {
        credential: password('Bot-Pass-2026!r'),
        adopt: true,
      });
      expect(outcome).toMatchObject({ ok: true });
      const made = s.graph.user('jane.doe@nhs.net');
      expect(made?.id).not.toBe(id);
      expect(made?.onPremisesExtensionAttributes).toMatchObject({ extensionAttribute15: 'nhsmail-bot' });
    });
  });
});
