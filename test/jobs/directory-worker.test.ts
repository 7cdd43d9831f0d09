import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import type { Effect } from '../../src/domain/effects.js';
import { type CreatedUser, DEFAULT_DIRECTORY_WORKER, runDirectoryEffects } from '../../src/jobs/directory.js';
import { silentLogger } from '../../src/logger.js';
import type { Directory, EffectOutcome } from '../../src/service/ports.js';
import { queueEffects } from '../../src/service/store.js';
import { describeEachEngine, queryRows } from '../support/engines.js';
import { alreadyInDirectory, capturingNewUsers, ScriptedDirectory } from '../support/scripted-directory.js';
import { activeAccount, addOrg, day, operator, person, useService } from '../support/service.js';

/** Each effect the directory was sent, as "given:kind". */
const kinds = (directory: ScriptedDirectory) =>
  directory.applied.map((a) => `${a.effect.address.split('.')[0]}:${a.effect.kind}`);

/**
 * The worker's own rules, with a directory that answers as a script says (the Entra adapter's
 * translation to Graph is tested against the Graph stand-in in test/directory/): effects apply in
 * order per account, a throttle waits without using the budget, failures back off and park, a
 * parked effect holds back its account's later ones, and a claim is held under a lease.
 */
describeEachEngine('the directory worker', (ctx) => {
  const s = useService(ctx, {}, { directoryEffects: true });
  const options = { ...DEFAULT_DIRECTORY_WORKER, retryBudget: 3 };
  const run = (directory: Directory, at: Date, onCreated?: (c: CreatedUser) => Promise<void>) =>
    runDirectoryEffects(
      s.db.db,
      directory,
      silentLogger(),
      () => at,
      options,
      onCreated ? capturingNewUsers(onCreated) : undefined,
    );
  const states = () =>
    queryRows<{ kind: string; state: string; attempts: number }>(
      s.db.db,
      sql`select kind, state, attempts from directory_effects order by id`,
    );

  async function leaverThenJoiner(given: string) {
    const address = await activeAccount(s.lifecycle, 'RXX', person(given, 'Doe'));
    await alreadyInDirectory(s.db, address);
    await s.lifecycle.leaver(operator(day(1)), { address });
    await s.lifecycle.joiner(operator(day(1)), { address, org: 'RYY' });
    return address;
  }

  it('applies each account’s effects oldest first, one per account per pass, and records the directory id', async () => {
    await addOrg(s.lifecycle, 'RXX');
    await addOrg(s.lifecycle, 'RYY');
    const jane = await leaverThenJoiner('Jane');
    const john = await leaverThenJoiner('John');
    const directory = new ScriptedDirectory();
    expect(await run(directory, day(2))).toMatchObject({ applied: 2 });
    expect(kinds(directory)).toEqual(['jane:mark-leaver', 'john:mark-leaver']);
    expect(directory.applied[0]?.orgs.RXX).toEqual({ name: 'RXX organisation', group: null });
    expect(await run(directory, day(2))).toMatchObject({ applied: 2 });
    expect(kinds(directory).slice(2)).toEqual(['jane:move-org', 'john:move-org']);
    expect(await run(directory, day(2))).toMatchObject({ applied: 0 });
    const [row] = await queryRows<{ directory_id: string }>(
      s.db.db,
      sql`select directory_id from accounts where address = ${jane}`,
    );
    expect(row?.directory_id).toBe(`id-${jane}`);
    expect(john).not.toBe(jane);
  });

  it('waits out a throttle without using the budget, and backs off then parks a failing effect', async () => {
    await addOrg(s.lifecycle, 'RXX');
    await addOrg(s.lifecycle, 'RYY');
    const jane = await leaverThenJoiner('Jane');
    const directory = new ScriptedDirectory();
    const fail: EffectOutcome = { ok: false, permanent: false, conflict: false, error: 'HTTP 503' };
    directory.script.set(jane, [{ ok: false, retryAfterMs: 30_000, error: 'HTTP 429' }, fail, fail, fail]);
    expect(await run(directory, day(2))).toMatchObject({ throttled: 1 });
    expect(await run(directory, day(2))).toMatchObject({ applied: 0, throttled: 0 }); // Retry-After not yet passed
    const later = new Date(day(2).getTime() + 30_000);
    expect(await run(directory, later)).toMatchObject({ retried: 1 });
    expect((await states())[0]).toMatchObject({ state: 'pending', attempts: 1 });
    expect(await run(directory, new Date(later.getTime() + 2_000))).toMatchObject({ retried: 1 });
    expect(await run(directory, new Date(later.getTime() + 10_000))).toMatchObject({ failed: 1 });
    // Parked, it holds back the account's later effect: in order per account, or not at all.
    expect(await states()).toEqual([
      { kind: 'mark-leaver', state: 'failed', attempts: 3 },
      { kind: 'move-org', state: 'pending', attempts: 0 },
    ]);
    expect(await run(directory, day(10))).toMatchObject({ applied: 0 });
  });

  it('parks a conflict at once, and never overwrites', async () => {
    await addOrg(s.lifecycle, 'RXX');
    await addOrg(s.lifecycle, 'RYY');
    const jane = await leaverThenJoiner('Jane');
    const directory = new ScriptedDirectory();
    directory.script.set(jane, [
      { ok: false, permanent: true, conflict: true, error: 'taken by another user' },
    ]);
    expect(await run(directory, day(2))).toMatchObject({ conflicts: 1 });
    expect((await states())[0]).toMatchObject({ state: 'conflict' });
  });

  it('leaves a live claim to its holder, and takes it over once the lease has passed', async () => {
    await addOrg(s.lifecycle, 'RXX');
    await addOrg(s.lifecycle, 'RYY');
    await leaverThenJoiner('Jane');
    // A process that claimed the effect and died before recording the directory's answer.
    await s.db.db.execute(
      sql`update directory_effects set leased_until = ${new Date(day(2).getTime() + options.leaseMs).toISOString()}::timestamptz`,
    );
    const directory = new ScriptedDirectory();
    expect(await run(directory, day(2))).toMatchObject({ applied: 0 });
    expect(await run(directory, new Date(day(2).getTime() + options.leaseMs))).toMatchObject({ applied: 1 });
  });

  it('a pass that outlives its lease records nothing: the pass that took the effect over owns it', async () => {
    await addOrg(s.lifecycle, 'RXX');
    await addOrg(s.lifecycle, 'RYY');
    const jane = await leaverThenJoiner('Jane');
    const later = new Date(day(2).getTime() + options.leaseMs);
    const quick = new ScriptedDirectory();
    // The slow pass's directory answers only after its lease has run out and another pass has
    // taken the same effect, applied it and gone on to the next.
    const slow: Directory = {
      name: 'scripted',
      apply: async (effects) => {
        expect(await run(quick, later)).toMatchObject({ applied: 1 });
        return new Map(effects.map((e) => [e.id, { ok: true, directoryId: `id-${jane}` } as const]));
      },
    };
    expect(await run(slow, day(2))).toMatchObject({ applied: 0 });
    expect(quick.applied.map((a) => a.effect.kind)).toEqual(['mark-leaver']);
    expect(await states()).toEqual([
      { kind: 'mark-leaver', state: 'applied', attempts: 0 },
      { kind: 'move-org', state: 'pending', attempts: 0 },
    ]);
    // A failure the slow pass meets is not written over the new holder's claim either.
    const failing: Directory = {
      name: 'scripted',
      apply: async (effects) => {
        expect(await run(quick, new Date(later.getTime() + options.leaseMs))).toMatchObject({ applied: 1 });
        return new Map(
          effects.map((e) => [e.id, { ok: false, permanent: true, conflict: false, error: 'late' } as const]),
        );
      },
    };
    expect(await run(failing, later)).toMatchObject({ failed: 0, applied: 0 });
    expect(await states()).toEqual([
      { kind: 'mark-leaver', state: 'applied', attempts: 0 },
      { kind: 'move-org', state: 'applied', attempts: 0 },
    ]);
  });

  it('applies each effect once with two workers at the same time', async () => {
    await addOrg(s.lifecycle, 'RXX');
    await addOrg(s.lifecycle, 'RYY');
    for (const given of ['Ann', 'Ben', 'Cat', 'Dan', 'Eve']) await leaverThenJoiner(given);
    const one = new ScriptedDirectory();
    const two = new ScriptedDirectory();
    for (let pass = 0; pass < 3; pass++) await Promise.all([run(one, day(2)), run(two, day(2))]);
    const all = [...one.applied, ...two.applied].map((a) => a.id);
    expect(all).toHaveLength(10);
    expect(new Set(all).size).toBe(10);
    expect((await states()).every((r) => r.state === 'applied')).toBe(true);
  });

  it('makes a new user’s credential for the attempt and hands exactly that one to delivery', async () => {
    await addOrg(s.lifecycle, 'RXX');
    const jane = await activeAccount(s.lifecycle, 'RXX', person('Jane', 'Doe'));
    const [account] = await queryRows<{ id: number }>(
      s.db.db,
      sql`select id from accounts where address = ${jane}`,
    );
    const effect: Effect = {
      kind: 'create-user',
      address: jane,
      given: 'Jane',
      family: 'Doe',
      org: 'RXX',
      employeeId: null,
      mfaRequired: true,
    };
    await queueEffects(s.db.db, { now: day(1) }, { directoryEffects: true }, [
      { accountId: account?.id ?? 0, effects: [effect] },
    ]);
    const directory = new ScriptedDirectory();
    const created: CreatedUser[] = [];
    await run(directory, day(1), async (c) => {
      created.push(c);
    });
    const sent = directory.applied[0]?.credential;
    expect(sent).toMatchObject({ kind: 'password', forceChangeWithMfa: true });
    expect(created).toEqual([{ effectId: directory.applied[0]?.id, address: jane, credential: sent }]);
    // Never written down: no column of the effect holds it.
    const rows = await queryRows<Record<string, unknown>>(s.db.db, sql`select * from directory_effects`);
    expect(JSON.stringify(rows)).not.toContain(sent?.kind === 'password' ? sent.password : 'none');
  });
});
