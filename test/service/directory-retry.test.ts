import { sql } from 'drizzle-orm';
import { beforeEach, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { createLogger } from '../../src/logger.js';
import { createLifecycle, type Lifecycle } from '../../src/service/lifecycle.js';
import { describeEachEngine, queryRows } from '../support/engines.js';
import {
  alreadyInDirectory,
  CONFLICT,
  FAILED,
  runWorker,
  ScriptedDirectory,
} from '../support/scripted-directory.js';
import {
  activeAccount,
  as,
  auditCount,
  CapturingDelivery,
  day,
  grant,
  operator,
  person,
  refusal,
} from '../support/service.js';

/**
 * Issue 14: `directory failed` lists the parked directory changes, and `directory retry` puts the
 * failed ones back in the worker's queue, as `notifications failed` / `retry` do for deliveries.
 * A conflict is never requeued: NAS resolves it in the directory.
 */
describeEachEngine('directory failed and directory retry', (ctx) => {
  const logged: string[] = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => void logged.push(line) },
  });
  let l: Lifecycle;

  beforeEach(async () => {
    logged.length = 0;
    l = await createLifecycle({
      db: ctx.db.db,
      policy: DEFAULT_POLICY,
      delivery: new CapturingDelivery(),
      logger,
      directoryEffects: true,
    });
    await l.addOrganisation(operator(), { ods: 'RXX', name: 'X', kind: 'trust' });
    await l.addOrganisation(operator(), { ods: 'RYY', name: 'Y', kind: 'trust' });
  });

  const rows = () =>
    queryRows<{
      id: number;
      kind: string;
      state: string;
      attempts: number;
      available_at: Date | string;
      leased_until: Date | string | null;
      last_error: string | null;
    }>(
      ctx.db.db,
      sql`select id::int as id, kind, state::text as state, attempts, available_at, leased_until, last_error
          from directory_effects order by id`,
    );

  /** A leaver then a joiner: two changes, the first answered as `outcome` says (then ok). */
  async function parkedFor(given: string, outcome: typeof FAILED, directory: ScriptedDirectory) {
    const address = await activeAccount(l, 'RXX', person(given, 'Doe'));
    await alreadyInDirectory(ctx.db, address);
    await l.leaver(operator(day(1)), { address });
    await l.joiner(operator(day(1)), { address, org: 'RYY' });
    directory.script.set(address, [outcome]);
    return address;
  }

  it('lists failed and conflicting changes, newest first, with what the operator needs', async () => {
    const directory = new ScriptedDirectory();
    const jane = await parkedFor('Jane', FAILED, directory);
    const ann = await parkedFor('Ann', CONFLICT, directory);
    await runWorker(ctx.db, directory, day(2));
    const [janeLeaver, , annLeaver] = await rows();
    expect(await l.failedDirectoryEffects(operator())).toEqual([
      {
        id: annLeaver?.id,
        address: ann,
        kind: 'mark-leaver',
        state: 'conflict',
        attempts: 1,
        lastError: 'the address belongs to a user the bot did not make',
        createdAt: day(1).toISOString(),
      },
      {
        id: janeLeaver?.id,
        address: jane,
        kind: 'mark-leaver',
        state: 'failed',
        attempts: 1,
        lastError: 'Authorization_RequestDenied: insufficient privileges',
        createdAt: day(1).toISOString(),
      },
    ]);
  });

  it('requeues a failed change by number; the worker then applies it and the one it held back', async () => {
    const directory = new ScriptedDirectory();
    const jane = await parkedFor('Jane', FAILED, directory);
    await runWorker(ctx.db, directory, day(2), 3);
    const [parked] = await l.failedDirectoryEffects(operator());
    if (!parked) throw new Error('expected a parked change');
    const audits = await auditCount(ctx.db);

    const later = day(3);
    const result = await l.retryDirectoryEffects(operator(later), { id: parked.id });
    expect(result).toEqual({ requeued: [{ ...parked, availableAt: later.toISOString() }], conflicts: 0 });
    const [row] = await rows();
    expect(row).toMatchObject({
      state: 'pending',
      attempts: 0,
      leased_until: null,
      last_error: 'Authorization_RequestDenied: insufficient privileges',
    });
    expect(new Date(row?.available_at ?? 0).toISOString()).toBe(later.toISOString());
    expect(await l.failedDirectoryEffects(operator())).toEqual([]);
    expect((await l.status(operator(later), { address: jane })).directory).toMatchObject({
      state: 'waiting',
      pending: 2,
    });

    await runWorker(ctx.db, directory, later, 2);
    expect((await rows()).map((r) => [r.kind, r.state])).toEqual([
      ['mark-leaver', 'applied'],
      ['move-org', 'applied'],
    ]);
    expect((await l.status(operator(later), { address: jane })).directory).toEqual({
      state: 'in-step',
      group: null,
    });

    // An operational action, not a change to an account: logged, never audited.
    expect(await auditCount(ctx.db)).toBe(audits);
    const line = logged
      .map((text) => JSON.parse(text) as Record<string, unknown>)
      .find((entry) => entry.effect === parked.id);
    expect(line).toMatchObject({
      msg: 'parked directory effect requeued by the operator',
      actor: 'operator',
      kind: 'mark-leaver',
      address: jane,
      attempts: 1,
      lastError: 'Authorization_RequestDenied: insufficient privileges',
    });
  });

  it('requeues every failed change with --all, leaves conflicts parked and counts them', async () => {
    const directory = new ScriptedDirectory();
    await parkedFor('Jane', FAILED, directory);
    await parkedFor('John', FAILED, directory);
    const ann = await parkedFor('Ann', CONFLICT, directory);
    await runWorker(ctx.db, directory, day(2));
    const result = await l.retryDirectoryEffects(operator(day(3)), { all: true });
    expect(result.requeued.map((r) => r.address).sort()).toEqual(['jane.doe@nhs.net', 'john.doe@nhs.net']);
    expect(result.conflicts).toBe(1);
    expect(await l.failedDirectoryEffects(operator())).toMatchObject([{ address: ann, state: 'conflict' }]);

    const again = await l.retryDirectoryEffects(operator(day(3)), { all: true });
    expect(again).toEqual({ requeued: [], conflicts: 1 });
  });

  it('refuses a conflict, a queued or applied change and an unknown number, changing nothing', async () => {
    const directory = new ScriptedDirectory();
    const ann = await parkedFor('Ann', CONFLICT, directory);
    await runWorker(ctx.db, directory, day(2));
    const [conflict, queued] = await rows();
    const before = await rows();

    const refused = await refusal(
      l.retryDirectoryEffects(operator(), { id: conflict?.id ?? 0 }),
      'DIRECTORY_CONFLICT',
    );
    expect(refused.details).toEqual({ id: conflict?.id, address: ann });
    expect(refused.message).toContain('NAS must resolve it in the directory first');
    expect(refused.message).toContain('remove or rename the other object');

    const pending = await refusal(
      l.retryDirectoryEffects(operator(), { id: queued?.id ?? 0 }),
      'DIRECTORY_EFFECT_NOT_FAILED',
    );
    expect(pending.details).toEqual({ id: queued?.id, state: 'pending' });
    expect(pending.message).toContain('still queued');

    await refusal(l.retryDirectoryEffects(operator(), { id: 999 }), 'DIRECTORY_EFFECT_NOT_FOUND');
    expect(await rows()).toEqual(before);

    // Applied: a second account's changes go through; retrying one is refused.
    const jane = await activeAccount(l, 'RXX', person('Jane', 'Doe'));
    await alreadyInDirectory(ctx.db, jane);
    await l.leaver(operator(day(1)), { address: jane });
    await runWorker(ctx.db, directory, day(2));
    const applied = (await rows()).find((r) => r.state === 'applied');
    const done = await refusal(
      l.retryDirectoryEffects(operator(), { id: applied?.id ?? 0 }),
      'DIRECTORY_EFFECT_NOT_FAILED',
    );
    expect(done.message).toContain('was applied already');
  });

  it('is for the operator only: a chat user is refused, even a NAS administrator', async () => {
    const directory = new ScriptedDirectory();
    await parkedFor('Jane', FAILED, directory);
    await runWorker(ctx.db, directory, day(2));
    await grant(l, 'nas@nhs.net', 'nas-admin');
    const nas = as('nas@nhs.net', day(3), 'slack');
    await refusal(l.failedDirectoryEffects(nas), 'OPERATOR_ONLY');
    await refusal(l.retryDirectoryEffects(nas, { all: true }), 'OPERATOR_ONLY');
    await refusal(l.retryDirectoryEffects(nas, { id: 1 }), 'OPERATOR_ONLY');
    expect(await l.failedDirectoryEffects(operator())).toHaveLength(1);
  });
});
