import { and, asc, desc, eq, inArray, ne } from 'drizzle-orm';
import type { Db } from '../../db/index.js';
import { accounts, directoryEffects } from '../../db/schema.js';
import type { EffectKind } from '../domain/effects.js';
import { refused } from '../domain/errors.js';
import { actorLabel, isSystemActor } from '../domain/roles.js';
import type { ServiceDeps } from './accounts.js';
import type { RequestContext } from './context.js';
import { audit, type Executor, loadPrincipal } from './store.js';

/**
 * An account's creation in the directory not yet applied: queued, or parked as failed or in
 * conflict. Until it is, the account has no directory user of its own, and whoever holds its
 * address there is someone else (drift, first logins and reapply all hold to this). Of every
 * account, or of `account` (an id, or the column in a correlated query).
 */
export function creationUnapplied(account?: number | typeof accounts.id) {
  return and(
    account === undefined ? undefined : eq(directoryEffects.accountId, account),
    eq(directoryEffects.kind, 'create-user'),
    inArray(directoryEffects.state, ['pending', 'failed', 'conflict']),
  );
}

/**
 * Where an account stands with the directory (issue 14), for `status`:
 * - `ledger`: no directory is connected; the bot records decisions and changes nothing outside;
 * - `in-step`: every change the bot decided has been applied;
 * - `waiting`: changes are queued (or being retried) for the directory worker;
 * - `failed` / `conflict`: the earliest parked change, which holds back the account's later ones.
 */
export type DirectoryState =
  | { state: 'ledger' }
  | (DirectoryProgress & {
      /**
       * The home organisation's directory group (`org group`), which new accounts and joiners
       * join; null when it has none, so the account is in no group in the directory.
       */
      group: string | null;
    });

/** How far the directory has come with the account's changes. */
type DirectoryProgress =
  | { state: 'in-step' }
  | {
      state: 'waiting';
      /** Changes not yet applied. */
      pending: number;
      /** When the oldest of them was decided. */
      since: string;
      /** Why the oldest is not applied yet, when the worker has tried it (a throttle, an outage). */
      lastError?: string;
    }
  | {
      state: 'failed' | 'conflict';
      lastError: string | null;
      /** The parked change: `directory retry ID` names it by `id`. */
      effect: { id: number; kind: EffectKind };
      /** Later changes of the account that wait behind it. */
      heldBack: number;
    };

/**
 * The account's directory state; `enabled` is whether a directory is connected at all, `group`
 * the home organisation's directory group.
 */
export async function directoryState(
  db: Db,
  accountId: number,
  enabled: boolean,
  group: string | null,
): Promise<DirectoryState> {
  if (!enabled) return { state: 'ledger' };
  return { ...(await progress(db, accountId)), group };
}

async function progress(db: Db, accountId: number): Promise<DirectoryProgress> {
  // Few rows: an account's changes are applied in order, so only its unapplied tail is read.
  const open = await db
    .select({
      id: directoryEffects.id,
      kind: directoryEffects.kind,
      state: directoryEffects.state,
      lastError: directoryEffects.lastError,
      createdAt: directoryEffects.createdAt,
    })
    .from(directoryEffects)
    .where(and(eq(directoryEffects.accountId, accountId), ne(directoryEffects.state, 'applied')))
    .orderBy(asc(directoryEffects.id));
  const parked = open.find((e) => e.state === 'failed' || e.state === 'conflict');
  if (parked) {
    return {
      state: parked.state === 'conflict' ? 'conflict' : 'failed',
      lastError: parked.lastError,
      effect: { id: parked.id, kind: parked.kind },
      heldBack: open.filter((e) => e.state === 'pending' && e.id > parked.id).length,
    };
  }
  const [oldest] = open;
  if (!oldest) return { state: 'in-step' };
  return {
    state: 'waiting',
    pending: open.length,
    since: oldest.createdAt.toISOString(),
    ...(oldest.lastError ? { lastError: oldest.lastError } : {}),
  };
}

function operatorOnly(ctx: RequestContext, what: string): void {
  if (!isSystemActor(ctx.actor)) {
    throw refused('OPERATOR_ONLY', `${what} for operators on the bot’s command line.`);
  }
}

export interface ParkedEffect {
  id: number;
  address: string;
  kind: EffectKind;
  state: 'failed' | 'conflict';
  attempts: number;
  lastError: string | null;
  createdAt: string;
}

/** `directory failed`: changes parked as failed or in conflict, newest first. */
export async function failedDirectoryEffects(
  deps: ServiceDeps,
  ctx: RequestContext,
): Promise<ParkedEffect[]> {
  operatorOnly(ctx, 'Failed directory changes are listed');
  return parkedEffects(deps.db);
}

