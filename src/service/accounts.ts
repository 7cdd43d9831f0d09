import { and, eq } from 'drizzle-orm';
import type { Db } from '../../db/index.js';
import { accounts, transferRequests } from '../../db/schema.js';
import { NAS_GP_LOCUM_MAILBOX } from '../domain/contact.js';
import { DomainError, invalid, refused } from '../domain/errors.js';
import { isSiteKind, type Organisation } from '../domain/organisation.js';
import { mfaRequired } from '../domain/policy.js';
import { joinerStatus, type Status } from '../domain/status.js';
import { addDays, isoDate } from '../domain/time.js';
import type { Logger } from '../logger.js';
import type { RequestContext } from './context.js';
import {
  assertSiteCanTakeAccount,
  createPersonAccount,
  type NewPerson,
  type ProvisionDeps,
} from './provisioning.js';
import {
  type AccountRow,
  type AccountView,
  accountView,
  audit,
  type Executor,
  enqueue,
  getAccount,
  getOrg,
  graceEnds,
  loadPrincipal,
  notYourAccount,
  notYourOrganisation,
} from './store.js';

export interface ServiceDeps extends ProvisionDeps {
  db: Db;
  /** For operational actions that change no account and so write no audit row (a requeued notification). */
  logger: Logger;
}

export interface ProvisionResult {
  account: AccountView;
  delivery: { route: string; recipient: string };
  duplicateOverride: { reason: string; matches: string[] } | null;
}

export async function provision(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: NewPerson & { org: string },
): Promise<ProvisionResult> {
  return deps.db.transaction(async (tx) => {
    const principal = await loadPrincipal(tx, ctx);
    const org = await getOrg(tx, input.org);
    if (!principal.canAdminister(org))
      throw notYourOrganisation(`provision accounts into ${org.ods}`, org, 'a local administrator');
    const made = await createPersonAccount(tx, deps, ctx, principal, org, input, 'provision');
    return {
      account: accountView(made.account, org, deps.policy),
      delivery: made.delivery,
      duplicateOverride: made.duplicateOverride
        ? {
            reason: made.duplicateOverride.reason,
            matches: made.duplicateOverride.matches.map((m) => m.address),
          }
        : null,
    };
  });
}

/** An account locked for change, with its home organisation and the actor's roles. */
async function openForChange(tx: Executor, ctx: RequestContext, address: string) {
  const principal = await loadPrincipal(tx, ctx);
  const row = await getAccount(tx, address, true);
  const home = await getOrg(tx, row.homeOrg);
  return { principal, row, home };
}

async function setStatus(
  tx: Executor,
  row: AccountRow,
  to: Status,
  ctx: RequestContext,
  changes: Partial<typeof accounts.$inferInsert>,
): Promise<AccountRow> {
  // A leaving date from the HR feed stands through the first login; any other change (a leaver,
  // a joiner, a lapse, a reactivation) settles or overtakes it.
  const leavesAt = row.status === 'pending' && to === 'active' ? row.leavesAt : null;
  const [updated] = await tx
    .update(accounts)
    .set({ ...changes, status: to, statusChangedAt: ctx.now, leavesAt })
    .where(eq(accounts.id, row.id))
    .returning();
  if (!updated) throw new Error(`account ${row.address} vanished while locked`);
  return updated;
}

function refuseSharedMailbox(row: AccountRow, what: string): void {
  if (row.kind === 'shared') {
    throw refused(
      'SHARED_MAILBOX',
      `${row.address} is a site's shared mailbox, not a person's account, so you cannot ${what} it. It lives as long as the site is registered; contact NAS to change it.`,
    );
  }
}

