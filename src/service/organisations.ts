import { and, eq } from 'drizzle-orm';
import { organisations, roles } from '../../db/schema.js';
import { invalid, refused } from '../domain/errors.js';
import {
  type DsptStatus,
  dsptMeets,
  isSiteKind,
  type Organisation,
  type OrgKind,
} from '../domain/organisation.js';
import { actorLabel, isSystemActor, type RoleName } from '../domain/roles.js';
import { parseDirectoryGroup } from '../domain/validation.js';
import type { ServiceDeps } from './accounts.js';
import type { RequestContext } from './context.js';
import { audit, getOrg, loadPrincipal } from './store.js';

export async function addOrganisation(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { ods: string; name: string; kind: OrgKind; dspt?: DsptStatus | undefined },
): Promise<Organisation> {
  if (!isSystemActor(ctx.actor)) {
    throw refused(
      'OPERATOR_ONLY',
      'Only the operator adds organisations ("org add" on the operator CLI). Community sites are registered by NAS with "site register".',
    );
  }
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(organisations)
      .values({
        ods: input.ods,
        name: input.name,
        kind: input.kind,
        dspt: input.dspt ?? null,
        dsptUpdatedAt: input.dspt ? ctx.now : null,
        createdAt: ctx.now,
      })
      .onConflictDoNothing()
      .returning();
    if (!row) {
      const existing = await getOrg(tx, input.ods);
      throw refused(
        'ORG_EXISTS',
        `${input.ods} is already registered, as ${existing.name} (${existing.kind}). Nothing was changed.`,
      );
    }
    await audit(tx, ctx, {
      action: 'org-add',
      org: row.ods,
      reason: `${row.kind} "${row.name}"${row.dspt ? `, DSPT ${row.dspt}` : ''}`,
    });
    return {
      ods: row.ods,
      name: row.name,
      kind: row.kind,
      dspt: row.dspt,
      directoryGroup: row.directoryGroup,
    };
  });
}

export async function updateDspt(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { ods: string; dspt: DsptStatus },
): Promise<Organisation & { previous: DsptStatus | null; canRequestAccounts: boolean | null }> {
  return deps.db.transaction(async (tx) => {
    const principal = await loadPrincipal(tx, ctx);
    if (!principal.isNational) {
      throw refused(
        'NAS_ONLY',
        'Only NAS administrators and the operator record DSPT statuses. Contact NAS with the published status.',
      );
    }
    const org = await getOrg(tx, input.ods, true);
    await tx
      .update(organisations)
      .set({ dspt: input.dspt, dsptUpdatedAt: ctx.now })
      .where(eq(organisations.ods, org.ods));
    await audit(tx, ctx, {
      action: 'org-dspt',
      org: org.ods,
      reason: `DSPT ${org.dspt ?? 'none'} → ${input.dspt}`,
    });
    return {
      ...org,
      dspt: input.dspt,
      previous: org.dspt,
      canRequestAccounts: isSiteKind(org.kind)
        ? dsptMeets(input.dspt, deps.policy.dsptMinimum[org.kind])
        : null,
    };
  });
}

/** What `org group` did: the organisation, its group now and before, and whether that changed. */
export interface DirectoryGroupChange {
  ods: string;
  name: string;
  group: string;
  previous: string | null;
  changed: boolean;
}

/**
 * Records the directory group an organisation's accounts belong to. Only NAS and the operator
 * map organisations to groups: a wrong group would move every later starter into another
 * organisation's directory group. Setting the group it already has changes and audits nothing.
 */
