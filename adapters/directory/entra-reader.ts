import { setTimeout as sleep } from 'node:timers/promises';
import { type Client, GraphError } from '@microsoft/microsoft-graph-client';
import type {
  OnPremisesExtensionAttributes,
  User,
  UserRegistrationDetails,
} from '@microsoft/microsoft-graph-types';
import type { DirectoryConfig } from '../../src/config.js';
import { refused } from '../../src/domain/errors.js';
import type { Logger } from '../../src/logger.js';
import type {
  DirectoryEntry,
  DirectoryReader,
  DirectoryReadStep,
  DirectoryUser,
} from '../../src/service/directory-reader.js';
import { MIRRORED_PROPERTIES } from '../../src/service/directory-reader.js';
import { createDirectoryGraphClient, type GraphTransport } from '../graph/client.js';
import { graphRefusal, MAX_RETRIES } from '../graph/errors.js';
import { PAGE_SIZE } from '../graph/sign-ins.js';
import { GraphBatcher, type GraphResponse } from './entra-batch.js';

/**
 * Reads Entra back through Microsoft Graph v1.0 (issue 15):
 * - Users, a round at a time: `GET /users/delta?$select=…`, following `@odata.nextLink` until the
 *   page that carries `@odata.deltaLink`; the next round starts from that link and gives only what
 *   changed, removed users as `{ id, "@removed": { reason } }` ("changed": deleted into deleted
 *   items, "deleted": permanently; graph/delta-query-users). `$top` is not supported on user delta,
 *   so Graph chooses the page size. A token Graph no longer knows (seven days for directory
 *   objects, or a reset) is answered 410 Gone, or a 4xx with code syncStateNotFound or
 *   resyncRequired (graph/delta-query-overview, graph/errors): that ends the round with `resync`.
 * - Sign-ins: `GET /users?$select=id,signInActivity&$top=…`, paged as the sign-in poller pages it
 *   (adapters/graph/sign-ins.ts, whose PAGE_SIZE says why 500). Graph leaves signInActivity out
 *   for someone who never signed in. Only lastSuccessfulSignInDateTime counts: the others record
 *   attempts, which do not show that the person got in.
 * - Group members: `GET /groups/{id}/members/microsoft.graph.user?$select=id&$top=999`, the cast
 *   leaving out devices and nested groups (graph/api/group-list-members: direct members only, `$top`
 *   up to 999, paged with `@odata.nextLink`). It needs GroupMember.Read.All (or Group.Read.All,
 *   Directory.Read.All), which the ReadWrite permissions the directory writes with include.
 * - MFA: `GET /reports/authenticationMethods/userRegistrationDetails?$filter=id eq '…'`, one request
 *   per user, 20 to a `$batch` (entra-batch.ts). The report takes `$filter`, not `$select`, and its
 *   documented filters do not include `in`, so ids cannot go 15 to a request as addresses do.
 *   Graph throttles each request of a batch on its own and the Graph client retries only whole
 *   requests, so a throttled item is asked again here, after its Retry-After (graph/json-batching,
 *   graph/throttling), up to MAX_RETRIES times as the client does.
 * - Both reports need Entra ID P1/P2 and AuditLog.Read.All; their absence is refused as the
 *   poller refuses it (graph/errors.ts: GRAPH_LICENCE_REQUIRED, GRAPH_PERMISSION_DENIED). The
 *   delta needs only User.Read.All, and its refusal says so.
 * Requests follow Graph's own links as given: the Graph client sends its token only to Graph's
 * hosts and GRAPH_BASE_URL's (adapters/graph/client.ts, customHosts).
 */

/** What a round asks Graph for; `id` comes whether asked or not. */
export const DELTA_SELECT = [
  'id',
  'userPrincipalName',
  'givenName',
  'surname',
  'displayName',
  'accountEnabled',
  'companyName',
  'employeeId',
  'onPremisesExtensionAttributes',
] as const satisfies readonly (keyof User)[];
export const SIGN_IN_SELECT = ['id', 'signInActivity'] as const satisfies readonly (keyof User)[];
export const REGISTRATION_DETAILS = '/reports/authenticationMethods/userRegistrationDetails';

/** The most members Graph gives a page (graph/api/group-list-members). */
const MEMBERS_PAGE_SIZE = 999;
/** Graph's codes for a delta token it no longer knows (graph/errors). */
const RESYNC_CODES = new Set(['syncstatenotfound', 'resyncrequired']);
/** Answers worth asking again after Retry-After. */
const RETRYABLE = new Set([429, 503, 504]);
/** The longest Retry-After honoured, and the wait when none is given (as adapters/graph/client.ts). */
const MAX_WAIT_SECONDS = 180;
const DEFAULT_WAIT_SECONDS = 3;