/** A parked change put back in the queue, as it was when it was parked. */
export interface RequeuedEffect extends ParkedEffect {
  /** The time the worker may apply it again. */
  availableAt: string;
}

export interface DirectoryRetryResult {
  requeued: RequeuedEffect[];
  /** Conflicts `--all` left parked: retrying would meet the same object in the directory again. */
  conflicts: number;
}

/**
 * `directory retry ID` / `--all`: puts failed directory changes back in the queue for the
 * directory worker, which applies them (and then the account's later ones, which they held back)
 * in order. Only failed ones: a conflict is the directory holding the address for an object the
 * bot did not make, which NAS must resolve there first; a pending one is still the worker's, and
 * an applied one is done.
 *
 * No audit row, as for `notifications retry`: the account's change was audited when it was
 * decided, and requeueing its directory effect changes no account. It is an operational action,
 * so it goes to the log (who, which changes, their last error).
 */
export async function retryDirectoryEffects(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { id?: number | undefined; all?: boolean | undefined },
): Promise<DirectoryRetryResult> {
  operatorOnly(ctx, 'Failed directory changes are retried');
  const id = input.id;
  const requeued = await requeueFailedEffects(deps.db, input.all || id === undefined ? 'all' : [id], ctx.now);
  if (id !== undefined && requeued.length === 0) throw await notRetried(deps.db, id);
  for (const e of requeued) {
    deps.logger.info(
      {
        actor: actorLabel(ctx.actor),
        effect: e.id,
        kind: e.kind,
        address: e.address,
        attempts: e.attempts,
        lastError: e.lastError,
      },
      'parked directory effect requeued by the operator',
    );
  }
  const conflicts = id === undefined ? await conflictCount(deps.db) : 0;
  return { requeued, conflicts };
}

/** A conflict put back in the queue to take over the directory user holding its address. */
export interface DirectoryAdoption {
  adopted: RequeuedEffect;
}

/**
 * `directory retry ID --adopt`: a new account's creation parked as a conflict, because a
 * directory user the bot did not make holds the address, which an operator or NAS has checked is
 * this very person. It is requeued with the adopt flag: the worker marks that user as the bot's,
 * sets a new credential (delivered as for any new account) and puts it in its organisation's
 * group. Audited, unlike a plain retry: it hands the bot someone's existing directory account
 * and replaces its credential.
 */
export async function adoptDirectoryEffect(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { id: number },
): Promise<DirectoryAdoption> {
  const { id } = input;
  const adopted = await deps.db.transaction(async (tx) => {
    const principal = await loadPrincipal(tx, ctx);
    if (!principal.isNational) {
      throw refused(
        'NAS_ONLY',
        'Only NAS administrators and the operator adopt a directory account, since the bot then takes it over and replaces its credential.',
      );
    }
    const [found] = await tx
      .select(parkedColumns)
      .from(directoryEffects)
      .innerJoin(accounts, eq(accounts.id, directoryEffects.accountId))
      .where(eq(directoryEffects.id, id))
      .for('update', { of: directoryEffects });
    if (!found) throw await notRetried(tx, id);
    if (found.state !== 'conflict' || found.kind !== 'create-user') {
      const what = `Directory change ${id} (${found.kind} for ${found.address})`;
      throw refused(
        'DIRECTORY_EFFECT_NOT_CONFLICT',
        found.state === 'failed'
          ? `${what} failed but is not a conflict, so there is no directory account to adopt: retry it without --adopt ("directory retry ${id}").`
          : found.state === 'conflict'
            ? `${what} is a conflict, but only a new account’s creation can adopt a directory account: NAS must resolve it in the directory.`
            : `${what} is ${found.state === 'applied' ? 'applied already' : 'still queued'}, not a conflict: --adopt is only for a new account whose address a directory account the bot did not make holds ("directory failed" lists them).`,
        { id, state: found.state },
      );
    }
    await tx
      .update(directoryEffects)
      .set({ state: 'pending', attempts: 0, adopt: true, availableAt: ctx.now, leasedUntil: null })
      .where(eq(directoryEffects.id, id));
    await audit(tx, ctx, {
      action: 'directory-adopt',
      address: found.address,
      reason: `the directory account holding ${found.address} is this person: the bot takes it over (directory change ${id})`,
      details: { effect: id },
    });
    return { ...parkedView(found), availableAt: ctx.now.toISOString() };
  });
  deps.logger.info(
    { actor: actorLabel(ctx.actor), effect: id, address: adopted.address, lastError: adopted.lastError },
    'directory conflict requeued for adoption',
  );
  return { adopted };
}

