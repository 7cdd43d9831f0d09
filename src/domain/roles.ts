import type { OrgKind } from './organisation.js';

export const ROLE_NAMES = ['nas-admin', 'local-admin', 'site-owner', 'manager'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

/** nas-admin is national; the others hold for one organisation. */
export interface RoleGrant {
  role: RoleName;
  org: string | null;
}

/**
 * Who is acting: the operator (the CLI by default), the scheduler (cron sweeps), a person known
 * by their verified @nhs.net address, or a guest: a chat user with no verified address yet, who
 * may ask for help and contacts only. The operator and the scheduler hold every right.
 */
export type Actor =
  | { kind: 'operator' }
  | { kind: 'scheduler' }
  | { kind: 'person'; address: string }
  | { kind: 'guest'; label: string };

export const actorLabel = (actor: Actor): string =>
  actor.kind === 'person' ? actor.address : actor.kind === 'guest' ? actor.label : actor.kind;

/** The operator and the scheduler: the bot's own hands, with every right. */
export const isSystemActor = (actor: Actor): boolean =>
  actor.kind === 'operator' || actor.kind === 'scheduler';

interface OrgRef {
  ods: string;
  kind: OrgKind;
}

/** A role as `link` weighs it: national (nas-admin) or held for an organisation of a known kind. */
export interface HeldRole {
  role: RoleName;
  org: OrgRef | null;
}

/**
 * The address a chat user would act as once linked: where it is homed (null when the bot manages
 * no such account) and every role it holds.
 */
export interface LinkTarget {
  home: OrgRef | null;
  roles: readonly HeldRole[];
}

/** Why `link` is refused; each names the rule in DESIGN.md's "Who may do what". */
export type LinkVerdict = 'allowed' | 'not-your-organisation' | 'beyond-your-roles';

/**
 * An actor with the roles they hold: every "may they?" question of DESIGN.md's
 * "Who may do what" table is answered here, with no I/O.
 */
export class Principal {
  constructor(
    readonly actor: Actor,
    readonly roles: readonly RoleGrant[],
  ) {}

  get label(): string {
    return actorLabel(this.actor);
  }

  get isOperator(): boolean {
    return isSystemActor(this.actor);
  }

  /** The operator and NAS administrators act everywhere. */
  get isNational(): boolean {
    return this.isOperator || this.roles.some((r) => r.role === 'nas-admin');
  }

  isSelf(address: string): boolean {
    return this.actor.kind === 'person' && this.actor.address === address;
  }

  holds(role: RoleName, ods: string): boolean {
    return this.roles.some((r) => r.role === role && r.org === ods);
  }

  /** GP locums are homed in a NAS-managed organisation: only NAS acts on them. */
  private localRolesApply(org: OrgRef): boolean {
    return org.kind !== 'gp-locum';
  }

  /** status, expiring, audit, site show for the organisation's accounts. */
  canView(org: OrgRef): boolean {
    if (this.isNational) return true;
    if (!this.localRolesApply(org)) return false;
    return (
      this.holds('manager', org.ods) ||
      this.holds('local-admin', org.ods) ||
      this.holds('site-owner', org.ods)
    );
  }

  /** provision, first-login, leaver, reactivate, joiner into, transfer staff, link, grant manager. */
  canAdminister(org: OrgRef): boolean {
    if (this.isNational) return true;
    return this.localRolesApply(org) && this.holds('local-admin', org.ods);
  }

  /** A manager may ask the organisation's local administrators to disable an account (long absence). */
  canRequestDisable(org: OrgRef): boolean {
    return this.canAdminister(org) || (this.localRolesApply(org) && this.holds('manager', org.ods));
  }

  /** Local administrators, and a site's owner for the site's own accounts. */
  canMarkLeaver(org: OrgRef): boolean {
    return this.canAdminister(org) || (this.localRolesApply(org) && this.holds('site-owner', org.ods));
  }

  canRequestSiteAccount(site: OrgRef): boolean {
    return this.isNational || this.holds('site-owner', site.ods);
  }

  canSubscribe(org: OrgRef): boolean {
    return this.canView(org);
  }

  /** Organisations this actor sees without naming one; null means every organisation. */
  visibleOrgs(): string[] | null {
    if (this.isNational) return null;
    return [...new Set(this.roles.flatMap((r) => (r.org ? [r.org] : [])))];
  }

  /**
   * `link` hands a chat user everything the address may do, so nobody may link to more than they
   * hold. A local administrator links only an address homed in an organisation they administer
   * whose every role is one they hold themselves, in the same organisation (or a manager role where
   * they administer, which they may grant): never nas-admin, never a role elsewhere. The same test decides
   * whether they may change an existing link, applied to the address it points to now. NAS and the
   * operator link anyone.
   */
  mayLink(target: LinkTarget): LinkVerdict {
    if (this.isNational) return 'allowed';
    if (!target.home || !this.canAdminister(target.home)) return 'not-your-organisation';
    const within = (held: HeldRole) =>
      held.role !== 'nas-admin' &&
      held.org !== null &&
      this.localRolesApply(held.org) &&
      (this.holds(held.role, held.org.ods) || (held.role === 'manager' && this.canAdminister(held.org)));
    return target.roles.every(within) ? 'allowed' : 'beyond-your-roles';
  }

  canGrant(role: RoleName, org: OrgRef | null): boolean {
    if (this.isNational) return true;
    return role === 'manager' && org !== null && this.canAdminister(org);
  }
}

/** A role as granted: its name and organisation's ODS code (null for nas-admin, which has none). */
export interface GrantedRole {
  role: RoleName;
  org: string | null;
}

/**
 * What marking a leaver does to the roles its address holds (issue 16: NHSmail's "Marking a user
 * as a leaver" revokes all admin permissions). Every role for the home organisation goes; roles
 * for other organisations and nas-admin stay, reported for an administrator to decide. A joiner
 * restores none.
 */
export function rolesOnLeaving(
  held: readonly GrantedRole[],
  home: string,
): { revoke: GrantedRole[]; keep: GrantedRole[] } {
  const revoke = held.filter((r) => r.role !== 'nas-admin' && r.org === home);
  return { revoke, keep: held.filter((r) => !revoke.includes(r)) };
}
