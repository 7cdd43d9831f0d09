import { and, eq } from 'drizzle-orm';
import type { Db } from '../../db/index.js';
import { accounts, organisations, roles, transferRequests } from '../../db/schema.js';
import { NAS_GP_LOCUM_MAILBOX } from '../domain/contact.js';
import { DomainError, invalid, refused } from '../domain/errors.js';
import { type GpLocumRoute, gpLocumHome } from '../domain/gp-locum.js';
import { isSiteKind, type Organisation } from '../domain/organisation.js';
import { refuseActivity } from '../domain/preconditions.js';
import { type GrantedRole, rolesOnLeaving } from '../domain/roles.js';
import {
  awaitsLeaver,
  decideFirstLogin,
  decideJoiner,
  decideLeaver,
  decideReactivation,
} from '../domain/transitions.js';
import type { Logger } from '../logger.js';
import type { RequestContext } from './context.js';
import type { ProvisionedDelivery } from './provisioning.js';
import {
  assertPlaceFor,
  assertSiteCanTakeAccount,
  createPersonAccount,
  type NewPerson,
  type ProvisionDeps,
} from './provisioning.js';
import {
  type AccountRow,
  type AccountView,
  accountView,
  apply,
  audit,
  type Executor,
  enqueue,
  getAccount,
  getOrg,
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
  delivery: ProvisionedDelivery;
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
export async function openForChange(tx: Executor, ctx: RequestContext, address: string) {
  const principal = await loadPrincipal(tx, ctx);
  const row = await getAccount(tx, address, true);
  const home = await getOrg(tx, row.homeOrg);
  return { principal, row, home };
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
    const decision = decideFirstLogin(row, { now: ctx.now, policy: deps.policy, home, mfa: input.mfa });
    const updated = await apply(tx, ctx, deps, row, decision);
    return accountView(updated, home, deps.policy);
  });
}

export type LeaverResult =
  | {
      outcome: 'leaver';
      account: AccountView;
      transferCompleted: { to: string } | null;
      /** The roles for the home organisation that leaving revoked (each audited). */
      rolesRevoked: GrantedRole[];
      /** Roles it keeps (other organisations', nas-admin): for an administrator to decide. */
      rolesKept: GrantedRole[];
      /** Marked for the GP-locum route: whom the holder asks, and which organisation they join. */
      gpLocum: { org: string; mailbox: string } | null;
    }
  | { outcome: 'requested'; account: AccountView; sentTo: string };

export async function leaver(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { address: string; gpLocum?: boolean | undefined },
): Promise<LeaverResult> {
  return deps.db.transaction(async (tx) => {
    const { principal, row, home } = await openForChange(tx, ctx, input.address);
    if (!principal.canMarkLeaver(home)) {
      // A holder's own request carries no route: their administrator chooses it when marking them.
      if (principal.isSelf(row.address) && awaitsLeaver(row) && !input.gpLocum) {
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
    const gpLocumOrg = input.gpLocum ? gpLocumHome(await gpLocumOrganisations(tx), row.address) : null;
    // A transfer to it that NAS has already accepted completes below as any transfer does: the
    // team has nothing left to claim.
    const gpLocum: GpLocumRoute | undefined =
      gpLocumOrg && !(await acceptedTransferTo(tx, row, gpLocumOrg))
        ? { org: gpLocumOrg, markedBy: principal.label }
        : undefined;
    const decision = decideLeaver(row, { now: ctx.now, policy: deps.policy, home, gpLocum });
    await assertPlaceFor(tx, deps.policy, home, decision);
    let updated = await apply(tx, ctx, deps, row, decision);

    const { revoke: rolesRevoked, keep: rolesKept } = await revokeLeaverRoles(tx, ctx, row.address, home.ods);
    if (gpLocum) await openGpLocumTransfer(tx, ctx, row, home, gpLocum);

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
        updated = await completeJoiner(tx, deps, ctx, updated, home, target, {
          seen: true,
          note: `transfer accepted by ${transfer.acceptedBy}`,
        });
        transferCompleted = { to: target.ods };
      }
    }
    const finalHome = transferCompleted ? await getOrg(tx, updated.homeOrg) : home;
    return {
      outcome: 'leaver',
      account: accountView(updated, finalHome, deps.policy),
      transferCompleted,
      rolesRevoked,
      rolesKept,
      gpLocum: gpLocum && !transferCompleted ? { org: gpLocum.org.ods, mailbox: NAS_GP_LOCUM_MAILBOX } : null,
    };
  });
}