export async function firstLogin(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { address: string; mfa: boolean },
): Promise<AccountView> {
  return deps.db.transaction(async (tx) => {
    const { principal, row, home } = await openForChange(tx, ctx, input.address);
    if (principal.isSelf(row.address)) {
      throw refused(
        'FIRST_LOGIN_NOT_SELF',
        'A first login is recorded by an administrator or from sign-in data, never on the holder’s own word. Ask your local administrator to record it once you have changed your password and registered Microsoft Authenticator.',
      );
    }
    if (!principal.canAdminister(home)) {
      throw notYourAccount(
        principal,
        row.address,
        home,
        (whose) => `record first logins for ${whose} accounts`,
        'a local administrator',
      );
    }
    if (row.status !== 'pending') {
      throw refused(
        'NOT_PENDING',
        `${row.address} is ${row.status}, not pending: its first login ${row.firstLoginAt ? `was recorded on ${isoDate(row.firstLoginAt)}` : 'is no longer needed'}. Use "activity ${row.address}" to record a later sign-in.`,
      );
    }
    if (!input.mfa && mfaRequired(deps.policy, home.kind)) {
      throw refused(
        'MFA_REQUIRED',
        `${row.address} cannot become active until MFA is registered: ${home.kind} accounts must register Microsoft Authenticator at first login. Once they have, run "first-login ${row.address} --mfa".`,
      );
    }
    const updated = await setStatus(tx, row, 'active', ctx, {
      firstLoginAt: ctx.now,
      mfaRegistered: input.mfa,
      lastActivityAt: ctx.now,
    });
    await audit(tx, ctx, {
      action: 'first-login',
      address: row.address,
      org: home.ods,
      from: 'pending',
      to: 'active',
      reason: input.mfa
        ? 'password changed and MFA registered'
        : `password changed; MFA exempt for ${home.kind}`,
    });
    return accountView(updated, home, deps.policy);
  });
}

export type LeaverResult =
  | { outcome: 'leaver'; account: AccountView; transferCompleted: { to: string } | null }
  | { outcome: 'requested'; account: AccountView; sentTo: string };

export async function leaver(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { address: string },
): Promise<LeaverResult> {
  return deps.db.transaction(async (tx) => {
    const { principal, row, home } = await openForChange(tx, ctx, input.address);
    if (!principal.canMarkLeaver(home)) {
      if (principal.isSelf(row.address) && (row.status === 'active' || row.status === 'pending')) {
        return requestOwnLeaver(tx, deps, ctx, row, home);
      }
      throw notYourAccount(
        principal,
        row.address,
        home,
        (whose) => `mark ${whose} staff as leavers`,
        'a local administrator or the site owner',
      );
    }
    refuseSharedMailbox(row, 'mark as a leaver');
    if (row.status === 'leaver') {
      throw refused(
        'ALREADY_LEAVER',
        `${row.address} is already a leaver: the grace period ends on ${isoDate(row.graceExpiresAt ?? ctx.now)}. Their new organisation can accept them with "joiner ${row.address} --org ODS".`,
      );
    }
    if (row.status !== 'pending' && row.status !== 'active') {
      throw refused(
        'NOT_ACTIVE',
        `${row.address} is ${row.status}, so it cannot be marked as a leaver (only pending and active accounts can). Nothing was changed.`,
      );
    }
    const graceExpiresAt = graceEnds(deps.policy, ctx.now);
    let updated = await setStatus(tx, row, 'leaver', ctx, { graceExpiresAt });
    await audit(tx, ctx, {
      action: 'leaver',
      address: row.address,
      org: home.ods,
      from: row.status,
      to: 'leaver',
      reason: `left ${home.ods}; grace period until ${graceExpiresAt.toISOString()}`,
    });
    await enqueue(tx, ctx, [
      {
        kind: 'leaver',
        audience: { type: 'holder', address: row.address },
        payload: { address: row.address, org: home.ods, graceExpiresAt: graceExpiresAt.toISOString() },
      },
    ]);

    let transferCompleted: { to: string } | null = null;
    const [transfer] = await tx
      .select()
      .from(transferRequests)
      .where(and(eq(transferRequests.accountId, row.id), eq(transferRequests.state, 'open')));
    if (transfer) {
      await tx
        .update(transferRequests)
        .set({ leaverAt: ctx.now })
        .where(eq(transferRequests.id, transfer.id));
      const target = transfer.acceptedAt ? await getOrg(tx, transfer.toOrg) : null;
      if (target && (await siteHasRoom(tx, deps, target))) {
        updated = await completeJoiner(
          tx,
          ctx,
          updated,
          home,
          target,
          `transfer accepted by ${transfer.acceptedBy}`,
        );
        transferCompleted = { to: target.ods };
      }
    }
    const finalHome = transferCompleted ? await getOrg(tx, updated.homeOrg) : home;
    return { outcome: 'leaver', account: accountView(updated, finalHome, deps.policy), transferCompleted };
  });
}

