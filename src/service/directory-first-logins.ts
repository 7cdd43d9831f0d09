import { and, eq, inArray } from 'drizzle-orm';
import { accounts, organisations, settings } from '../../db/schema.js';
import { isDomainError, refused } from '../domain/errors.js';
import { mfaRequired } from '../domain/policy.js';
import { AWAITING_FIRST_LOGIN } from '../domain/preconditions.js';
import { isSystemActor } from '../domain/roles.js';
import { decideFirstLogin } from '../domain/transitions.js';
import type { ServiceDeps } from './accounts.js';
import type { RequestContext } from './context.js';
import { apply, getAccount, getOrg } from './store.js';

/**
 * First logins seen in the directory (issue 15): a pending account becomes active, audited with
 * platform `directory`, once the directory shows a successful sign-in after the account was made
 * and, unless its sector is exempt (MFA_EXEMPT_SECTORS), MFA registered. Part of the Graph job:
 * the sign-in poll hands over each page's successful sign-ins.
 */

/** Where the last check left its verdict, for `status` of a pending account. */
export const FIRST_LOGIN_WATCH_SETTING = 'directory-first-logins';

/** One user's last successful sign-in as the directory reports it. */
export interface DirectorySignIn {
  address: string;
  /** The directory's object id: what the MFA report is asked by. */
  directoryId: string;
  at: Date;
}

export interface FirstLoginCheckInput {
  signIns: readonly DirectorySignIn[];
  /** Whether each user registered MFA (DirectoryReader.mfaRegistered); asked only when needed. */
  mfaRegistered: (ids: readonly string[]) => Promise<ReadonlyMap<string, boolean>>;
}

export interface FirstLoginCheckReport {
  /** Pending accounts the directory shows signed in since they were made. */
  signedIn: number;
  activated: Array<{ address: string; org: string; signedInAt: string; mfa: boolean }>;
  /** Signed in, but MFA is not registered (or could not be read): still pending. */
  awaitingMfa: Array<{ address: string; signedInAt: string }>;
  /** Why MFA registration could not be read (no Entra ID P1/P2 licence, a permission), or null. */
  mfaUnreadable: string | null;
}

/** What `status` of a pending account says about how its first login will be seen. */
export type FirstLoginWatch =
  | { state: 'watching'; checkedAt: string }
  | { state: 'mfa-unreadable'; checkedAt: string; reason: string }
  | { state: 'unreadable'; checkedAt: string; reason: string };

/**
 * Activates the pending accounts among `signIns` that the directory shows ready. Each account
 * changes in its own short transaction, re-read under lock, so a `first-login` typed meanwhile
 * is not recorded twice. Never activates on a sign-in older than the account.
 */
export async function recordDirectoryFirstLogins(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: FirstLoginCheckInput,
): Promise<FirstLoginCheckReport> {
  if (!isSystemActor(ctx.actor)) {
    throw refused('OPERATOR_ONLY', 'First logins are read from the directory by the bot’s Graph job.');
  }
  const report: FirstLoginCheckReport = { signedIn: 0, activated: [], awaitingMfa: [], mfaUnreadable: null };
  const latest = new Map<string, DirectorySignIn>();
  for (const s of input.signIns) {
    if (s.at.getTime() > ctx.now.getTime()) continue;
    const seen = latest.get(s.address);
    if (!seen || seen.at < s.at) latest.set(s.address, s);
  }
  if (latest.size === 0) return report;

  const pending = await deps.db
    .select({ address: accounts.address, createdAt: accounts.createdAt, kind: organisations.kind })
    .from(accounts)
    .innerJoin(organisations, eq(organisations.ods, accounts.homeOrg))
    .where(and(eq(accounts.status, AWAITING_FIRST_LOGIN), inArray(accounts.address, [...latest.keys()])));
  const ready = pending
    .map((p) => ({ ...p, signIn: latest.get(p.address) }))
    .filter((p): p is typeof p & { signIn: DirectorySignIn } => p.signIn !== undefined)
    .filter((p) => p.signIn.at >= p.createdAt);
  report.signedIn = ready.length;
  if (ready.length === 0) return report;

  const needMfa = ready.filter((p) => mfaRequired(deps.policy, p.kind));
  let registered: ReadonlyMap<string, boolean> = new Map();
  if (needMfa.length > 0) {
    try {
      registered = await input.mfaRegistered(needMfa.map((p) => p.signIn.directoryId));
    } catch (e) {
      if (!isDomainError(e)) throw e;
      // Sign-ins were read, so exempt sectors still go ahead; the rest wait for `first-login --mfa`.
      report.mfaUnreadable = e.message;
    }
  }

  const dctx: RequestContext = { ...ctx, platform: 'directory' };
  for (const p of ready) {
    const mfa = registered.get(p.signIn.directoryId) === true;
    const signedInAt = p.signIn.at.toISOString();
    if (!mfa && mfaRequired(deps.policy, p.kind)) {
      report.awaitingMfa.push({ address: p.address, signedInAt });
      continue;
    }
    const activated = await deps.db.transaction(async (tx) => {
      const row = await getAccount(tx, p.address, true);
      if (row.status !== AWAITING_FIRST_LOGIN || p.signIn.at < row.createdAt) return null;
      const home = await getOrg(tx, row.homeOrg);
      const decision = decideFirstLogin(row, {
        now: ctx.now,
        policy: deps.policy,
        home,
        mfa,
        signedInAt: p.signIn.at,
      });
      const updated = await apply(tx, dctx, deps, row, decision);
      if (updated.directoryId === null) {
        await tx
          .update(accounts)
          .set({ directoryId: p.signIn.directoryId })
          .where(eq(accounts.id, updated.id));
      }
      return { address: updated.address, org: home.ods, signedInAt, mfa };
    });
    if (activated) report.activated.push(activated);
  }
  return report;
}

/** Keeps the verdict of a check for `status`: watching, or why the directory could not say. */
export async function recordFirstLoginWatch(
  deps: Pick<ServiceDeps, 'db'>,
  watch: FirstLoginWatch,
): Promise<void> {
  const value = JSON.stringify(watch);
  await deps.db
    .insert(settings)
    .values({ key: FIRST_LOGIN_WATCH_SETTING, value })
    .onConflictDoUpdate({ target: settings.key, set: { value } });
}

/** The last verdict, or null when no Graph job has looked. */
export async function firstLoginWatch(deps: Pick<ServiceDeps, 'db'>): Promise<FirstLoginWatch | null> {
  const [row] = await deps.db
    .select({ value: settings.value })
    .from(settings)
    .where(eq(settings.key, FIRST_LOGIN_WATCH_SETTING));
  if (!row) return null;
  try {
    return JSON.parse(row.value) as FirstLoginWatch;
  } catch {
    return null;
  }
}
