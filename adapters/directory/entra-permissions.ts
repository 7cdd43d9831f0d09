import { decodeJwt } from 'jose';
import type { DirectoryCredentialKind, GraphConfig } from '../../src/config.js';
import { refused } from '../../src/domain/errors.js';

/** A Microsoft Graph application permission the Entra directory needs, and why. */
export interface DirectoryPermission {
  /** As Entra spells it in API permissions and in the token's `roles` claim. */
  name: string;
  /** What the bot does with it, for the start-up refusal and the deploy guide. */
  for: string;
  /** Higher-privileged permissions that cover every call this one is needed for. */
  orHigher?: readonly string[];
  /** Needed only with this credential (DIRECTORY_CREDENTIAL). */
  onlyWith?: DirectoryCredentialKind;
}

/**
 * The application permissions DIRECTORY=entra needs, granted with admin consent (the Permissions
 * tables of Graph v1.0's create/update/delete user, restore and permanently delete a deleted
 * item, revokeSignInSessions, add/remove group member and temporaryAccessPassMethods). Deleting,
 * restoring and revoking sessions are covered by User.ReadWrite.All; Directory.ReadWrite.All is
 * not offered in its place because it cannot delete users.
 */
export const DIRECTORY_PERMISSIONS: readonly DirectoryPermission[] = [
  {
    name: 'User.ReadWrite.All',
    for: 'create, update, disable, enable, delete, restore and purge users, and revoke their sign-in sessions',
  },
  {
    name: 'User-LifeCycleInfo.ReadWrite.All',
    for: 'set and clear a leaver’s employeeLeaveDateTime',
  },
  {
    name: 'GroupMember.ReadWrite.All',
    for: 'add users to their organisation’s group and remove them from it',
    orHigher: ['Group.ReadWrite.All', 'Directory.ReadWrite.All'],
  },
  {
    name: 'UserAuthenticationMethod.ReadWrite.All',
    for: 'issue each new user a Temporary Access Pass',
    onlyWith: 'tap',
  },
];

/** The permissions needed with this credential. */
export const requiredPermissions = (credential: DirectoryCredentialKind): DirectoryPermission[] =>
  DIRECTORY_PERMISSIONS.filter((p) => p.onlyWith === undefined || p.onlyWith === credential);

/**
 * The application permissions an app-only access token carries: its `roles` claim (absent when
 * none is granted). Our own token, read to check the grant: no signature check is meant here,
 * nor possible (Graph's tokens are for Graph to verify).
 */
export function grantedRoles(accessToken: string, config: GraphConfig): string[] {
  let roles: unknown;
  try {
    roles = decodeJwt(accessToken).roles;
  } catch (e) {
    throw refused(
      'GRAPH_TOKEN_REFUSED',
      `The token Entra (${config.authorityUrl}) gave the app ${config.clientId} is not a JWT whose permissions can be read (${e instanceof Error ? e.message : String(e)}). Check GRAPH_AUTHORITY_URL.`,
    );
  }
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
}

/**
 * Refuses, naming each missing permission, what it is for and where to grant it, unless the
 * token's roles cover every permission the directory needs with this credential.
 */
export function assertDirectoryPermissions(
  roles: readonly string[],
  credential: DirectoryCredentialKind,
  config: GraphConfig,
): void {
  const granted = new Set(roles);
  const missing = requiredPermissions(credential).filter(
    (p) => !granted.has(p.name) && !(p.orHigher ?? []).some((h) => granted.has(h)),
  );
  if (missing.length === 0) return;
  const list = missing.map((p) => `${p.name} (to ${p.for})`).join('; ');
  throw refused(
    'DIRECTORY_PERMISSIONS_MISSING',
    `DIRECTORY=entra${credential === 'tap' ? ' with DIRECTORY_CREDENTIAL=tap' : ''}, but the app registration ${config.clientId} in tenant ${config.tenantId} lacks the Microsoft Graph application permission${missing.length > 1 ? 's' : ''} ${list}. Grant ${missing.length > 1 ? 'them' : 'it'} in the Entra admin centre: App registrations → the app → API permissions → Add a permission → Microsoft Graph → Application permissions, then Grant admin consent; then start the bot again. Its token grants ${roles.length > 0 ? [...roles].sort().join(', ') : 'no application permission'}.`,
    { missing: missing.map((p) => p.name) },
  );
}
