import { and, asc, count, eq } from 'drizzle-orm';
import { accounts, organisations, roles } from '../../db/schema.js';
import { sharedMailboxAddress } from '../domain/address.js';
import { refused } from '../domain/errors.js';
import {
  DSPT_LABELS,
  type DsptStatus,
  dsptMeets,
  isSiteKind,
  type Organisation,
  type SiteKind,
} from '../domain/organisation.js';
import { CREATED_STATUS } from '../domain/transitions.js';
import { siteCqcLocation } from '../domain/validation.js';
import type { ServiceDeps } from './accounts.js';
import type { RequestContext } from './context.js';
import { type ManualStep, openSteps, recordSharedMailboxStep } from './manual-steps.js';
import type { ProvisionedDelivery } from './provisioning.js';
import { createPersonAccount, type NewPerson } from './provisioning.js';
import {
  type AccountView,
  accountView,
  audit,
  countsAgainstSiteCap,
  getOrg,
  loadPrincipal,
} from './store.js';

export interface SiteRegistration {
  site: Organisation;
  sharedMailbox: AccountView;
  /** With a directory connected: the shared mailbox is a step for NAS (Graph cannot make one). */
  manualStep: ManualStep | null;
  owner: AccountView;
  delivery: ProvisionedDelivery;
}

/** NAS registers a community site: the organisation, its shared mailbox and its owner, at once. */
export async function registerSite(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: {
    ods: string;
    kind: SiteKind;
    name: string;
    dspt: DsptStatus;
    /** A care home's CQC location ID: required for a care home, refused for any other kind. */
    cqcLocation?: string | null;
    owner: NewPerson;
  },
): Promise<SiteRegistration> {
  // Checked before anything is read, as the grammar does, for callers that bypass it.
  const cqcLocation = siteCqcLocation(input.kind, input.cqcLocation);
  return deps.db.transaction(async (tx) => {
    const principal = await loadPrincipal(tx, ctx);
    if (!principal.isNational) {
      throw refused(
        'NAS_ONLY',
        'Only NAS administrators register community sites. Ask the NAS admin team ("contact pharmacy", "contact dental" or "contact care-home").',
      );
    }
    const minimum = deps.policy.dsptMinimum[input.kind];
    if (!dsptMeets(input.dspt, minimum)) {
      throw refused(
        'DSPT_TOO_LOW',
        `${input.name} cannot be registered: its DSPT status is ${DSPT_LABELS[input.dspt]}, and ${input.kind} sites need ${DSPT_LABELS[minimum]} or better. Register once the site's DSPT assessment is published at that level.`,
        { dspt: input.dspt, minimum },
      );
    }
    const [org] = await tx
      .insert(organisations)
      .values({
        ods: input.ods,
        name: input.name,
        kind: input.kind,
        dspt: input.dspt,
        dsptUpdatedAt: ctx.now,
        cqcLocation,
        createdAt: ctx.now,
      })
      .onConflictDoNothing()
      .returning();
    if (!org) {
      throw refused(
        'ORG_EXISTS',
        `${input.ods} is already registered with the bot; "site show ${input.ods}" shows it.`,
      );
    }
    const site: Organisation = {
      ods: org.ods,
      name: org.name,
      kind: org.kind,
      dspt: org.dspt,
      cqcLocation: org.cqcLocation,
    };
    await audit(tx, ctx, {
      action: 'site-register',
      org: site.ods,
      reason: `${site.kind} "${site.name}", DSPT ${input.dspt}${cqcLocation ? `, CQC location ${cqcLocation}` : ''}`,
    });

    const mailboxAddress = sharedMailboxAddress(input.kind, input.ods);
    const [mailbox] = await tx
      .insert(accounts)
      .values({
        address: mailboxAddress,
        kind: 'shared',
        status: CREATED_STATUS.shared,
        homeOrg: site.ods,
        createdAt: ctx.now,
        statusChangedAt: ctx.now,
        lastActivityAt: ctx.now,
      })
      .onConflictDoNothing()
      .returning();
    if (!mailbox) {
      throw refused(
        'ADDRESS_TAKEN',
        `The shared mailbox address ${mailboxAddress} already existed once and is never reused. Contact NAS to register this site by hand.`,
      );
    }
    await audit(tx, ctx, {
      action: 'site-mailbox',
      address: mailbox.address,
      org: site.ods,
      from: null,
      to: CREATED_STATUS.shared,
      reason: `shared mailbox of ${site.ods}`,
    });
    const owner = await createPersonAccount(tx, deps, ctx, principal, site, input.owner, 'provision');
    await tx.insert(roles).values({
      address: owner.account.address,
      role: 'site-owner',
      org: site.ods,
      grantedBy: principal.label,
      grantedAt: ctx.now,
    });
    await audit(tx, ctx, {
      action: 'grant',
      address: owner.account.address,
      org: site.ods,
      reason: `granted site-owner of ${site.ods} at registration`,
    });
    return {
      site,
      sharedMailbox: accountView(mailbox, site, deps.policy),
      manualStep: deps.directoryEffects
        ? await recordSharedMailboxStep(tx, ctx, site, mailbox.address)
        : null,
      owner: accountView(owner.account, site, deps.policy),
      delivery: owner.delivery,
    };
  });
}