/** True when `org` is not a site, or is a site that may take one more account now. */
async function siteHasRoom(tx: Executor, deps: ServiceDeps, org: Organisation): Promise<boolean> {
  if (!isSiteKind(org.kind)) return true;
  try {
    await assertSiteCanTakeAccount(tx, deps.policy, org);
    return true;
  } catch (e) {
    if (e instanceof DomainError) return false;
    throw e;
  }
}

/** A holder asking to leave: their organisation's admins (NAS for GP locums) are asked to act. */
async function requestOwnLeaver(
  tx: Executor,
  deps: ServiceDeps,
  ctx: RequestContext,
  row: AccountRow,
  home: Organisation,
): Promise<LeaverResult> {
  const audience =
    home.kind === 'gp-locum'
      ? ({ type: 'mailbox', address: NAS_GP_LOCUM_MAILBOX, ods: home.ods } as const)
      : ({ type: 'org', ods: home.ods } as const);
  await enqueue(tx, ctx, [
    {
      kind: 'leaver-request',
      audience,
      payload: { address: row.address, org: home.ods, requestedBy: row.address },
    },
  ]);
  await audit(tx, ctx, {
    action: 'leaver-request',
    address: row.address,
    org: home.ods,
    from: row.status,
    to: row.status,
    reason: `holder asked to leave ${home.ods}`,
  });
  const sentTo =
    audience.type === 'mailbox'
      ? `the NAS GP-locum team (${audience.address})`
      : `${home.name} (${home.ods})`;
  return { outcome: 'requested', account: accountView(row, home, deps.policy), sentTo };
}

export type JoinerResult =
  | { outcome: 'joined'; account: AccountView; from: string }
  | { outcome: 'accepted'; account: AccountView; waitingFor: string };

export async function joiner(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { address: string; org: string },
): Promise<JoinerResult> {
  return deps.db.transaction(async (tx) => {
    const { principal, row, home } = await openForChange(tx, ctx, input.address);
    const target = await getOrg(tx, input.org);
    if (!principal.canAdminister(target)) {
      throw notYourOrganisation(`accept joiners into ${target.ods}`, target, 'a local administrator');
    }
    refuseSharedMailbox(row, 'move');
    // The receiving organisation's administrator learns the account's status and home only if
    // they may see its organisation; otherwise only why it cannot join.
    const seen = principal.canView(home);
    if (row.status === 'active' || row.status === 'pending') {
      const [transfer] = await tx
        .select()
        .from(transferRequests)
        .where(and(eq(transferRequests.accountId, row.id), eq(transferRequests.state, 'open')));
      if (transfer && transfer.toOrg === target.ods) {
        if (isSiteKind(target.kind)) await assertSiteCanTakeAccount(tx, deps.policy, target);
        await tx
          .update(transferRequests)
          .set({ acceptedAt: ctx.now, acceptedBy: principal.label })
          .where(eq(transferRequests.id, transfer.id));
        await audit(tx, ctx, {
          action: 'transfer-accepted',
          address: row.address,
          org: target.ods,
          from: row.status,
          to: row.status,
          reason: `${target.ods} accepted the transfer; it completes when ${home.ods} marks them as a leaver`,
        });
        return { outcome: 'accepted', account: accountView(row, home, deps.policy), waitingFor: home.ods };
      }
      if (!seen) {
        throw refused(
          'NOT_A_LEAVER',
          `${row.address} is not a leaver, so it cannot join ${target.ods}. Its current organisation must mark it as a leaver first, or the holder can ask with "transfer --to ${target.ods}".`,
        );
      }
      const since = row.homeOrg === target.ods ? ` at ${target.ods}` : ` at ${home.name} (${home.ods})`;
      throw refused(
        'NOT_A_LEAVER',
        `${row.address} is ${row.status}${since}, not a leaver, so it cannot join ${target.ods}${row.status === 'active' ? ` (it became active on ${isoDate(row.statusChangedAt)})` : ''}. Its current organisation must mark it as a leaver first ("leaver ${row.address}"), or the holder can ask with "transfer --to ${target.ods}".`,
        { status: row.status, org: row.homeOrg },
      );
    }
    if (!seen && (row.status === 'inactive' || row.status === 'deleted')) {
      throw refused(
        'GRACE_EXPIRED',
        `${row.address} can no longer join ${target.ods}: its grace period is over. Its organisation's local administrators or NAS can bring it back first; then it can be moved with leaver and joiner.`,
      );
    }
    if (row.status === 'inactive' || row.status === 'deleted') {
      throw refused(
        'GRACE_EXPIRED',
        `${row.address} is ${row.status}: its grace period is over, so it can no longer join ${target.ods}. ${row.status === 'inactive' ? `A local administrator of ${home.ods} or NAS can reactivate it ("reactivate ${row.address}")` : 'A NAS administrator can restore it within the restore window'}; then it can be moved with leaver and joiner.`,
      );
    }
    const graceExpiresAt = row.graceExpiresAt ?? ctx.now;
    if (ctx.now.getTime() >= graceExpiresAt.getTime()) {
      throw refused(
        'GRACE_EXPIRED',
        `The grace period of ${row.address} ended on ${graceExpiresAt.toISOString()}, so it can no longer join ${target.ods}; the next sweep marks it inactive. ${seen ? `A local administrator of ${home.ods}` : 'A local administrator of its organisation'} or NAS can then reactivate it.`,
      );
    }
    if (isSiteKind(target.kind)) await assertSiteCanTakeAccount(tx, deps.policy, target);
    const updated = await completeJoiner(tx, ctx, row, home, target, null);
    return { outcome: 'joined', account: accountView(updated, target, deps.policy), from: home.ods };
  });
}