export async function setDirectoryGroup(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { ods: string; group: string },
): Promise<DirectoryGroupChange> {
  // Checked here too, so no caller (a form, a script) can store a group in another spelling.
  const group = parseDirectoryGroup(input.group);
  return deps.db.transaction(async (tx) => {
    const principal = await loadPrincipal(tx, ctx);
    if (!principal.isNational) {
      throw refused(
        'NAS_ONLY',
        `Only NAS administrators and the operator set an organisation's directory group, since it decides which group every new account joins. Ask NAS to run "org group --ods ${input.ods} --group OBJECT_ID" with the Entra group's object id.`,
      );
    }
    const org = await getOrg(tx, input.ods, true);
    const previous = org.directoryGroup ?? null;
    const change = { ods: org.ods, name: org.name, group, previous };
    if (previous === group) return { ...change, changed: false };
    await tx.update(organisations).set({ directoryGroup: group }).where(eq(organisations.ods, org.ods));
    await audit(tx, ctx, {
      action: 'org-group',
      org: org.ods,
      reason: `directory group ${previous ?? 'none'} → ${group}`,
    });
    return { ...change, changed: true };
  });
}

export interface RoleChange {
  address: string;
  role: RoleName;
  org: string | null;
  changed: boolean;
}

async function checkGrant(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { address: string; role: RoleName; org?: string | undefined },
) {
  const principal = await loadPrincipal(deps.db, ctx);
  if (input.role === 'nas-admin' && input.org) {
    throw invalid('ORG_NOT_EXPECTED', 'nas-admin is a national role: leave out --org.');
  }
  if (input.role !== 'nas-admin' && !input.org) {
    throw invalid('ORG_REQUIRED', `${input.role} holds for one organisation: add --org ODS.`);
  }
  const org = input.org ? await getOrg(deps.db, input.org) : null;
  if (org?.kind === 'gp-locum') {
    throw refused(
      'NAS_ONLY',
      `${org.ods} is the NAS-managed home of freelance GP locums: only NAS administrators act on it, so no local role can be granted there. Grant nas-admin instead.`,
    );
  }
  if (input.role === 'site-owner' && org && !isSiteKind(org.kind)) {
    throw refused(
      'NOT_A_SITE',
      `${org.ods} is a ${org.kind}, not a community site: site-owner applies to pharmacies, dental practices and care homes.`,
    );
  }
  if (!principal.canGrant(input.role, org)) {
    throw refused(
      'GRANT_NOT_ALLOWED',
      input.role === 'manager'
        ? `Only a local administrator of ${input.org} or NAS can make someone a manager of ${input.org}.`
        : `Only NAS administrators and the operator can grant or revoke ${input.role}. Contact NAS.`,
    );
  }
  return org;
}

export async function grantRole(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { address: string; role: RoleName; org?: string | undefined },
): Promise<RoleChange> {
  const org = await checkGrant(deps, ctx, input);
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(roles)
      .values({
        address: input.address,
        role: input.role,
        org: org?.ods ?? '',
        grantedBy: actorLabel(ctx.actor),
        grantedAt: ctx.now,
      })
      .onConflictDoNothing()
      .returning();
    if (row) {
      await audit(tx, ctx, {
        action: 'grant',
        address: input.address,
        org: org?.ods ?? null,
        reason: `granted ${input.role}${org ? ` of ${org.ods}` : ''}`,
      });
    }
    return { address: input.address, role: input.role, org: org?.ods ?? null, changed: row !== undefined };
  });
}

export async function revokeRole(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { address: string; role: RoleName; org?: string | undefined },
): Promise<RoleChange> {
  const org = await checkGrant(deps, ctx, input);
  return deps.db.transaction(async (tx) => {
    const removed = await tx
      .delete(roles)
      .where(and(eq(roles.address, input.address), eq(roles.role, input.role), eq(roles.org, org?.ods ?? '')))
      .returning();
    if (removed.length > 0) {
      await audit(tx, ctx, {
        action: 'revoke',
        address: input.address,
        org: org?.ods ?? null,
        reason: `revoked ${input.role}${org ? ` of ${org.ods}` : ''}`,
      });
    }
    return { address: input.address, role: input.role, org: org?.ods ?? null, changed: removed.length > 0 };
  });
}
