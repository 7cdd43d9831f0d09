import type { User } from '@microsoft/microsoft-graph-types';
import type { GraphStandIn } from './graph-test-client.js';

/**
 * Makes a user in the Graph stand-in as an Entra administrator would (`POST /users`): its names
 * from the address's local part (`jane.doe` → Jane's given name `jane`, surname `doe`), enabled,
 * in `group` when given. Returns its object id.
 */
export async function directoryUser(
  g: GraphStandIn,
  upn: string,
  extra: User = {},
  group?: string,
): Promise<string> {
  const local = upn.split('@')[0] ?? upn;
  const [given, family] = local.split('.');
  const made: User = await g.client.api('/users').post({
    accountEnabled: true,
    displayName: local,
    givenName: given,
    surname: family,
    mailNickname: local.replaceAll('.', ''),
    userPrincipalName: upn,
    passwordProfile: { password: 'Welcome-2026-Xq!', forceChangePasswordNextSignIn: true },
    ...extra,
  });
  const id = String(made.id);
  if (group) g.graph.addToGroup(group, id);
  return id;
}
