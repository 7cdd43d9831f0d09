import type { User } from '@microsoft/microsoft-graph-types';
import { type Effect, type EffectKind, unhandledEffect } from '../../src/domain/effects.js';
import type { EffectOutcome, EffectToApply } from '../../src/service/ports.js';
import type { GraphResponse } from './entra-batch.js';
import type { Accepted, Failure } from './entra-outcomes.js';
import {
  addMember,
  adoptUser,
  createTap,
  createUser,
  deleteUser,
  findUser,
  getUser,
  isAlreadyMember,
  isTakenAddress,
  madeByBot,
  NEEDS,
  purgeUser,
  removeMember,
  resetPassword,
  restoreUser,
  revokeSessions,
  type Step,
  unrevealedPassword,
  updateUser,
} from './entra-requests.js';

/**
 * The Graph writes each kind sends when no step is repeated (GETs are reads, which Graph budgets
 * apart), for the worker's pacer. A create is POST /users and the group (with DIRECTORY_CREDENTIAL=tap,
 * createEntraDirectory counts the pass too); a retry's password reset is one more, which the
 * pacer's headroom absorbs.
 */
export const ENTRA_WRITES: Readonly<Record<EffectKind, number>> = {
  'create-user': 2,
  'mark-leaver': 2, // the leave date, out of the old group
  'move-org': 2, // into the new group, the company name
  disable: 2, // accountEnabled false, revokeSignInSessions
  enable: 1,
  delete: 1,
  restore: 2, // restore from deleted items, accountEnabled true
  purge: 1,
  // accountEnabled and names in one PATCH, the home group; a restore, a revoke or each group left is one more
  reconcile: 2,
};

/** What an effect's steps run with: one effect's view of the batcher. */
export interface EffectContext {
  /** Sends one step and judges its answer; `countsAsDone` accepts a refusal that means "already so". */
  run(step: Step, countsAsDone?: (response: GraphResponse) => boolean): Promise<Accepted | Failure>;
  /** Adds a secret (a password, a pass) that no error of this effect may contain. */
  secret(value: string): void;
  /** Graph's origin, for the absolute references group membership takes. */
  graphOrigin: string;
}

type Of<K extends Effect['kind']> = EffectToApply & { effect: Extract<Effect, { kind: K }> };

const notFound = (r: GraphResponse) => r.status === 404;
/** A failure once `step` steps are done: the next attempt resumes after them (EffectToApply.step). */
const after = (step: number, failure: Failure, directoryId?: string): Failure => ({
  ...failure,
  step,
  ...(directoryId ? { directoryId } : {}),
});
const permanent = (error: string): Failure => ({ ok: false, permanent: true, conflict: false, error });
const done = (directoryId: string | null): EffectOutcome => ({ ok: true, directoryId });
const idOf = (body: unknown) => String((body as User | null)?.id ?? '');

/**
 * Applies one effect, step after step; each step waits for its batch. Every step is idempotent,
 * so repeating one is safe; a failure still says how many were done (`step`), so that a retry
 * spends no write on them again. The steps: create-user 1 the user exists as the bot's, 2 in its
 * group (then a pass is issued); mark-leaver 1 the leave date set; move-org 1 in the new group;
 * disable 1 sign-in blocked; restore 1 restored (then enabled). The rest are one write.
 */
export function applyEffect(item: EffectToApply, ctx: EffectContext): Promise<EffectOutcome> {
  const { effect } = item;
  const step = item.step ?? 0;
  switch (effect.kind) {
    case 'create-user':
      return createOne({ ...item, effect }, ctx);
    case 'mark-leaver':
      return markLeaver({ ...item, effect }, ctx);
    case 'move-org':
      return moveOrg({ ...item, effect }, ctx);
    case 'disable':
      return withUser(item, ctx, async (id) => {
        if (step < 1) {
          const off = await ctx.run(updateUser(id, { accountEnabled: false }, `disable ${effect.address}`));
          if (!off.ok) return off;
        }
        const revoked = await ctx.run(revokeSessions(id, effect.address));
        return revoked.ok ? done(id) : after(1, revoked);
      });
    case 'enable':
      return withUser(item, ctx, async (id) => {
        const on = await ctx.run(updateUser(id, { accountEnabled: true }, `enable ${effect.address}`));
        return on.ok ? done(id) : on;
      });
    case 'delete':
      return deleteOne({ ...item, effect }, ctx);
    case 'restore':
      return restoreOne({ ...item, effect }, ctx);
    case 'purge': {
      if (item.directoryId === null) return Promise.resolve(unknownId(effect.address, 'purge'));
      const id = item.directoryId;
      // Already gone (purged, or its 30 days passed): what purging wanted.
      return ctx.run(purgeUser(id, effect.address), notFound).then((r) => (r.ok ? done(id) : r));
    }
    case 'reconcile':
      return reconcileOne({ ...item, effect }, ctx);
    default:
      return unhandledEffect(effect);
  }
}

/**
 * The user's object id: the one the worker knows, or else looked up by its address (an account
 * older than the bot's directory work). Not found is permanent: there is no user to change.
 */