/**
 * leaver → active in `target`: same address, same mailbox; restarts the activity clock. An account
 * whose first login is still due goes back to pending there instead (`joinerStatus`).
 */
async function completeJoiner(
  tx: Executor,
  ctx: RequestContext,
  row: AccountRow,
  from: Organisation,
  target: Organisation,
  note: string | null,
): Promise<AccountRow> {
  const to = joinerStatus(row.firstLoginAt);
  const updated = await setStatus(tx, row, to, ctx, {
    homeOrg: target.ods,
    graceExpiresAt: null,
    ...(to === 'active' ? { lastActivityAt: ctx.now } : {}),
  });
  const notes = [
    note,
    to === 'pending' ? 'first login still due: pending until the holder signs in and registers MFA' : null,
  ].filter((n): n is string => n !== null);
  await audit(tx, ctx, {
    action: 'joiner',
    address: row.address,
    org: target.ods,
    from: 'leaver',
    to,
    reason: `joined ${target.ods} from ${from.ods}${notes.map((n) => `; ${n}`).join('')}`,
  });
  await tx
    .update(transferRequests)
    .set({ state: 'completed', completedAt: ctx.now })
    .where(
      and(
        eq(transferRequests.accountId, row.id),
        eq(transferRequests.state, 'open'),
        eq(transferRequests.toOrg, target.ods),
      ),
    );
  await tx
    .update(transferRequests)
    .set({ state: 'superseded' })
    .where(and(eq(transferRequests.accountId, row.id), eq(transferRequests.state, 'open')));
  await enqueue(tx, ctx, [
    {
      kind: 'joiner',
      audience: { type: 'holder', address: row.address },
      payload: { address: row.address, from: from.ods, to: target.ods },
    },
  ]);
  return updated;
}

