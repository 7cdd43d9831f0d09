import { and, asc, eq, inArray } from 'drizzle-orm';
import { accounts, auditLog, organisations, roles, transferRequests } from '../../db/schema.js';
import { deadlineFrom, EXPIRING_CLOCKS, type ExpiryReason, REMINDS_ONLY } from '../domain/clocks.js';
import {
  type ContactAnswer,
  type ContactCategory,
  categoryForOrgKind,
  contactFor,
} from '../domain/contact.js';
import { invalid, refused } from '../domain/errors.js';
import { awaitsFirstLogin } from '../domain/preconditions.js';
import type { Status } from '../domain/status.js';
import { addDays } from '../domain/time.js';
import type { ServiceDeps } from './accounts.js';
import { clockColumn, dueBetweenSql, dueBySql } from './clock-sql.js';
import type { RequestContext } from './context.js';
import { type DirectoryState, directoryState } from './directory-effects.js';
import { type FirstLoginWatch, firstLoginWatch } from './directory-first-logins.js';
import { type AccountView, accountView, getAccount, getOrg, loadPrincipal } from './store.js';

export interface StatusResult {
  account: AccountView;
  transfer: { to: string; requestedAt: string; leaverDone: boolean; accepted: boolean } | null;
  /** Whether the directory has caught up with the account's changes, or why not. */
  directory: DirectoryState;
  /**
   * For a pending account, whether the Graph job watches the directory for its first login (and
   * when it last looked), or why it cannot; null otherwise, or when no Graph job has run.
   */
  firstLogin: FirstLoginWatch | null;
}

/** `status [ADDRESS]`: the holder's own account, or one the actor may see. */
export async function accountStatus(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { address?: string | undefined },
): Promise<StatusResult> {
  const { row, home } = await visibleAccount(deps, ctx, input.address ?? selfAddress(ctx, 'status ADDRESS'));
  const [transfer] = await deps.db
    .select()
    .from(transferRequests)
    .where(and(eq(transferRequests.accountId, row.id), eq(transferRequests.state, 'open')));
  return {
    account: accountView(row, home, deps.policy),
    transfer: transfer
      ? {
          to: transfer.toOrg,
          requestedAt: transfer.requestedAt.toISOString(),
          leaverDone: transfer.leaverAt !== null,
          accepted: transfer.acceptedAt !== null,
        }
      : null,
    directory: await directoryState(
      deps.db,
      row.id,
      deps.directoryEffects ?? false,
      home.directoryGroup ?? null,
    ),
    firstLogin: awaitsFirstLogin(row) ? await firstLoginWatch(deps) : null,
  };
}

export type { ExpiryReason };

/** One line of `expiring --json`. */
export interface Expiry {
  address: string;
  status: Status;
  org: string;
  reason: ExpiryReason;
  dueAt: string;
}

/** What ends within `within` days (overdue ones included), soonest first. */
export async function expiring(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { org?: string | undefined; within: number },
): Promise<Expiry[]> {
  const principal = await loadPrincipal(deps.db, ctx);
  let orgs: string[] | null;
  if (input.org) {
    const org = await getOrg(deps.db, input.org);
    if (!principal.canView(org)) {
      throw refused(
        'NOT_YOUR_ORGANISATION',
        `Only managers, local administrators and site owners of ${org.ods} (and NAS) can see what expires there.`,
      );
    }
    orgs = [org.ods];
  } else {
    const named = principal.visibleOrgs();
    orgs = null;
    if (named !== null) {
      const known = named.length
        ? await deps.db.select().from(organisations).where(inArray(organisations.ods, named))
        : [];
      orgs = known.filter((org) => principal.canView(org)).map((org) => org.ods);
    }
    if (orgs !== null && orgs.length === 0) {
      throw refused(
        'NO_ORGANISATION',
        'You manage no organisation, so there is no list to show. Your own clock is in "status".',
      );
    }
  }
  const horizon = addDays(ctx.now, input.within);
  const { policy } = deps;
  const rows: Expiry[] = [];
  for (const clock of EXPIRING_CLOCKS) {
    const due = REMINDS_ONLY.includes(clock.name)
      ? dueBetweenSql(clock, policy, ctx.now, horizon)
      : dueBySql(clock, policy, horizon);
    const found = await deps.db
      .select({
        address: accounts.address,
        status: accounts.status,
        org: accounts.homeOrg,
        start: clockColumn(clock),
      })
      .from(accounts)
      .where(orgs === null ? due : and(inArray(accounts.homeOrg, orgs), due));
    for (const r of found) {
      rows.push({
        address: r.address,
        status: r.status,
        org: r.org,
        reason: clock.name,
        dueAt: deadlineFrom(clock, r.start ?? new Date(0), policy).toISOString(),
      });
    }
  }
  return rows.sort((a, b) => a.dueAt.localeCompare(b.dueAt) || a.address.localeCompare(b.address));
}

