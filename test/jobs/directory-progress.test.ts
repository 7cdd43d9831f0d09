import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { DEFAULT_DIRECTORY_WORKER, runDirectoryEffects } from '../../src/jobs/directory.js';
import { silentLogger } from '../../src/logger.js';
import { describeEachEngine, queryRows } from '../support/engines.js';
import { ScriptedDirectory } from '../support/scripted-directory.js';
import { activeAccount, addOrg, day, operator, person, useService } from '../support/service.js';

/**
 * Issue 14: the worker keeps how far a failed effect got — the steps its directory reported
 * done, and the user a create made — and hands them back on the retry, including one an
 * operator requeued after it was parked, so the directory resumes there.
 */
describeEachEngine('the directory worker resumes a half-done effect', (ctx) => {
  const s = useService(ctx, {}, { directoryEffects: true });
  const options = { ...DEFAULT_DIRECTORY_WORKER, retryBudget: 2 };
  const run = (directory: ScriptedDirectory, at: Date) =>
    runDirectoryEffects(s.db.db, directory, silentLogger(), () => at, options);
  const row = async () =>
    (
      await queryRows<{ step: number; state: string; directory_id: string | null }>(
        s.db.db,
        sql`select e.step, e.state, a.directory_id from directory_effects e join accounts a on a.id = e.account_id`,
      )
    )[0];

  async function newStarter(): Promise<string> {
    await addOrg(s.lifecycle, 'RXX');
    const address = await activeAccount(s.lifecycle, 'RXX', person('Jane', 'Doe'));
    // provision queued its create-user, as every new account's is.
    return address;
  }

  it('records the step and the user made, and passes them back on the next attempt', async () => {
    const jane = await newStarter();
    const directory = new ScriptedDirectory();
    directory.script.set(jane, [
      { ok: false, permanent: false, conflict: false, error: 'HTTP 503', step: 1, directoryId: 'id-jane' },
      { ok: false, retryAfterMs: 1_000, error: 'HTTP 429', step: 1 },
    ]);
    expect(await run(directory, day(2))).toMatchObject({ retried: 1 });
    expect(await row()).toEqual({ step: 1, state: 'pending', directory_id: 'id-jane' });
    await run(directory, new Date(day(2).getTime() + 60_000));
    await run(directory, new Date(day(2).getTime() + 120_000));
    expect(directory.applied.map((a) => [a.step, a.directoryId])).toEqual([
      [0, null],
      [1, 'id-jane'],
      [1, 'id-jane'],
    ]);
    expect(await row()).toMatchObject({ state: 'applied' });
  });

  it('never moves a step back: an attempt that reports less keeps what was done', async () => {
    const jane = await newStarter();
    const directory = new ScriptedDirectory();
    directory.script.set(jane, [
      { ok: false, permanent: false, conflict: false, error: 'HTTP 503', step: 2, directoryId: 'id-jane' },
      { ok: false, permanent: false, conflict: false, error: 'HTTP 503' },
    ]);
    await run(directory, day(2));
    await run(directory, new Date(day(2).getTime() + 60_000));
    expect(await row()).toMatchObject({ step: 2 });
  });

  it('keeps the step through parking and "directory retry": the retry resumes there', async () => {
    const jane = await newStarter();
    const directory = new ScriptedDirectory();
    const denied = {
      ok: false as const,
      permanent: true,
      conflict: false,
      error: 'Authorization_RequestDenied: GroupMember.ReadWrite.All',
      step: 1,
      directoryId: 'id-jane',
    };
    directory.script.set(jane, [denied]);
    expect(await run(directory, day(2))).toMatchObject({ failed: 1 });
    expect(await row()).toEqual({ step: 1, state: 'failed', directory_id: 'id-jane' });
    const [{ id } = { id: 0 }] = await queryRows<{ id: number }>(
      s.db.db,
      sql`select id from directory_effects`,
    );
    await s.lifecycle.retryDirectoryEffects(operator(day(3)), { id: Number(id) });
    await run(directory, day(3));
    expect(directory.applied.at(-1)).toMatchObject({ step: 1, directoryId: 'id-jane', adopt: false });
    expect(await row()).toMatchObject({ state: 'applied' });
  });
});
