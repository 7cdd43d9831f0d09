import { type Client, RetryHandlerOptions } from '@microsoft/microsoft-graph-client';
import type { User } from '@microsoft/microsoft-graph-types';
import type { Logger } from '../../src/logger.js';
import type { AddressDirectory } from '../../src/service/ports.js';
import { failedResponse } from './entra-batch.js';
import { judge } from './entra-outcomes.js';
import { NEEDS } from './entra-requests.js';

/**
 * Which candidate addresses Entra already holds, asked while the bot chooses a new address:
 * `GET /users?$filter=userPrincipalName in ('a@nhs.net','b@nhs.net')&$select=id,userPrincipalName`.
 *
 * - At most 15 values to an `in`: "When using the in operator, the request is limited to 15
 *   expressions in the filter clause by default" (learn.microsoft.com/graph/filter-query-parameter,
 *   and the query-parameter limitations in learn.microsoft.com/graph/known-issues); a 16th is
 *   refused with 400 Request_UnsupportedQuery "Too many child clauses specified in search filter
 *   expression containing 'OR' operators: 16. Max allowed: 15" (microsoftgraph/microsoft-graph-docs
 *   #21098). More candidates go 15 to a request, the requests side by side.
 * - A value is an OData string literal: single-quoted, a quote inside written twice.
 * - Soft-deleted users are not asked about: a deleted user does not keep its UPN. Microsoft's
 *   "Restore a user in the Microsoft 365 admin center" describes creating a new account with a
 *   deleted user's user name, and restore takes a newUserPrincipalName for "scenarios in which
 *   another user object is granted the target user object's UPN after that UPN was deleted"
 *   (learn.microsoft.com/microsoft-365/troubleshoot/active-directory/restore-deleted-user-accounts;
 *   graph/api/directory-deleteditems-restore). Entra frees it by prefixing the deleted user's UPN
 *   with its object id (reported, not in Microsoft's reference: woshub.com "How to Restore Deleted
 *   Users in Entra ID", onyx-dot-app/onyx#14074). The bot itself never reissues a deleted
 *   account's address: its own ledger keeps every address it ever gave.
 * - No retry and a deadline: the question is asked inside a command, and a throttled or slow
 *   directory must not hold it up. A failure rejects; the caller goes on without the answer.
 */

/** Graph's limit on the values of one `in` filter (without advanced query parameters). */
export const MAX_IN_VALUES = 15;
/** How long a lookup may take before the caller goes on without it. */
export const DEFAULT_LOOKUP_TIMEOUT_MS = 3_000;

/** `userPrincipalName in ('a@nhs.net','b@nhs.net')`, each value an OData string literal. */
export function upnInFilter(addresses: readonly string[]): string {
  const literals = addresses.map((a) => `'${a.replaceAll("'", "''")}'`);
  return `userPrincipalName in (${literals.join(',')})`;
}

export interface EntraAddressOptions {
  /** A Graph client with the app's token (adapters/graph/client.ts builds one). */
  client: Client;
  /** Default DEFAULT_LOOKUP_TIMEOUT_MS. */
  timeoutMs?: number;
  logger?: Logger;
}

export function createEntraAddressDirectory(options: EntraAddressOptions): AddressDirectory {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS;
  const logger = options.logger?.child({ component: 'entra-addresses' });
  return {
    async heldAddresses(candidates: readonly string[]): Promise<ReadonlySet<string>> {
      const wanted = [...new Set(candidates.map((c) => c.toLowerCase()))];
      if (wanted.length === 0) return new Set();
      const chunks: string[][] = [];
      for (let i = 0; i < wanted.length; i += MAX_IN_VALUES) chunks.push(wanted.slice(i, i + MAX_IN_VALUES));
      const signal = AbortSignal.timeout(timeoutMs);
      const answers = await deadline(
        signal,
        `Microsoft Graph did not say within ${timeoutMs} ms which addresses it holds.`,
        Promise.all(chunks.map((chunk) => holders(options.client, chunk, signal))),
      );
      const held = new Set(answers.flat().map((upn) => upn.toLowerCase()));
      logger?.debug(
        { asked: wanted.length, requests: chunks.length, held: held.size },
        'asked Entra for addresses',
      );
      return new Set(candidates.filter((c) => held.has(c.toLowerCase())));
    },
  };
}

/** The userPrincipalNames of the users holding any of `chunk` (at most MAX_IN_VALUES). */
async function holders(client: Client, chunk: readonly string[], signal: AbortSignal): Promise<string[]> {
  let body: unknown;
  try {
    body = await client
      .api('/users')
      // The Graph client puts query values into the URL as given: encoded here, once.
      .filter(encodeURIComponent(upnInFilter(chunk)))
      .select(['id', 'userPrincipalName'])
      .middlewareOptions([new RetryHandlerOptions(0, 0)])
      .option('signal', signal)
      .get();
  } catch (e) {
    const purpose = { what: `look up which of ${chunk.join(', ')} it holds`, needs: NEEDS.readUser };
    const failure = judge(failedResponse(e), purpose, []);
    throw new Error(failure.ok ? 'Microsoft Graph refused the address lookup.' : failure.error, { cause: e });
  }
  const users = (body as { value?: unknown } | null)?.value;
  if (!Array.isArray(users))
    throw new Error('Microsoft Graph answered the address lookup without a list of users.');
  return users
    .map((u) => (u as User | null)?.userPrincipalName)
    .filter((upn): upn is string => typeof upn === 'string');
}

/** `work`, or a rejection once `signal` aborts: a transport that ignores the signal cannot hold us. */
function deadline<T>(signal: AbortSignal, message: string, work: Promise<T>): Promise<T> {
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      signal.addEventListener('abort', () => reject(new Error(message)), { once: true });
    }),
  ]);
}