/** One row of `audit ADDRESS --json`, oldest first. */
export interface AuditRow {
  at: string;
  actor: string;
  platform: string;
  action: string;
  from: Status | null;
  to: Status | null;
  reason: string | null;
  org: string | null;
}

export async function auditTrail(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { address?: string | undefined },
): Promise<AuditRow[]> {
  const address = input.address ?? selfAddress(ctx, 'audit ADDRESS');
  await visibleAccount(deps, ctx, address);
  const rows = await deps.db
    .select()
    .from(auditLog)
    .where(eq(auditLog.address, address))
    .orderBy(asc(auditLog.id));
  return rows.map((r) => ({
    at: r.at.toISOString(),
    actor: r.actor,
    platform: r.platform,
    action: r.action,
    from: r.fromStatus,
    to: r.toStatus,
    reason: r.reason,
    org: r.org,
  }));
}

export interface ContactResult extends ContactAnswer {
  /** For the asker's own organisation: its local administrators, when the bot knows them. */
  localAdmins: string[];
  org: string | null;
}

/** "Who do I contact?" for a category, or for the asker's own account when none is named. */
export async function contact(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { category?: ContactCategory | undefined },
): Promise<ContactResult> {
  let category = input.category;
  let org: string | null = null;
  if (ctx.actor.kind === 'person') {
    const [own] = await deps.db
      .select({ ods: organisations.ods, kind: organisations.kind })
      .from(accounts)
      .innerJoin(organisations, eq(organisations.ods, accounts.homeOrg))
      .where(eq(accounts.address, ctx.actor.address));
    if (own) {
      org = own.ods;
      category ??= categoryForOrgKind(own.kind);
    }
  }
  if (!category) {
    throw invalid(
      'CATEGORY_REQUIRED',
      'Say who you are: contact trust|icb|locum|agency|gp-locum|pharmacy|dental|care-home.',
    );
  }
  const admins = org
    ? await deps.db
        .select({ address: roles.address })
        .from(roles)
        .where(and(eq(roles.org, org), inArray(roles.role, ['local-admin', 'site-owner'])))
        .orderBy(asc(roles.address))
    : [];
  return { ...contactFor(category), localAdmins: admins.map((a) => a.address), org };
}

/** An account the actor may see: their own, or one of an organisation they manage. */
async function visibleAccount(deps: ServiceDeps, ctx: RequestContext, address: string) {
  const principal = await loadPrincipal(deps.db, ctx);
  const row = await getAccount(deps.db, address);
  const home = await getOrg(deps.db, row.homeOrg);
  if (!principal.isSelf(address) && !principal.canView(home)) {
    throw refused(
      'NOT_YOUR_ORGANISATION',
      `You can see your own account, and the accounts of organisations you manage; ${address} is not one of them. Ask its local administrators ("contact").`,
    );
  }
  return { row, home };
}

function selfAddress(ctx: RequestContext, usage: string): string {
  if (ctx.actor.kind === 'person') return ctx.actor.address;
  throw invalid('ADDRESS_REQUIRED', `Say which account: ${usage}.`);
}
