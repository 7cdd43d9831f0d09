import { randomBytes } from 'node:crypto';
import type {
  PasswordProfile,
  TemporaryAccessPassAuthenticationMethod,
  User,
} from '@microsoft/microsoft-graph-types';
import type { Effect } from '../../src/domain/effects.js';
import type { GraphRequest, GraphResponse } from './entra-batch.js';
import { graphError, type StepPurpose } from './entra-outcomes.js';

/**
 * The bot's mark on a user it created. onPremisesExtensionAttributes.extensionAttribute15 rather
 * than employeeType: employeeType is an HR field ("Employee", "Contractor") that HR provisioning
 * may own and overwrite, which would silently disown a user; the extension attributes are writable
 * through Graph for cloud-only users (every user the bot makes) and mastered on-premises for synced
 * ones, so a synced account someone else made never carries it by a Graph write of ours. Read back
 * with $select=onPremisesExtensionAttributes.
 */
export const BOT_MARKER = 'nhsmail-bot';

/** A request with what it is for: a step of an effect. */
export interface Step extends GraphRequest, StepPurpose {}

type CreateUser = Extract<Effect, { kind: 'create-user' }>;

/** The permissions, as Graph's "Permissions" tables name them, least privileged first. */
export const NEEDS = {
  readUser: 'User.Read.All (or User.ReadWrite.All)',
  writeUser: 'User.ReadWrite.All',
  leaveDate: 'User.ReadWrite.All and User-LifeCycleInfo.ReadWrite.All',
  revoke: 'User.RevokeSessions.All (or User.ReadWrite.All)',
  deleteRestore: 'User.DeleteRestore.All (or User.ReadWrite.All)',
  members: 'GroupMember.ReadWrite.All',
  tap: 'UserAuthenticationMethod.ReadWrite.All',
  // Microsoft's "Update user": in app-only access, changing passwordProfile also needs a directory role.
  password: 'User.ReadWrite.All, and the app assigned the User Administrator role in Entra',
} as const;

const user = (idOrUpn: string) => `/users/${encodeURIComponent(idOrUpn)}`;

/** The local part of an address: its mailNickname. */
export const localPart = (address: string) => address.split('@')[0] ?? address;

/** A password no one is told: the holder of a TAP signs in with the pass, never with this. */
export function unrevealedPassword(): string {
  // 24 random bytes in base64url, plus one of each class Entra's complexity rule counts.
  return `${randomBytes(24).toString('base64url')}aZ9!`;
}

/** POST /users: the new user, enabled, with its password to change at first sign-in and the bot's mark. */
export function createUser(
  effect: CreateUser,
  companyName: string,
  password: string,
  forceChangeWithMfa: boolean,
): Step {
  const passwordProfile: PasswordProfile = {
    password,
    forceChangePasswordNextSignIn: true,
    forceChangePasswordNextSignInWithMfa: forceChangeWithMfa,
  };
  const body: User = {
    accountEnabled: true,
    displayName: `${effect.given} ${effect.family}`,
    givenName: effect.given,
    surname: effect.family,
    mailNickname: localPart(effect.address),
    userPrincipalName: effect.address,
    ...(effect.employeeId ? { employeeId: effect.employeeId } : {}),
    companyName,
    passwordProfile,
    onPremisesExtensionAttributes: { extensionAttribute15: BOT_MARKER },
  };
  return {
    method: 'POST',
    url: '/users',
    body,
    what: `create the user ${effect.address}`,
    needs: NEEDS.writeUser,
  };
}

/** Graph's answer to a create whose userPrincipalName another user holds (a deleted one frees it: entra-addresses.ts). */
export function isTakenAddress(response: GraphResponse): boolean {
  return (
    response.status === 400 &&
    graphError(response).message.includes('same value for property userPrincipalName already exists')
  );
}

/** GET /users/{upn}: its id, and the extension attributes where the bot's mark is. */
export function findUser(address: string): Step {
  return {
    method: 'GET',
    url: `${user(address)}?$select=id,userPrincipalName,onPremisesExtensionAttributes`,
    what: `look up the user ${address}`,
    needs: NEEDS.readUser,
  };
}

/** Whether a user read by findUser carries the bot's mark. */
export function madeByBot(body: unknown): boolean {
  const found = body as User | null;
  return found?.onPremisesExtensionAttributes?.extensionAttribute15 === BOT_MARKER;
}