type DeltaItem = Pick<User, (typeof DELTA_SELECT)[number]> & { '@removed'?: { reason?: string } };
interface Page<T> {
  value?: T[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

export interface EntraReaderOptions {
  /** A Graph client with the app's token and the retry handler (adapters/graph/client.ts). */
  client: Client;
  logger?: Logger;
}

export function createEntraReader(options: EntraReaderOptions): DirectoryReader {
  const { client } = options;
  const logger = options.logger?.child({ component: 'entra-reader' });
  const batcher = new GraphBatcher(client, logger);
  return {
    async *readUsers(deltaLink?: string | null): AsyncIterable<DirectoryReadStep> {
      let url = deltaLink ?? null;
      let pages = 0;
      for (;;) {
        let page: Page<DeltaItem>;
        try {
          page = url
            ? await client.api(url).get()
            : await client
                .api('/users/delta')
                .select([...DELTA_SELECT])
                .get();
        } catch (e) {
          if (e instanceof GraphError && isResync(e)) {
            logger?.warn(
              { status: e.statusCode, code: e.code, pages },
              'Graph no longer knows the delta token',
            );
            yield { kind: 'resync', reason: `HTTP ${e.statusCode} ${e.code ?? ''}: ${e.message}`.trim() };
            return;
          }
          throw e instanceof GraphError ? deltaRefusal(e) : e;
        }
        pages++;
        if (!Array.isArray(page?.value)) throw unexpected('a users/delta page without a list of users');
        yield { kind: 'page', entries: page.value.map(entryOf) };
        const next = page['@odata.nextLink'];
        if (next !== undefined) {
          if (next === url) throw unexpected('the same next page twice; stopped to avoid a loop');
          url = next;
          continue;
        }
        const done = page['@odata.deltaLink'];
        if (done === undefined)
          throw unexpected('a users/delta page with neither a nextLink nor a deltaLink');
        logger?.debug({ pages, changes: deltaLink != null }, 'read a round of users/delta');
        yield { kind: 'done', deltaLink: done };
        return;
      }
    },

    async signIns(pageSize = PAGE_SIZE): Promise<ReadonlyMap<string, Date | null>> {
      const out = new Map<string, Date | null>();
      const first = () =>
        client
          .api('/users')
          .select([...SIGN_IN_SELECT])
          .top(pageSize)
          .get();
      for await (const users of listed<Pick<User, 'id' | 'signInActivity'>>(
        client,
        first,
        'a users page',
        graphRefusal,
      )) {
        for (const user of users) {
          if (typeof user.id !== 'string') continue;
          out.set(user.id, instant(user.signInActivity?.lastSuccessfulSignInDateTime));
        }
      }
      return out;
    },

    async groupMembers(groupId: string, pageSize = MEMBERS_PAGE_SIZE): Promise<ReadonlySet<string>> {
      const out = new Set<string>();
      const first = () =>
        client
          .api(`/groups/${encodeURIComponent(groupId)}/members/microsoft.graph.user`)
          .select(['id'])
          .top(pageSize)
          .get();
      const refusal = (e: GraphError) =>
        e.statusCode === 404
          ? refused(
              'GRAPH_ERROR',
              `Microsoft Graph has no group ${groupId}. Check the organisation's group ("org group --ods ODS --group OBJECT_ID") against the group's Object ID in the Entra admin centre.`,
            )
          : graphRefusal(e);
      for await (const users of listed<Pick<User, 'id'>>(client, first, 'a group members page', refusal)) {
        for (const user of users) if (typeof user.id === 'string') out.add(user.id);
      }
      return out;
    },

    async deletedUsers(pageSize = MEMBERS_PAGE_SIZE): Promise<ReadonlySet<string>> {
      const out = new Set<string>();
      // graph/api/directory-deleteditems-list: the cast lists deleted users only, `$top` up to 999.
      const first = () =>
        client.api('/directory/deletedItems/microsoft.graph.user').select(['id']).top(pageSize).get();
      for await (const users of listed<Pick<User, 'id'>>(
        client,
        first,
        'a deleted users page',
        deltaRefusal,
      )) {
        for (const user of users) if (typeof user.id === 'string') out.add(user.id);
      }
      return out;
    },

    async mfaRegistered(ids: readonly string[]): Promise<ReadonlyMap<string, boolean>> {
      const out = new Map<string, boolean>();
      let pending = [...new Set(ids)];
      for (let retry = 0; pending.length > 0; retry++) {
        const asked = pending;
        const answers = await Promise.all(
          asked.map((id) =>
            batcher.send({
              method: 'GET',
              url: `${REGISTRATION_DETAILS}?$filter=${encodeURIComponent(idFilter(id))}`,
            }),
          ),
        );
        pending = [];
        let wait = 0;
        answers.forEach((answer, i) => {
          const id = asked[i] ?? '';
          if (RETRYABLE.has(answer.status) && retry < MAX_RETRIES) {
            pending.push(id);
            wait = Math.max(wait, retryAfter(answer));
            return;
          }
          if (answer.status < 200 || answer.status >= 300) throw graphRefusal(asGraphError(answer));
          const value = (answer.body as Page<UserRegistrationDetails> | null)?.value;
          if (!Array.isArray(value)) throw unexpected('userRegistrationDetails without a list');
          out.set(
            id,
            value.some((r) => r.id === id && r.isMfaRegistered === true),
          );
        });
        if (pending.length > 0) {
          logger?.debug({ throttled: pending.length, wait }, 'Graph throttled MFA report requests');
          await sleep(wait * 1000);
        }
      }
      return out;
    },
  };
}

/**
 * The directory the command line reads (`directory import`) when DIRECTORY=entra, with the app
 * registration the directory writes with; none otherwise, and the command says what to set.
 */
export function configuredDirectoryReader(
  config: DirectoryConfig | null,
  logger: Logger,
  transport?: GraphTransport,
): DirectoryReader | undefined {
  if (!config) return undefined;
  return createEntraReader({ client: createDirectoryGraphClient(config.graph, logger, transport), logger });
}

/** `id eq '…'`, the id an OData string literal. */
export function idFilter(id: string): string {
  return `id eq '${id.replaceAll("'", "''")}'`;
}

/** Seconds to wait before asking a throttled request again. */
function retryAfter(answer: GraphResponse): number {
  const seconds = Number(answer.headers['retry-after']);
  return Number.isFinite(seconds) && seconds >= 0
    ? Math.min(seconds, MAX_WAIT_SECONDS)
    : DEFAULT_WAIT_SECONDS;
}

/** A delta refused: its permission is User.Read.All alone; everything else as the poller words it. */
function deltaRefusal(e: GraphError) {
  if (e.statusCode === 401 || e.statusCode === 403) {
    return refused(
      'GRAPH_PERMISSION_DENIED',
      `Microsoft Graph refused to read users through /users/delta (HTTP ${e.statusCode}${e.code ? ` ${e.code}` : ''}). Grant the app registration GRAPH_CLIENT_ID the Microsoft Graph application permission User.Read.All, with admin consent.`,
    );
  }
  return graphRefusal(e);
}

function isResync(e: GraphError): boolean {
  return e.statusCode === 410 || RESYNC_CODES.has((e.code ?? '').toLowerCase());
}

function entryOf(item: DeltaItem): DirectoryEntry {
  const id = String(item.id);
  const removed = item['@removed'];
  if (removed !== undefined) {
    // Graph documents "changed" and "deleted"; anything else is taken as the permanent one.
    return { kind: 'removed', id, reason: removed.reason === 'changed' ? 'changed' : 'deleted' };
  }
  const user: DirectoryUser = {
    kind: 'user',
    id,
    userPrincipalName: item.userPrincipalName ?? null,
    givenName: item.givenName ?? null,
    surname: item.surname ?? null,
    displayName: item.displayName ?? null,
    accountEnabled: item.accountEnabled ?? null,
    companyName: item.companyName ?? null,
    employeeId: item.employeeId ?? null,
    extensionAttributes: extensionAttributes(item.onPremisesExtensionAttributes),
    omitted: MIRRORED_PROPERTIES.filter((name) => item[name] === undefined),
  };
  return user;
}

function extensionAttributes(
  attributes: OnPremisesExtensionAttributes | null | undefined,
): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (typeof value === 'string' && value !== '') out[name] = value;
  }
  return out;
}