async function withUser(
  item: EffectToApply,
  ctx: EffectContext,
  then: (id: string) => Promise<EffectOutcome>,
): Promise<EffectOutcome> {
  if (item.directoryId !== null) return then(item.directoryId);
  const { address } = item.effect;
  const found = await ctx.run(findUser(address), notFound);
  if (!found.ok) return found;
  if (found.status === 404) return permanent(`The directory holds no user ${address} to change.`);
  return then(idOf(found.body));
}

/** Deleted items are found by object id only; without it the bot cannot tell which to act on. */
function unknownId(address: string, verb: 'restore' | 'purge'): Failure {
  return permanent(
    `Cannot ${verb} ${address}: the bot never learnt its directory object id, and deleted users are found by id. Find it under Entra's deleted users and ${verb} it there.`,
  );
}

async function createOne(item: Of<'create-user'>, ctx: EffectContext): Promise<EffectOutcome> {
  const { effect, credential } = item;
  const org = item.orgs[effect.org];
  if (!credential) return permanent(`No credential was made for ${effect.address}: nothing was created.`);
  if (!org) return permanent(`The organisation ${effect.org} of ${effect.address} was not given.`);
  const password = credential.kind === 'password' ? credential.password : unrevealedPassword();
  ctx.secret(password);
  const withMfa = credential.kind === 'password' ? credential.forceChangeWithMfa : effect.mfaRequired;
  // Resumed once the user exists: only the credential is new (made for this attempt).
  const resumed = (item.step ?? 0) >= 1 ? item.directoryId : null;
  const user = resumed !== null ? { id: resumed, reset: true } : await makeUser(item, ctx, password, withMfa);
  if ('ok' in user) return user;
  const { id } = user;
  if (user.reset && credential.kind === 'password') {
    const reset = await ctx.run(resetPassword(id, effect.address, password, withMfa));
    if (!reset.ok) return after(1, reset, id);
  }
  if ((item.step ?? 0) < 2 && org.group !== null) {
    const joined = await ctx.run(addMember(ctx.graphOrigin, org.group, id, effect.address), isAlreadyMember);
    if (!joined.ok) return after(1, joined, id);
  }
  if (credential.kind === 'password') return done(id);
  // Last, so that a pass is only issued once everything else is done; a retry issues a new one.
  const tap = await ctx.run(
    createTap(id, effect.address, credential.lifetimeMinutes, credential.startDateTime),
  );
  if (!tap.ok) return after(2, tap, id);
  const pass = (tap.body as { temporaryAccessPass?: unknown } | null)?.temporaryAccessPass;
  if (typeof pass !== 'string' || pass === '') {
    const failure: Failure = {
      ok: false,
      permanent: false,
      conflict: false,
      error: `Graph issued ${effect.address} no pass.`,
    };
    return after(2, failure, id);
  }
  ctx.secret(pass);
  return { ok: true, directoryId: id, temporaryAccessPass: pass };
}

/**
 * POST /users; a taken address is ours when an earlier attempt made it and failed after (its
 * password is then reset), or the operator's to adopt (`adopt`: marked as the bot's with the new
 * password in one write). Anyone else's is a conflict and left alone.
 */
async function makeUser(
  item: Of<'create-user'>,
  ctx: EffectContext,
  password: string,
  withMfa: boolean,
): Promise<{ id: string; reset: boolean } | Failure> {
  const { effect } = item;
  const org = item.orgs[effect.org]?.name ?? effect.org;
  const created = await ctx.run(createUser(effect, org, password, withMfa), isTakenAddress);
  if (!created.ok) return created;
  if (created.status !== 400) return { id: idOf(created.body), reset: false };
  const found = await ctx.run(findUser(effect.address), notFound);
  if (!found.ok) return found;
  const id = idOf(found.body);
  if (found.status !== 404 && madeByBot(found.body)) return { id, reset: true };
  if (found.status === 404 || !item.adopt) {
    // Not found by its address: an object Graph does not show yet (replication), or one removed meanwhile.
    const holder =
      found.status === 404
        ? 'an object Graph does not show by that address'
        : 'a user the bot did not create';
    return {
      ok: false,
      permanent: true,
      conflict: true,
      error: `The address ${effect.address} is already taken in the directory by ${holder}; nothing was overwritten.`,
    };
  }
  const adopted = await ctx.run(
    adoptUser(id, effect.address, item.credential?.kind === 'password' ? password : null, withMfa),
  );
  return adopted.ok ? { id, reset: false } : adopted;
}

function markLeaver(item: Of<'mark-leaver'>, ctx: EffectContext): Promise<EffectOutcome> {
  const { effect } = item;
  return withUser(item, ctx, async (id) => {
    const change: User = { employeeLeaveDateTime: effect.leaveAt };
    if ((item.step ?? 0) < 1) {
      const dated = await ctx.run(
        updateUser(id, change, `set the leave date of ${effect.address}`, NEEDS.leaveDate),
      );
      if (!dated.ok) return dated;
    }
    const group = item.orgs[effect.org]?.group ?? null;
    if (group === null) return done(id);
    // Not a member (404): already out, which is what leaving wanted.
    const left = await ctx.run(removeMember(group, id, effect.address), notFound);
    return left.ok ? done(id) : after(1, left);
  });
}