export async function recordActivity(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { address: string; at?: Date | undefined },
): Promise<AccountView> {
  const at = input.at ?? ctx.now;
  if (at.getTime() > ctx.now.getTime()) {
    throw invalid(
      'FUTURE_TIME',
      `Activity at ${at.toISOString()} is in the future; give the time it happened.`,
    );
  }
  return deps.db.transaction(async (tx) => {
    const { principal, row, home } = await openForChange(tx, ctx, input.address);
    if (!principal.canAdminister(home)) {
      throw notYourAccount(
        principal,
        row.address,
        home,
        (whose) => `record activity for ${whose} accounts`,
        'a local administrator',
      );
    }
    if (row.status === 'pending') {
      throw refused(
        'FIRST_LOGIN_NEEDED',
        `${row.address} is pending: its first login (password change and MFA) has not been recorded. Use "first-login ${row.address} --mfa".`,
      );
    }
    if (row.status === 'inactive' || row.status === 'deleted') {
      throw refused(
        'NOT_ACTIVE',
        `${row.address} is ${row.status}; activity does not bring it back. ${row.status === 'inactive' ? `Reactivate it with "reactivate ${row.address}"` : 'A NAS administrator can restore it with "reactivate"'} if the person still needs it.`,
      );
    }
    if (row.lastActivityAt && row.lastActivityAt.getTime() >= at.getTime()) {
      return accountView(row, home, deps.policy);
    }
    const [updated] = await tx
      .update(accounts)
      .set({ lastActivityAt: at })
      .where(eq(accounts.id, row.id))
      .returning();
    if (!updated) throw new Error(`account ${row.address} vanished while locked`);
    await audit(tx, ctx, {
      action: 'activity',
      address: row.address,
      org: home.ods,
      from: row.status,
      to: row.status,
      reason: `activity at ${at.toISOString()}`,
    });
    return accountView(updated, home, deps.policy);
  });
}

export async function reactivate(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { address: string },
): Promise<AccountView> {
  return deps.db.transaction(async (tx) => {
    const { principal, row, home } = await openForChange(tx, ctx, input.address);
    // Nothing about the account (not even its status) is told to someone who cannot act on it.
    if (!principal.canAdminister(home)) {
      throw notYourAccount(
        principal,
        row.address,
        home,
        (whose) => `reactivate ${whose} accounts`,
        'a local administrator',
      );
    }
    if (row.status === 'inactive') {
      const until = addDays(row.inactiveSince ?? ctx.now, deps.policy.retentionDays);
      if (ctx.now.getTime() >= until.getTime()) {
        throw refused(
          'RETENTION_ENDED',
          `${row.address} has been inactive since ${isoDate(row.inactiveSince ?? ctx.now)} and its ${deps.policy.retentionDays}-day retention ended on ${until.toISOString()}; the next sweep deletes it. After that a NAS administrator can still restore it within ${deps.policy.restoreDays} days.`,
        );
      }
    } else if (row.status === 'deleted') {
      if (!principal.isNational) {
        throw refused(
          'NAS_ONLY',
          `${row.address} has been deleted; only a NAS administrator can restore a deleted account. Contact NAS.`,
        );
      }
      if (row.purgedAt) {
        throw refused(
          'PURGED',
          `${row.address} was purged on ${isoDate(row.purgedAt)}: its restore window is over and it cannot come back. The address stays reserved; the person needs a new account ("provision").`,
        );
      }
      const until = addDays(row.deletedAt ?? ctx.now, deps.policy.restoreDays);
      if (ctx.now.getTime() >= until.getTime()) {
        throw refused(
          'RESTORE_WINDOW_ENDED',
          `${row.address} was deleted on ${isoDate(row.deletedAt ?? ctx.now)} and its ${deps.policy.restoreDays}-day restore window ended on ${until.toISOString()}; it will be purged. The person needs a new account ("provision").`,
        );
      }
    } else {
      throw refused(
        'NOT_INACTIVE',
        `${row.address} is ${row.status}, so there is nothing to reactivate: only inactive or deleted accounts can be reactivated.`,
      );
    }
    const updated = await setStatus(tx, row, 'active', ctx, {
      lastActivityAt: ctx.now,
      inactiveSince: null,
      deletedAt: null,
      graceExpiresAt: null,
    });
    await audit(tx, ctx, {
      action: row.status === 'deleted' ? 'restore' : 'reactivate',
      address: row.address,
      org: home.ods,
      from: row.status,
      to: 'active',
      reason: `${row.status === 'deleted' ? 'restored' : 'reactivated'} in ${home.ods}; activity clock restarted`,
    });
    return accountView(updated, home, deps.policy);
  });
}