/** PATCH /users/{id}; `what` names the change. */
export function updateUser(id: string, change: User, what: string, needs: string = NEEDS.writeUser): Step {
  return { method: 'PATCH', url: user(id), body: change, what, needs };
}

/**
 * PATCH a user the bot did not make but an operator adopted (`directory retry ID --adopt`): the
 * bot's mark, and the new password where the credential is one, in one write.
 */
export function adoptUser(id: string, address: string, password: string | null, withMfa: boolean): Step {
  const change: User = { onPremisesExtensionAttributes: { extensionAttribute15: BOT_MARKER } };
  if (password !== null) {
    change.passwordProfile = {
      password,
      forceChangePasswordNextSignIn: true,
      forceChangePasswordNextSignInWithMfa: withMfa,
    };
  }
  return updateUser(
    id,
    change,
    `adopt ${address} as the bot's${password !== null ? ' and reset its password' : ''}`,
    password !== null ? NEEDS.password : NEEDS.writeUser,
  );
}

/** PATCH the password of a user the bot made, so that the credential delivered is the one set. */
export function resetPassword(id: string, address: string, password: string, withMfa: boolean): Step {
  const passwordProfile: PasswordProfile = {
    password,
    forceChangePasswordNextSignIn: true,
    forceChangePasswordNextSignInWithMfa: withMfa,
  };
  return updateUser(id, { passwordProfile }, `reset the password of ${address}`, NEEDS.password);
}

/** POST /users/{id}/authentication/temporaryAccessPassMethods: a new pass replaces any before it. */
export function createTap(
  id: string,
  address: string,
  lifetimeInMinutes: number,
  startDateTime: string,
): Step {
  const body: TemporaryAccessPassAuthenticationMethod = { lifetimeInMinutes, startDateTime };
  return {
    method: 'POST',
    url: `${user(id)}/authentication/temporaryAccessPassMethods`,
    body,
    what: `issue a Temporary Access Pass to ${address}`,
    needs: NEEDS.tap,
  };
}

/**
 * POST /groups/{group}/members/$ref. The reference is absolute, to the Graph origin in use
 * (graph.microsoft.com, a national cloud's, or a stand-in's).
 */
export function addMember(graphOrigin: string, group: string, id: string, address: string): Step {
  return {
    method: 'POST',
    url: `/groups/${encodeURIComponent(group)}/members/$ref`,
    body: { '@odata.id': `${graphOrigin}/v1.0/directoryObjects/${id}` },
    what: `add ${address} to the group ${group}`,
    needs: NEEDS.members,
  };
}

/** Graph's answer when the user is in the group already: the membership is what was wanted. */
export function isAlreadyMember(response: GraphResponse): boolean {
  return (
    response.status === 400 && graphError(response).message.includes('added object references already exist')
  );
}

/** DELETE /groups/{group}/members/{id}/$ref. */
export function removeMember(group: string, id: string, address: string): Step {
  return {
    method: 'DELETE',
    url: `/groups/${encodeURIComponent(group)}/members/${encodeURIComponent(id)}/$ref`,
    what: `remove ${address} from the group ${group}`,
    needs: NEEDS.members,
  };
}

export function revokeSessions(id: string, address: string): Step {
  return {
    method: 'POST',
    url: `${user(id)}/revokeSignInSessions`,
    body: {},
    what: `revoke the sign-in sessions of ${address}`,
    needs: NEEDS.revoke,
  };
}

export function deleteUser(id: string, address: string): Step {
  return { method: 'DELETE', url: user(id), what: `delete ${address}`, needs: NEEDS.deleteRestore };
}

export function restoreUser(id: string, address: string): Step {
  return {
    method: 'POST',
    url: `/directory/deletedItems/${encodeURIComponent(id)}/restore`,
    body: {},
    what: `restore ${address} from the directory's deleted items`,
    needs: NEEDS.deleteRestore,
  };
}

export function purgeUser(id: string, address: string): Step {
  return {
    method: 'DELETE',
    url: `/directory/deletedItems/${encodeURIComponent(id)}`,
    what: `purge ${address} from the directory's deleted items`,
    needs: NEEDS.deleteRestore,
  };
}

/** GET /users/{id}: whether the user is active (after a restore that a retry repeats). */
export function getUser(id: string, address: string): Step {
  return { method: 'GET', url: `${user(id)}?$select=id`, what: `look up ${address}`, needs: NEEDS.readUser };
}