function moveOrg(item: Of<'move-org'>, ctx: EffectContext): Promise<EffectOutcome> {
  const { effect } = item;
  const to = item.orgs[effect.to];
  if (!to)
    return Promise.resolve(permanent(`The organisation ${effect.to} of ${effect.address} was not given.`));
  return withUser(item, ctx, async (id) => {
    if (to.group !== null && (item.step ?? 0) < 1) {
      const joined = await ctx.run(addMember(ctx.graphOrigin, to.group, id, effect.address), isAlreadyMember);
      if (!joined.ok) return joined;
    }
    const change: User = { companyName: to.name, employeeLeaveDateTime: null };
    const moved = await ctx.run(
      updateUser(id, change, `move ${effect.address} to ${to.name}`, NEEDS.leaveDate),
    );
    return moved.ok ? done(id) : after(1, moved);
  });
}

async function deleteOne(item: Of<'delete'>, ctx: EffectContext): Promise<EffectOutcome> {
  const { address } = item.effect;
  let id = item.directoryId;
  if (id === null) {
    const found = await ctx.run(findUser(address), notFound);
    if (!found.ok) return found;
    if (found.status === 404) return done(null); // no such active user: nothing left to delete
    id = idOf(found.body);
  }
  const gone = await ctx.run(deleteUser(id, address), notFound);
  return gone.ok ? done(id) : gone;
}

async function restoreOne(item: Of<'restore'>, ctx: EffectContext): Promise<EffectOutcome> {
  const { address } = item.effect;
  if (item.directoryId === null) return unknownId(address, 'restore');
  const id = item.directoryId;
  if ((item.step ?? 0) < 1) {
    const restored = await ctx.run(restoreUser(id, address), notFound);
    if (!restored.ok) return restored;
    if (restored.status === 404) {
      // Not in deleted items: restored already by an attempt that failed after, or gone for good.
      const active = await ctx.run(getUser(id, address), notFound);
      if (!active.ok) return active;
      if (active.status === 404) {
        return permanent(
          `Cannot restore ${address}: the directory no longer holds it: its 30 days have passed.`,
        );
      }
    }
  }
  const on = await ctx.run(updateUser(id, { accountEnabled: true }, `enable ${address}`));
  return on.ok ? done(id) : after(1, on);
}

/**
 * `directory reapply`: restored first when the directory deleted it (by id only, as a restore),
 * then one PATCH of sign-in, names and company, sessions revoked when blocked, into the home
 * group (out of it for a leaver) and out of the others. Each step is idempotent ("already so" counts as done), so a retry
 * repeats them all.
 */
function reconcileOne(item: Of<'reconcile'>, ctx: EffectContext): Promise<EffectOutcome> {
  const { effect } = item;
  const home = item.orgs[effect.org];
  if (!home)
    return Promise.resolve(permanent(`The organisation ${effect.org} of ${effect.address} was not given.`));
  const reapply = async (id: string): Promise<EffectOutcome> => {
    const change: User = {
      accountEnabled: effect.enabled,
      companyName: home.name,
      ...(effect.names
        ? {
            givenName: effect.names.given,
            surname: effect.names.family,
            displayName: `${effect.names.given} ${effect.names.family}`,
          }
        : {}),
    };
    const patched = await ctx.run(updateUser(id, change, `reapply the bot's record to ${effect.address}`));
    if (!patched.ok) return patched;
    if (!effect.enabled) {
      const revoked = await ctx.run(revokeSessions(id, effect.address));
      if (!revoked.ok) return revoked;
    }
    if (home.group !== null) {
      const grouped = effect.inHomeGroup
        ? await ctx.run(addMember(ctx.graphOrigin, home.group, id, effect.address), isAlreadyMember)
        : await ctx.run(removeMember(home.group, id, effect.address), notFound);
      if (!grouped.ok) return grouped;
    }
    for (const ods of effect.leave) {
      const group = item.orgs[ods]?.group ?? null;
      if (group === null || group === home.group) continue;
      // Not a member (404): already out.
      const left = await ctx.run(removeMember(group, id, effect.address), notFound);
      if (!left.ok) return left;
    }
    return done(id);
  };
  if (!effect.restore) return withUser(item, ctx, reapply);
  if (item.directoryId === null) return Promise.resolve(unknownId(effect.address, 'restore'));
  const id = item.directoryId;
  return ctx.run(restoreUser(id, effect.address), notFound).then(async (restored) => {
    if (!restored.ok) return restored;
    if (restored.status === 404) {
      const active = await ctx.run(getUser(id, effect.address), notFound);
      if (!active.ok) return active;
      if (active.status === 404) {
        return permanent(
          `Cannot restore ${effect.address}: the directory no longer holds it: its 30 days have passed.`,
        );
      }
    }
    return reapply(id);
  });
}
