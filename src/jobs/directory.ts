import { and, eq, inArray, sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../../db/index.js';
import { accounts, directoryEffects, directoryGate, organisations } from '../../db/schema.js';
import { EFFECT_KINDS, type Effect } from '../domain/effects.js';
import type { Logger } from '../logger.js';
import { describeError } from '../safe-errors.js';
import { type CreateUserEffect, type NewUsers, PASSWORDS_ONLY } from '../service/new-users.js';
import type { Directory, EffectOutcome, EffectToApply } from '../service/ports.js';
import { enqueue } from '../service/store.js';

export interface DirectoryWorkerOptions {
  /** Attempts (failures other than throttling) before an effect is parked as failed. */
  retryBudget: number;
  /** How long a claimed effect is held by one process before another may take it over. */
  leaseMs: number;
  /** Effects claimed per pass (each of a different account). */
  batch: number;
  /**
   * The directory's write budget per second, for every replica together. The pacer claims
   * effects only as their writes fit in PACE_SHARE of it, so Graph's 429 stays a safety net.
   * Graph's: 3,000 writes per 150 s per app and tenant, 20 a second.
   */
  writesPerSecond: number;
  /**
   * How far beyond now a pass may reserve writes: the most one pass sends at once. Keep it well
   * under the directory's own window (Graph's 150 s) divided by 20, or bursts overrun the budget.
   */
  writeAheadMs: number;
}

export const DEFAULT_DIRECTORY_WORKER: DirectoryWorkerOptions = {
  retryBudget: 8,
  // Longer than a pass can last: the Graph client may wait out five Retry-Afters within one $batch.
  leaseMs: 15 * 60_000,
  batch: 100,
  writesPerSecond: 20,
  writeAheadMs: 3_000,
};

/** A create-user's step once the user exists and is in its group: a retry only sets a new credential. */
const CREATED_STEP = 2;

/** The share of `writesPerSecond` the pacer uses: room for one pass's burst and for other writers. */
export const PACE_SHARE = 0.95;

export type { CreatedUser } from '../service/new-users.js';

export interface DirectoryRun {
  applied: number;
  throttled: number;
  retried: number;
  failed: number;
  conflicts: number;
}

interface Claimed {
  id: number;
  /** The lease this pass holds it under: every write of its outcome requires it still to be so. */
  lease: Date;
  account_id: number;
  payload: Effect;
  attempts: number;
  step: number;
  adopt: boolean;
  directory_id: string | null;
}

/**
 * One pass of the directory worker. It claims, for each account, the oldest effect not yet
 * applied, and only while no earlier effect of that account is waiting, failed or in conflict:
 * effects apply in order per account, and a parked one holds back the ones after it. Claims are
 * FOR UPDATE SKIP LOCKED under a lease, so several replicas share the work, and a crashed
 * process's claims come back once the lease passes. An effect is applied again after a crash
 * between the directory's answer and its recording; the directory adapter makes each effect
 * idempotent (a user the bot made is adopted, a deleted user's 404 is done).
 */
export async function runDirectoryEffects(
  db: Db,
  directory: Directory,
  logger: Logger,
  now: () => Date = () => new Date(),
  options: DirectoryWorkerOptions = DEFAULT_DIRECTORY_WORKER,
  newUsers: NewUsers = PASSWORDS_ONLY,
): Promise<DirectoryRun> {
  const run: DirectoryRun = { applied: 0, throttled: 0, retried: 0, failed: 0, conflicts: 0 };
  const all = await claim(db, directory, now(), options);
  // Rows outlive deploys: an effect of a kind this build does not know is parked, never guessed at.
  const unknown = all.filter((c) => !(EFFECT_KINDS as readonly string[]).includes(c.payload?.kind));
  for (const c of unknown) {
    await settle(db, c, {
      state: 'failed',
      lastError: `unknown directory effect kind ${String(c.payload?.kind)}`,
    });
    run.failed++;
  }
  const claimed = all.filter((c) => !unknown.includes(c));
  if (claimed.length === 0) return run;
  const orgs = await organisationsOf(db, claimed);
  const creates = claimed.flatMap((c) =>
    c.payload.kind === 'create-user' ? [{ id: c.id, effect: c.payload as CreateUserEffect }] : [],
  );
  // Each credential is made for this attempt only: set in the directory, delivered, never written down.
  const pass = await newUsers.begin(db, creates, now());
  const work: EffectToApply[] = claimed.map((c) => {
    const credential = pass.credentials.get(c.id);
    return {
      id: c.id,
      effect: c.payload,
      directoryId: c.directory_id,
      orgs,
      step: c.step,
      adopt: c.adopt,
      ...(credential ? { credential } : {}),
    };
  });
  let outcomes: Map<number, EffectOutcome>;
  try {
    outcomes = await directory.apply(work);
  } catch (error) {
    // A directory adapter answers refusals as outcomes; a throw is the world failing: retry all.
    const message = describeError(error);
    outcomes = new Map(
      claimed.map((c) => [c.id, { ok: false, permanent: false, conflict: false, error: message }]),
    );
  }
  const pauses = [...outcomes.values()].flatMap((o) =>
    !o.ok && 'retryAfterMs' in o ? [o.retryAfterMs] : [],
  );
  if (pauses.length > 0) await closeGate(db, directory.name, new Date(now().getTime() + Math.max(...pauses)));
  for (const c of claimed) {
    let outcome: EffectOutcome = outcomes.get(c.id) ?? {
      ok: false as const,
      permanent: false,
      conflict: false,
      error: `${directory.name} gave no answer for this effect`,
    };
    const log = logger.child({ effect: c.id, kind: c.payload.kind });
    const at = now();
    if (outcome.ok) {
      const credential = pass.credentials.get(c.id);
      const created = credential
        ? {
            effectId: c.id,
            address: c.payload.address,
            credential,
            ...(outcome.temporaryAccessPass ? { temporaryAccessPass: outcome.temporaryAccessPass } : {}),
          }
        : null;
      // Delivered before the effect is recorded: a crash in between applies it again, and the
      // adapter then resets the adopted user's credential to a new one, delivered in turn. The
      // holder may get two, the last the one that works; recording first could leave them none.
      let receipt: Awaited<ReturnType<typeof pass.deliver>> = null;
      let undelivered: string | null = null;
      // A pass that outlived its lease has lost the effect to another: it neither delivers nor records.
      if (!(await stillHeld(db, c))) {
        log.warn('directory effect claimed by another pass after this one’s lease ran out; not recorded');
        continue;
      }
      if (created) {
        try {
          receipt = await pass.deliver(created);
        } catch (error) {
          undelivered = describeError(error);
        }
      }
      const { directoryId } = outcome;
      await db.transaction(async (tx) => {
        if (directoryId) {
          await tx.update(accounts).set({ directoryId }).where(eq(accounts.id, c.account_id));
        }
        if (undelivered !== null) return;
        const recorded = await tx
          .update(directoryEffects)
          .set({ state: 'applied', appliedAt: at, leasedUntil: null, lastError: null })
          .where(held(c))
          .returning({ id: directoryEffects.id });
        if (created && recorded.length > 0) await pass.delivered(tx, created, receipt, at);
      });
      if (undelivered === null) {
        run.applied++;
        continue;
      }
      // The directory has the user, in its group, but the credential did not go: the effect is
      // tried again from there (only a new credential is set, by id) and parks like any failure
      // once out of budget.
      outcome = {
        ok: false,
        permanent: false,
        conflict: false,
        error: undelivered,
        step: CREATED_STEP,
        ...(directoryId ? { directoryId } : {}),
      };
    }
    await recordProgress(db, c, outcome);
    if ('retryAfterMs' in outcome) {
      // Throttling is the directory pacing us, not a failure: it does not use up the budget.
      await settle(db, c, {
        availableAt: new Date(at.getTime() + outcome.retryAfterMs),
        lastError: outcome.error,
      });
      log.info({ retryAfterMs: outcome.retryAfterMs }, 'directory throttled an effect; will retry');
      run.throttled++;
      continue;
    }
    const attempts = c.attempts + 1;
    if (outcome.permanent || attempts >= options.retryBudget) {
      const state = outcome.conflict ? 'conflict' : 'failed';
      if (!(await park(db, newUsers, c, state, attempts, outcome.error, at))) continue;
      log.warn({ attempts, error: outcome.error, state }, 'directory effect parked');
      if (outcome.conflict) run.conflicts++;
      else run.failed++;
      continue;
    }
    const backoffMs = Math.min(3_600_000, 1000 * 2 ** attempts);
    await settle(db, c, {
      attempts,
      availableAt: new Date(at.getTime() + backoffMs),
      lastError: outcome.error,
    });
    log.warn({ attempts, error: outcome.error }, 'directory effect not applied; will retry');
    run.retried++;
  }
  return run;
}

/**
 * Parks an effect, and in the same transaction queues the operators' line and, for a new user,
 * the notice to whoever asked: nobody is left waiting for an account that will not come.
 */
async function park(
  db: Db,
  newUsers: NewUsers,
  c: Claimed,
  state: 'failed' | 'conflict',
  attempts: number,
  error: string,
  at: Date,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const parked = await tx
      .update(directoryEffects)
      .set({ leasedUntil: null, state, attempts, lastError: error })
      .where(held(c))
      .returning({ id: directoryEffects.id });
    // Another pass holds it now (this one outlived its lease): its outcome is that pass's to record.
    if (parked.length === 0) return false;
    await enqueue(tx, { now: at }, [
      {
        kind: 'directory-parked',
        audience: { type: 'operators' },
        payload: { effect: c.id, kind: c.payload.kind, address: c.payload.address, state, attempts, error },
      },
    ]);
    if (c.payload.kind === 'create-user') await newUsers.parked(tx, c.id, state, error, at);
    return true;
  });
}