/** Why the change `id` was not requeued: unknown, in conflict, or not parked. */
async function notRetried(db: Executor, id: number) {
  const [found] = await db
    .select({ state: directoryEffects.state, kind: directoryEffects.kind, address: accounts.address })
    .from(directoryEffects)
    .innerJoin(accounts, eq(accounts.id, directoryEffects.accountId))
    .where(eq(directoryEffects.id, id));
  if (!found) {
    return refused(
      'DIRECTORY_EFFECT_NOT_FOUND',
      `There is no directory change ${id}. "directory failed" lists the parked ones with their numbers.`,
      { id },
    );
  }
  if (found.state === 'conflict') {
    const adopt =
      found.kind === 'create-user'
        ? ` If that directory account is this very person, an operator or NAS can adopt it with "directory retry ${id} --adopt": the bot then marks it as its own, sets a new credential and delivers it. Otherwise`
        : '';
    return refused(
      'DIRECTORY_CONFLICT',
      `Directory change ${id} (${found.kind} for ${found.address}) is a conflict: the address is held in the directory by an account the bot did not make, and retrying would meet it again, so nothing was changed.${adopt} NAS must resolve it in the directory first (remove or rename the other object).`,
      { id, address: found.address },
    );
  }
  // Not failed, not in conflict: the worker's (pending) or done (applied).
  const state = found.state === 'applied' ? 'applied' : 'pending';
  return refused(
    'DIRECTORY_EFFECT_NOT_FAILED',
    state === 'applied'
      ? `Directory change ${id} (${found.kind} for ${found.address}) was applied already, so nothing was changed.`
      : `Directory change ${id} (${found.kind} for ${found.address}) is still queued: the directory worker is applying or retrying it, so nothing was changed. Only failed changes ("directory failed") can be retried.`,
    { id, state },
  );
}

const parkedColumns = {
  id: directoryEffects.id,
  address: accounts.address,
  kind: directoryEffects.kind,
  state: directoryEffects.state,
  attempts: directoryEffects.attempts,
  lastError: directoryEffects.lastError,
  createdAt: directoryEffects.createdAt,
};

type ParkedRow = {
  id: number;
  address: string;
  kind: EffectKind;
  state: 'pending' | 'applied' | 'failed' | 'conflict';
  attempts: number;
  lastError: string | null;
  createdAt: Date;
};

const parkedView = (r: ParkedRow): ParkedEffect => ({
  ...r,
  // Only parked rows are read; the narrowing is the query's, not the type system's.
  state: r.state === 'conflict' ? 'conflict' : 'failed',
  createdAt: r.createdAt.toISOString(),
});

/** Changes in conflict, which `--all` leaves parked. */
async function conflictCount(db: Db): Promise<number> {
  return db.$count(directoryEffects, eq(directoryEffects.state, 'conflict'));
}

/** Changes parked as failed or in conflict, newest first: `directory failed`. */
export async function parkedEffects(db: Db, limit = 100): Promise<ParkedEffect[]> {
  const rows = await db
    .select(parkedColumns)
    .from(directoryEffects)
    .innerJoin(accounts, eq(accounts.id, directoryEffects.accountId))
    .where(inArray(directoryEffects.state, ['failed', 'conflict']))
    .orderBy(desc(directoryEffects.id))
    .limit(limit);
  return rows.map(parkedView);
}

/**
 * Puts failed changes back in the queue: pending, no attempts counted, due at `now`, claimed by
 * nobody, so the worker applies them on its next pass. Only failed rows are touched, never a
 * conflict. The last error stays on the row until the next attempt replaces it. `ids` names the
 * rows; `'all'` takes every failed one.
 */
export async function requeueFailedEffects(
  db: Db,
  ids: readonly number[] | 'all',
  now: Date,
): Promise<RequeuedEffect[]> {
  if (ids !== 'all' && ids.length === 0) return [];
  return db.transaction(async (tx) => {
    const parked = await tx
      .select(parkedColumns)
      .from(directoryEffects)
      .innerJoin(accounts, eq(accounts.id, directoryEffects.accountId))
      .where(
        and(
          eq(directoryEffects.state, 'failed'),
          ids === 'all' ? undefined : inArray(directoryEffects.id, [...ids]),
        ),
      )
      .orderBy(asc(directoryEffects.id))
      .for('update', { of: directoryEffects });
    if (parked.length === 0) return [];
    await tx
      .update(directoryEffects)
      .set({ state: 'pending', attempts: 0, availableAt: now, leasedUntil: null })
      .where(
        inArray(
          directoryEffects.id,
          parked.map((r) => r.id),
        ),
      );
    return parked.map((r) => ({ ...parkedView(r), availableAt: now.toISOString() }));
  });
}
