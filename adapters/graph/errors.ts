import type { GraphError } from '@microsoft/microsoft-graph-client';
import type { GraphConfig } from '../../src/config.js';
import { type DomainError, refused } from '../../src/domain/errors.js';

/** The Microsoft Graph application permissions the poller needs, granted with admin consent. */
export const REQUIRED_PERMISSIONS = 'AuditLog.Read.All and User.Read.All';

/** Graph's code when the tenant has no Entra ID P1/P2 licence, which signInActivity requires. */
const NO_PREMIUM_LICENCE = 'Authentication_RequestFromNonPremiumTenantOrB2CTenant';

/** The first line of a message from Entra or Graph, kept short enough for one log line. */
const brief = (message: string | null | undefined) => (message ?? '').split(/\r?\n/)[0]?.slice(0, 300) ?? '';

/** Retries of a throttled or unavailable Graph request (each waits Retry-After, at most 180 s). */
export const MAX_RETRIES = 5;

/** Translates a Graph failure, once, into a refusal that says what to do about it. */
export function graphRefusal(e: GraphError): DomainError {
  const what = `HTTP ${e.statusCode}${e.code ? ` ${e.code}` : ''}: ${brief(e.message)}`;
  if (e.code === NO_PREMIUM_LICENCE) {
    return refused(
      'GRAPH_LICENCE_REQUIRED',
      `Microsoft Graph will not give users' signInActivity in this tenant (${what}): it needs Microsoft Entra ID P1 or P2.`,
    );
  }
  if (e.statusCode === 401 || e.statusCode === 403) {
    return refused(
      'GRAPH_PERMISSION_DENIED',
      `Microsoft Graph refused to list users with their sign-in activity (${what}). Grant the app registration GRAPH_CLIENT_ID the Microsoft Graph application permissions ${REQUIRED_PERMISSIONS}, with admin consent (signInActivity also needs Microsoft Entra ID P1 or P2).`,
    );
  }
  if (e.statusCode === 429 || e.statusCode === 503 || e.statusCode === 504) {
    return refused(
      'GRAPH_THROTTLED',
      `Microsoft Graph still answered ${what} after ${MAX_RETRIES} retries that honoured Retry-After. The pages already read are recorded; the next run reads them all again.`,
    );
  }
  if (e.statusCode === -1) {
    return refused(
      'GRAPH_UNREACHABLE',
      `Microsoft Graph (GRAPH_BASE_URL) could not be reached: ${brief(e.message)}.`,
    );
  }
  return refused('GRAPH_ERROR', `Microsoft Graph answered ${what}.`);
}

/** MSAL's codes for an authority it could not reach or read (DNS, TLS, proxy, wrong URL or tenant). */
const UNREACHABLE = new Set(['endpoints_resolution_error', 'network_error', 'openid_config_error']);

/** Translates an MSAL failure (wrong secret, unknown tenant, unreachable authority) into a refusal. */
export function tokenRefusal(e: unknown, config: GraphConfig): DomainError {
  const code = typeof e === 'object' && e !== null && 'errorCode' in e ? String(e.errorCode) : '';
  const message =
    typeof e === 'object' && e !== null && 'errorMessage' in e
      ? String(e.errorMessage)
      : e instanceof Error
        ? e.message
        : String(e);
  const detail = code ? `${code}: ${brief(message)}` : brief(message);
  const check = UNREACHABLE.has(code)
    ? 'Check GRAPH_AUTHORITY_URL and GRAPH_TENANT_ID, and that this host reaches the authority over HTTPS with a trusted certificate.'
    : 'Check GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET (client secrets expire).';
  return refused(
    'GRAPH_TOKEN_REFUSED',
    `Could not get a Microsoft Graph token for the app ${config.clientId} in tenant ${config.tenantId} from ${config.authorityUrl} (${detail}). ${check}`,
  );
}