/**
 * What a failed attempt got done: its steps (a retry resumes after them) and the user it made.
 * Both only ever grow truer, so they are written apart from the settling: a crash in between
 * leaves a step the directory has indeed taken.
 */
async function recordProgress(db: Db, c: Claimed, outcome: EffectOutcome): Promise<void> {
  if (outcome.ok) return;
  if ((outcome.step ?? 0) > c.step) {
    await db.update(directoryEffects).set({ step: outcome.step }).where(eq(directoryEffects.id, c.id));
  }
  if (outcome.directoryId && outcome.directoryId !== c.directory_id) {
    await db.update(accounts).set({ directoryId: outcome.directoryId }).where(eq(accounts.id, c.account_id));
  }
}

/** The effect, only while this pass still holds it under the lease it claimed it with. */
const held = (c: Claimed) => and(eq(directoryEffects.id, c.id), eq(directoryEffects.leasedUntil, c.lease));

async function stillHeld(db: Db, c: Claimed): Promise<boolean> {
  const [row] = await db.select({ id: directoryEffects.id }).from(directoryEffects).where(held(c));
  return row !== undefined;
}

async function settle(
  db: Db,
  c: Claimed,
  change: Partial<typeof directoryEffects.$inferInsert>,
): Promise<void> {
  await db
    .update(directoryEffects)
    .set({ leasedUntil: null, ...change })
    .where(held(c));
}

