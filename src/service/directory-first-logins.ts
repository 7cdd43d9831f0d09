import { and, eq, inArray, notExists } from 'drizzle-orm';
import { z } from 'zod';
import { directoryEffects } from '../../db/directory-schema.js';
import { accounts, organisations, settings } from '../../db/schema.js';
import { isDomainError, refused } from '../domain/errors.js';
import { mfaRequired } from '../domain/policy.js';
import { AWAITING_FIRST_LOGIN } from '../domain/preconditions.js';
import { isSystemActor } from '../domain/roles.js';
import { decideFirstLogin } from '../domain/transitions.js';
import type { ServiceDeps } from './accounts.js';
import type { RequestContext } from './context.js';
import { creationUnapplied } from './directory-effects.js';
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
  /** Accounts whose activation failed (logged); the others, and the poll, go on. */
  failed: Array<{ address: string; problem: string }>;
  /** Whether the MFA report was read this time (asked, and answered). */
  mfaRead: boolean;
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
  const report: FirstLoginCheckReport = {
    signedIn: 0,
    activated: [],
    awaitingMfa: [],
    mfaUnreadable: null,
    failed: [],
    mfaRead: false,
  };
  const latest = new Map<string, DirectorySignIn>();
  for (const s of input.signIns) {
    if (s.at.getTime() > ctx.now.getTime()) continue;
    const seen = latest.get(s.address);
    if (!seen || seen.at < s.at) latest.set(s.address, s);
  }
  if (latest.size === 0) return report;

  const pending = await deps.db
    .select({
      address: accounts.address,
      createdAt: accounts.createdAt,
      directoryId: accounts.directoryId,
      kind: organisations.kind,
    })
    .from(accounts)
    .innerJoin(organisations, eq(organisations.ods, accounts.homeOrg))
    .where(
      and(
        eq(accounts.status, AWAITING_FIRST_LOGIN),
        inArray(accounts.address, [...latest.keys()]),
        // While its creation is queued or parked, whoever signs in at the address is someone else.
        notExists(
          deps.db
            .select({ id: directoryEffects.id })
            .from(directoryEffects)
            .where(creationUnapplied(accounts.id)),
        ),
      ),
    );
  const ready = pending
    .map((p) => ({ ...p, signIn: latest.get(p.address) }))
    .filter((p): p is typeof p & { signIn: DirectorySignIn } => p.signIn !== undefined)
    .filter((p) => p.signIn.at >= p.createdAt)
    // Tied to a directory user already: only that user's sign-in is this person's.
    .filter((p) => p.directoryId === null || p.directoryId === p.signIn.directoryId);
  report.signedIn = ready.length;
  if (ready.length === 0) return report;

  const needMfa = ready.filter((p) => mfaRequired(deps.policy, p.kind));
  let registered: ReadonlyMap<string, boolean> = new Map();
  if (needMfa.length > 0) {
    try {
      registered = await input.mfaRegistered(needMfa.map((p) => p.signIn.directoryId));
      report.mfaRead = true;
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
    let activated: FirstLoginCheckReport['activated'][number] | 'awaiting-mfa' | null;
    try {
      activated = await activate(p.address, p.signIn, mfa);
    } catch (e) {
      // One account's failure must not stop the poll: the others, and every activity clock, go on.
      const problem = isDomainError(e) ? e.message : e instanceof Error ? e.message : String(e);
      deps.logger.error(
        { address: p.address, problem },
        'could not record a first login seen in the directory',
      );
      report.failed.push({ address: p.address, problem });
      continue;
    }
    if (activated === 'awaiting-mfa') report.awaitingMfa.push({ address: p.address, signedInAt });
    else if (activated) report.activated.push(activated);
  }
  return report;

  function activate(address: string, signIn: DirectorySignIn, mfa: boolean) {
    return deps.db.transaction(async (tx) => {
      const row = await getAccount(tx, address, true);
      if (row.status !== AWAITING_FIRST_LOGIN || signIn.at < row.createdAt) return null;
      if (row.directoryId !== null && row.directoryId !== signIn.directoryId) return null;
      const home = await getOrg(tx, row.homeOrg);
      // The home read under lock: one moved meanwhile to a sector that needs MFA waits for it.
      if (!mfa && mfaRequired(deps.policy, home.kind)) return 'awaiting-mfa' as const;
      const decision = decideFirstLogin(row, {
        now: ctx.now,
        policy: deps.policy,
        home,
        mfa,
        signedInAt: signIn.at,
      });
      const updated = await apply(tx, dctx, deps, row, decision);
      if (updated.directoryId === null) {
        await tx.update(accounts).set({ directoryId: signIn.directoryId }).where(eq(accounts.id, updated.id));
      }
      return { address: updated.address, org: home.ods, signedInAt: signIn.at.toISOString(), mfa };
    });
  }
}

/**
 * Keeps the verdict of a check for `status`: watching, or why the directory could not say. A run
 * that did not need the MFA report (no pending account signed in) does not clear an earlier
 * verdict that the report cannot be read: only a read that succeeds does.
 */
export async function recordFirstLoginWatch(
  deps: Pick<ServiceDeps, 'db'>,
  watch: FirstLoginWatch,
  options: { mfaRead?: boolean } = {},
): Promise<void> {
  let kept = watch;
  if (watch.state === 'watching' && options.mfaRead !== true) {
    const before = await firstLoginWatch(deps);
    if (before?.state === 'mfa-unreadable') kept = { ...before, checkedAt: watch.checkedAt };
  }
  const value = JSON.stringify(kept);
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
    return firstLoginWatchSchema.parse(JSON.parse(row.value));
  } catch {
    return null;
  }
}

/** The stored verdict read back strictly, as stored payloads are. */
const firstLoginWatchSchema = z.discriminatedUnion('state', [
  z.strictObject({ state: z.literal('watching'), checkedAt: z.string() }),
  z.strictObject({ state: z.literal('mfa-unreadable'), checkedAt: z.string(), reason: z.string() }),
  z.strictObject({ state: z.literal('unreadable'), checkedAt: z.string(), reason: z.string() }),
]) satisfies z.ZodType<FirstLoginWatch>;