function instant(value: string | null | undefined): Date | null {
  if (!value) return null;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? null : at;
}

/** A batch item's failure as the GraphError a request on its own would have raised. */
function asGraphError(answer: GraphResponse): GraphError {
  const error = (answer.body as { error?: { code?: string; message?: string } } | null)?.error;
  const e = new GraphError(answer.status === 0 ? -1 : answer.status, error?.message ?? '');
  e.code = error?.code ?? null;
  return e;
}

const unexpected = (what: string) => refused('GRAPH_ERROR', `Microsoft Graph answered with ${what}.`);

/**
 * The pages of a Graph list: the first request, then each `@odata.nextLink` as Graph gives it,
 * until a page has none. `refusal` turns Graph's refusal into the error the caller names.
 */
async function* listed<T>(
  client: Client,
  first: () => Promise<Page<T>>,
  what: string,
  refusal: (e: GraphError) => Error,
): AsyncIterable<T[]> {
  let url: string | undefined;
  do {
    let page: Page<T>;
    try {
      page = url ? await client.api(url).get() : await first();
    } catch (e) {
      throw e instanceof GraphError ? refusal(e) : e;
    }
    if (!Array.isArray(page?.value)) throw unexpected(`${what} without a list of users`);
    yield page.value;
    const next = page['@odata.nextLink'];
    if (next !== undefined && next === url)
      throw unexpected('the same next page twice; stopped to avoid a loop');
    url = next;
  } while (url);
}