/** True when the account's open transfer request is to `org` and `org` has accepted it. */
async function acceptedTransferTo(tx: Executor, row: AccountRow, org: Organisation): Promise<boolean> {
  const [open] = await tx
    .select({ toOrg: transferRequests.toOrg, acceptedAt: transferRequests.acceptedAt })
    .from(transferRequests)
    .where(and(eq(transferRequests.accountId, row.id), eq(transferRequests.state, 'open')));
  return open?.toOrg === org.ods && open.acceptedAt !== null;
}

/** Every organisation of kind gp-locum (NAS keeps exactly one). */
async function gpLocumOrganisations(tx: Executor): Promise<Organisation[]> {
  return tx
    .select({
      ods: organisations.ods,
      name: organisations.name,
      kind: organisations.kind,
      dspt: organisations.dspt,
      directoryGroup: organisations.directoryGroup,
    })
    .from(organisations)
    .where(eq(organisations.kind, 'gp-locum'))
    .limit(2);
}

/**
 * The GP-locum route's record: an open transfer request from the home organisation to the
 * GP-locum organisation (the holder's own, if they had asked for it), so that the NAS team's
 * joiner completes it and the end of grace supersedes it, as for any transfer. A request open to
 * another organisation is superseded: the administrator chose this route instead.
 */
async function openGpLocumTransfer(
  tx: Executor,
  ctx: RequestContext,
  row: AccountRow,
  home: Organisation,
  route: GpLocumRoute,
): Promise<void> {
  const [open] = await tx
    .select({ id: transferRequests.id, toOrg: transferRequests.toOrg })
    .from(transferRequests)
    .where(and(eq(transferRequests.accountId, row.id), eq(transferRequests.state, 'open')));
  if (open?.toOrg === route.org.ods) return;
  if (open) {
    await tx.update(transferRequests).set({ state: 'superseded' }).where(eq(transferRequests.id, open.id));
  }
  await tx.insert(transferRequests).values({
    accountId: row.id,
    fromOrg: home.ods,
    toOrg: route.org.ods,
    requestedBy: route.markedBy,
    requestedAt: ctx.now,
  });
}

/**
 * A leaver loses every role it holds for its home organisation, each audited with the leaver's
 * actor and why (rolesOnLeaving); the roles it keeps are returned for the reply.
 */
async function revokeLeaverRoles(tx: Executor, ctx: RequestContext, address: string, home: string) {
  const held = (
    await tx.select({ role: roles.role, org: roles.org }).from(roles).where(eq(roles.address, address))
  ).map((r) => ({ role: r.role, org: r.org === '' ? null : r.org }));
  const decided = rolesOnLeaving(held, home);
  for (const r of decided.revoke) {
    await tx
      .delete(roles)
      .where(and(eq(roles.address, address), eq(roles.role, r.role), eq(roles.org, r.org ?? '')));
    await audit(tx, ctx, {
      action: 'revoke',
      address,
      org: r.org,
      reason: `revoked ${r.role} of ${r.org}: marked as a leaver, who keeps no admin rights (NHSmail "Marking a user as a leaver")`,
    });
  }
  return decided;
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
    // The receiving organisation's administrator learns the account's status and home only if
    // they may see its organisation; otherwise only why it cannot join.
    const seen = principal.canView(home);
    if (awaitsLeaver(row) && row.kind === 'person') {
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
    }
    const decision = decideJoiner(row, { now: ctx.now, policy: deps.policy, home, target, seen, note: null });
    if (isSiteKind(target.kind)) await assertSiteCanTakeAccount(tx, deps.policy, target);
    const updated = await completeJoiner(tx, deps, ctx, row, home, target, { seen, note: null }, decision);
    return { outcome: 'joined', account: accountView(updated, target, deps.policy), from: home.ods };
  });
}

/**
 * The joiner's writes: the account moves (as the domain decided), and the transfer requests
 * waiting on it close: the one to `target` completes, any other is superseded.
 */
async function completeJoiner(
  tx: Executor,
  deps: ServiceDeps,
  ctx: RequestContext,
  row: AccountRow,
  from: Organisation,
  target: Organisation,
  asked: { seen: boolean; note: string | null },
  decided = decideJoiner(row, { now: ctx.now, policy: deps.policy, home: from, target, ...asked }),
): Promise<AccountRow> {
  const updated = await apply(tx, ctx, deps, row, decided);
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
    const refusal = refuseActivity(row);
    if (refusal) throw refusal;
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
    const decision = decideReactivation(row, {
      now: ctx.now,
      policy: deps.policy,
      home,
      national: principal.isNational,
    });
    await assertPlaceFor(tx, deps.policy, home, decision);
    const updated = await apply(tx, ctx, deps, row, decision);
    return accountView(updated, home, deps.policy);
  });
}