export async function requestSiteAccount(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: NewPerson & { site: string },
): Promise<{ account: AccountView; delivery: ProvisionedDelivery }> {
  return deps.db.transaction(async (tx) => {
    const principal = await loadPrincipal(tx, ctx);
    const site = await getOrg(tx, input.site);
    if (!isSiteKind(site.kind)) {
      throw refused(
        'NOT_A_SITE',
        `${site.ods} is a ${site.kind}, not a community site. Staff of trusts, ICBs and practices are created by their local administrators with "provision".`,
      );
    }
    if (!principal.canRequestSiteAccount(site)) {
      throw refused(
        'NOT_SITE_OWNER',
        `Only the owner of ${site.name} (${site.ods}) or NAS can request accounts for it. Ask the site's owner ("site show ${site.ods}").`,
      );
    }
    const made = await createPersonAccount(tx, deps, ctx, principal, site, input, 'site-request-account');
    return { account: accountView(made.account, site, deps.policy), delivery: made.delivery };
  });
}

export interface SiteSummary {
  site: Organisation;
  dsptMinimum: DsptStatus;
  canRequestAccounts: boolean;
  used: number;
  limit: number;
  owners: string[];
  accounts: Array<{ address: string; status: AccountView['status']; kind: 'person' | 'shared' }>;
  /** Steps the directory cannot take, not yet done (the shared mailbox). */
  manualSteps: ManualStep[];
}

export async function showSite(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { ods: string },
): Promise<SiteSummary> {
  const principal = await loadPrincipal(deps.db, ctx);
  const site = await getOrg(deps.db, input.ods);
  if (!isSiteKind(site.kind)) {
    throw refused(
      'NOT_A_SITE',
      `${site.ods} is a ${site.kind}, not a community site. Use "expiring --org ${site.ods}" to see its accounts.`,
    );
  }
  if (!principal.canView(site)) {
    throw refused(
      'NOT_YOUR_ORGANISATION',
      `Only the site's owner, its managers and NAS can see ${site.ods}'s accounts.`,
    );
  }
  const [used] = await deps.db.select({ n: count() }).from(accounts).where(countsAgainstSiteCap(site.ods));
  const owners = await deps.db
    .select({ address: roles.address })
    .from(roles)
    .where(and(eq(roles.org, site.ods), eq(roles.role, 'site-owner')));
  const rows = await deps.db
    .select({ address: accounts.address, status: accounts.status, kind: accounts.kind })
    .from(accounts)
    .where(eq(accounts.homeOrg, site.ods))
    .orderBy(asc(accounts.id));
  const dsptMinimum = deps.policy.dsptMinimum[site.kind];
  return {
    site,
    dsptMinimum,
    canRequestAccounts: dsptMeets(site.dspt, dsptMinimum),
    used: used?.n ?? 0,
    limit: deps.policy.siteAccountLimit,
    owners: owners.map((o) => o.address),
    accounts: rows,
    manualSteps: await openSteps(deps.db, site.ods),
  };
}