/**
 * Claims the next effect of each account that may go now, under a lease, while the directory's
 * gate is open and as many as the pacer's write slots allow. The gate row is locked for the claim,
 * so replicas reserve slots one after another: each pass moves `next_write_at` on by its writes ÷
 * the pace, and may reserve up to `writeAheadMs` beyond now. Over any window, all replicas together
 * send at most the pace times (the window + writeAheadMs).
 */
async function claim(
  db: Db,
  directory: Directory,
  now: Date,
  options: DirectoryWorkerOptions,
): Promise<Claimed[]> {
  return db.transaction(async (tx) => {
    await tx
      .insert(directoryGate)
      .values({ directory: directory.name, availableAt: now })
      .onConflictDoNothing();
    const [gate] = await tx
      .select()
      .from(directoryGate)
      .where(eq(directoryGate.directory, directory.name))
      .for('update');
    // Closed: the directory asked every writer to wait (a 429's Retry-After).
    if (!gate || gate.availableAt.getTime() > now.getTime()) return [];
    const perMs = (options.writesPerSecond * PACE_SHARE) / 1000;
    const from = Math.max(gate.nextWriteAt?.getTime() ?? 0, now.getTime());
    const room = Math.floor((now.getTime() + options.writeAheadMs - from) * perMs);
    // Caught up, a pass takes at least one effect, however many writes it needs.
    if (room <= 0 && from > now.getTime()) return [];
    const at = now.toISOString();
    const rows = rowsOf<Claimed>(
      await tx.execute(sql`
        select e.id, e.account_id, e.payload, e.attempts, e.step, e.adopt, a.directory_id
        from directory_effects e join accounts a on a.id = e.account_id
        where e.state = 'pending' and e.available_at <= ${at}::timestamptz
          and (e.leased_until is null or e.leased_until <= ${at}::timestamptz)
          and not exists (
            select 1 from directory_effects p
            where p.account_id = e.account_id and p.id < e.id and p.state <> 'applied')
        order by e.id
        limit ${Math.max(1, Math.min(options.batch, room))}
        for update of e skip locked`),
    ).map((r) => ({ ...r, id: Number(r.id), lease: now }));
    let writes = 0;
    const taken = rows.filter((r) => {
      const w = directory.writesPerEffect?.[r.payload?.kind] ?? 1;
      if ((writes > 0 || from > now.getTime()) && writes + w > room) return false;
      writes += w;
      return true;
    });
    if (taken.length === 0) return taken;
    await tx
      .update(directoryGate)
      .set({ nextWriteAt: new Date(Math.ceil(from + writes / perMs)) })
      .where(eq(directoryGate.directory, directory.name));
    const lease = new Date(now.getTime() + options.leaseMs);
    await tx
      .update(directoryEffects)
      .set({ leasedUntil: lease })
      .where(
        and(
          inArray(
            directoryEffects.id,
            taken.map((r) => r.id),
          ),
          eq(directoryEffects.state, 'pending'),
        ),
      );
    return taken.map((r) => ({ ...r, lease }));
  });
}

/** The organisations the claimed effects name, with their directory groups. */
async function organisationsOf(db: Db, claimed: readonly Claimed[]) {
  const named = new Set<string>();
  for (const { payload: e } of claimed) {
    if (e.kind === 'create-user' || e.kind === 'mark-leaver') named.add(e.org);
    if (e.kind === 'reconcile') for (const ods of [e.org, ...e.leave]) named.add(ods);
    if (e.kind === 'move-org') {
      named.add(e.from);
      named.add(e.to);
    }
  }
  if (named.size === 0) return {};
  const rows = await db
    .select({ ods: organisations.ods, name: organisations.name, group: organisations.directoryGroup })
    .from(organisations)
    .where(inArray(organisations.ods, [...named]));
  return Object.fromEntries(rows.map((r) => [r.ods, { name: r.name, group: r.group }]));
}

/** Holds every replica's worker back until `until` (never shortening a longer wait already set). */
async function closeGate(db: Db, name: string, until: Date): Promise<void> {
  await db
    .insert(directoryGate)
    .values({ directory: name, availableAt: until })
    .onConflictDoUpdate({
      target: directoryGate.directory,
      set: { availableAt: sql`greatest(${directoryGate.availableAt}, excluded.available_at)` },
    });
}
