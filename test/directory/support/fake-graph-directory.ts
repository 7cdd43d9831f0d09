import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type FakeEntra, LoopbackTls, readBody } from '../../graph/support/fake-microsoft.js';
import type { TestCertificate } from '../../graph/support/test-certificate.js';
import { type ChaosOptions, type GraphTraffic, Throttle, type WriteBudget } from './graph-chaos.js';
import { Directory, type TapPolicy, type TemporaryAccessPass } from './graph-directory-state.js';
import { ALL_PERMISSIONS, fail, type GraphCall, type Reply, resolve } from './graph-routes.js';
import { GraphSchema, type GraphTypes, loadGraphTypes } from './graph-schema.js';

/**
 * Microsoft Graph v1.0 for directory writes, over loopback HTTPS, as strict as the service: the
 * bearer token must be one FakeEntra issued, each route needs its application permission, bodies
 * are checked against Graph's own type metadata (graph-schema.ts), and the users, deleted items,
 * group members and Temporary Access Passes behave as Graph's do (graph-directory-state.ts, whose
 * header cites the Microsoft Learn pages and quoted answers each behaviour comes from).
 *
 * Sources for this file's own behaviour:
 * - Error body { error: { code, message, innerError: { date, request-id, client-request-id } } }:
 *   learn.microsoft.com/graph/errors. 401 InvalidAuthenticationToken "Access token is empty." for a
 *   missing token; 403 Authorization_RequestDenied "Insufficient privileges to complete the
 *   operation." for a missing permission; 503 serviceNotAvailable, with Retry-After.
 * - 429: code TooManyRequests, "Please retry again later.", Retry-After in seconds (the sample in
 *   learn.microsoft.com/graph/throttling); the write quota is graph-chaos.ts's.
 * - JSON batching (learn.microsoft.com/graph/json-batching): POST /$batch, up to 20 requests, each
 *   { id, method, url relative to the version, headers, body, dependsOn }; ids unique or the whole
 *   batch fails with 400; a body needs a Content-Type header; the batch answers 200 and each
 *   response carries its own status; a request whose dependency failed gets 424 Failed Dependency;
 *   each request is throttled on its own. The batch-level messages "Invalid batch payload format."
 *   and "Request Id 1 has to be unique in a batch." are as recorded from Graph in public client
 *   test fixtures; the message for more than 20 requests is this stand-in's own (the limit is
 *   documented, the wording was not found).
 * - "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of
 *   valid JSON format." for a body that is not JSON.
 * A dependsOn must name a request listed earlier in the same batch (Graph also allows later ones).
 */

export const MAX_BATCH_REQUESTS = 20;
const CONTENT_TYPE =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

export interface FakeGraphDirectoryOptions {
  /** Whose tokens are accepted. */
  entra: FakeEntra;
  /** Graph's types; default: read from shared/graph/graph-v1.0-types.json beside the repo. */
  types?: GraphTypes;
  /** The stand-in's clock: deleted items' 30 days, the write budget's window, timestamps. */
  now?: () => Date;
  /** The tenant's verified domains a userPrincipalName may use. Default ['nhs.net']. */
  verifiedDomains?: string[];
  /** The application permissions granted with admin consent. Default: every one a route accepts. */
  granted?: Iterable<string>;
  chaos?: ChaosOptions;
  writeBudget?: WriteBudget;
  /** The tenant's Temporary Access Pass policy. Default: the widest Entra allows, 10–43200 min. */
  tapPolicy?: Partial<TapPolicy>;
}

/** One request the stand-in answered: top level, or one request inside a $batch. */
export interface DirectoryRequestSeen {
  method: string;
  /** The path under /v1.0, e.g. /users/{id}/revokeSignInSessions. */
  path: string;
  /** The query string without '?', e.g. $select=id. */
  query: string;
  body: unknown;
  status: number;
  /** The batch request id, for a request inside a $batch. */
  batchItem?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const header = (req: IncomingMessage, name: string) => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export class FakeGraphDirectory extends LoopbackTls {
  readonly requests: DirectoryRequestSeen[] = [];
  now: () => Date;
  verifiedDomains: string[];
  tapPolicy: TapPolicy;
  private granted: Set<string>;
  private readonly throttle: Throttle;
  private readonly directory: Directory;
  private readonly entra: FakeEntra;

  constructor(tls: TestCertificate, options: FakeGraphDirectoryOptions) {
    super(tls);
    this.entra = options.entra;
    this.now = options.now ?? (() => new Date());
    this.verifiedDomains = options.verifiedDomains ?? ['nhs.net'];
    this.tapPolicy = {
      minimumLifetimeInMinutes: 10,
      maximumLifetimeInMinutes: 43200,
      defaultLifetimeInMinutes: 60,
      defaultLength: 8,
      ...options.tapPolicy,
    };
    this.granted = new Set(options.granted ?? ALL_PERMISSIONS);
    this.throttle = new Throttle(options.chaos, options.writeBudget);
    this.directory = new Directory(
      new GraphSchema(options.types ?? loadGraphTypes()),
      () => this.now(),
      () => `${this.url}/v1.0`,
      () => this.verifiedDomains.map((d) => d.toLowerCase()),
      () => this.tapPolicy,
    );
  }

  /** Grants exactly these application permissions (none given: every permission). */
  grant(permissions?: Iterable<string>): void {
    this.granted = new Set(permissions ?? ALL_PERMISSIONS);
  }

  /** Random 429s/503s from now on (undefined: none); the sequence restarts from the seed. */
  setChaos(chaos: ChaosOptions | undefined): void {
    this.throttle.setChaos(chaos);
  }

  /** Graph's write quota, scaled down (undefined: unlimited). */
  setWriteBudget(budget: WriteBudget | undefined): void {
    this.throttle.setBudget(budget);
  }

  /** Requests, writes accepted, 429s and 503s sent, in total and per second. */
  stats(): GraphTraffic {
    return this.throttle.stats();
  }

  /** Empties the directory, the log and the counters; grants every permission again. */
  reset(): void {
    this.directory.clear();
    this.requests.length = 0;
    this.throttle.reset();
    this.grant();
  }

  addGroup(id: string, displayName: string): void {
    this.directory.groups.set(id, { displayName, members: new Set() });
  }

  /**
   * Stores users as an administrator made them, without a request each (a benchmark's tenant of
   * 100,000): the properties given, a new id, and the change the users delta reports. No schema
   * check: give properties of microsoft.graph.user. Returns their ids, in order.
   */
  seedUsers(users: ReadonlyArray<Record<string, unknown>>): string[] {
    const createdDateTime = this.now().toISOString();
    return users.map((props) => {
      const id = randomUUID();
      this.directory.users.set(id, { ...props, id, createdDateTime, deletedDateTime: null });
      this.directory.delta.touch(id);
      return id;
    });
  }

  /** Puts a user (by id or UPN) in a group, as an administrator would in the Entra admin centre. */
  addToGroup(groupId: string, key: string): void {
    const group = this.directory.groups.get(groupId);
    const user = this.directory.find(key);
    if (!group || !user) throw new Error(`no group ${groupId} or user ${key} in the stand-in`);
    group.members.add(String(user.id));
  }

  membersOf(groupId: string): string[] {
    return [...(this.directory.groups.get(groupId)?.members ?? [])];
  }

  /** An active user as stored (never with its password), by id or userPrincipalName. */
  user(key: string): Record<string, unknown> | undefined {
    return this.directory.find(key);
  }

  /** A soft-deleted user, by id. */
  deletedUser(id: string): Record<string, unknown> | undefined {
    return this.directory.deleted.get(id);
  }

  /** The password last set for a user (by the userPrincipalName it had, active or deleted). */
  passwordOf(upn: string): string | undefined {
    const lower = upn.toLowerCase();
    const all = [...this.directory.users.values(), ...this.directory.deleted.values()];
    const user = all.find((u) => this.directory.ownUpn(u).toLowerCase() === lower);
    return user ? this.directory.passwords.get(String(user.id)) : undefined;
  }

  /** Records a user's last successful sign-in (by id or UPN); null: never signed in. */
  setSignIn(key: string, at: Date | null): void {
    const user = this.directory.find(key);
    if (!user) throw new Error(`no user ${key} in the stand-in`);
    if (at === null) {
      delete user.signInActivity;
      return;
    }
    // As resources/signinactivity: the last attempt, interactive or not, and the last success.
    const when = at.toISOString();
    user.signInActivity = {
      lastSignInDateTime: when,
      lastSignInRequestId: randomUUID(),
      lastNonInteractiveSignInDateTime: null,
      lastNonInteractiveSignInRequestId: null,
      lastSuccessfulSignInDateTime: when,
      lastSuccessfulSignInRequestId: randomUUID(),
    };
  }

  /** Marks a user's MFA as registered, or not, in the userRegistrationDetails report. */
  setMfaRegistered(key: string, registered = true): void {
    const user = this.directory.find(key);
    if (!user) throw new Error(`no user ${key} in the stand-in`);
    this.directory.registrations.setMfaRegistered(String(user.id), registered);
  }

  /** Whether the tenant has Entra ID P1/P2 (default true); without it signInActivity and the MFA report are refused. */
  setPremium(premium: boolean): void {
    this.directory.premium = premium;
  }

  /** Expires every delta and skip token handed out: their next use answers 410, as Graph's do. */
  expireDeltaTokens(): void {
    this.directory.delta.expireTokens();
  }

  /** The most users a /users/delta page holds (default DELTA_PAGE_SIZE, 200). */
  setDeltaPageSize(size: number): void {
    this.directory.delta.pageSize = size;
  }

  /** The user's current Temporary Access Pass, pass included. */
  tapOf(userId: string): TemporaryAccessPass | undefined {
    return this.directory.taps.get(userId);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const clientRequestId = header(req, 'client-request-id') ?? randomUUID();
    const raw = await readBody(req);
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/^\/v1\.0(?=\/)/, '');
    const body = raw.trim() === '' ? undefined : this.parse(raw);
    // Logged before it is answered, so that a batch comes before the requests inside it.
    const seen: DirectoryRequestSeen = { method, path, query: url.search.slice(1), body, status: 0 };
    this.requests.push(seen);
    const token = /^Bearer (.+)$/.exec(header(req, 'authorization') ?? '')?.[1];
    let reply: Reply;
    if (!url.pathname.startsWith('/v1.0/')) {
      reply = fail(400, 'BadRequest', `Invalid version: ${url.pathname.split('/')[1] ?? ''}`);
    } else if (!token) {
      reply = fail(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    } else if (!this.entra.issued.includes(token)) {
      reply = fail(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
    } else if (raw.trim() !== '' && body === undefined) {
      reply = fail(
        400,
        'BadRequest',
        'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
      );
    } else if (path === '/$batch' && method === 'POST') {
      reply = this.batch(body, clientRequestId);
    } else {
      reply = this.serve({ method, path, query: url.searchParams, body, prefer: header(req, 'prefer') });
    }
    seen.status = reply.status;
    const finished = this.finish(reply, clientRequestId);
    res.writeHead(reply.status, {
      ...(finished === undefined ? {} : { 'content-type': CONTENT_TYPE }),
      'request-id': randomUUID(),
      'client-request-id': clientRequestId,
      ...reply.headers,
    });
    res.end(finished === undefined ? undefined : JSON.stringify(finished));
  }

  private parse(raw: string): unknown {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return undefined;
    }
  }

  /** The body to send: an error gets innerError's date and ids, as Graph's do. */
  private finish(reply: Reply, clientRequestId: string): unknown {
    const { body } = reply;
    if (!isObject(body) || !isObject(body.error)) return body;
    const inner = isObject(body.error.innerError) ? body.error.innerError : {};
    const date = this.now().toISOString().slice(0, 19);
    return {
      error: {
        ...body.error,
        innerError: { ...inner, date, 'request-id': randomUUID(), 'client-request-id': clientRequestId },
      },
    };
  }

  /** One request, top level or in a batch: throttling first, then permissions, then the route. */
  private serve(call: GraphCall): Reply {
    const verdict = this.throttle.judge(call.method !== 'GET', this.now().getTime());
    if (verdict.kind === 'throttled') {
      return {
        ...fail(429, 'TooManyRequests', 'Please retry again later.', {
          innerError: { code: '429', status: '429', message: 'Please retry after' },
        }),
        headers: { 'retry-after': String(verdict.retryAfter) },
      };
    }
    if (verdict.kind === 'unavailable') {
      return {
        ...fail(503, 'serviceNotAvailable', 'The service is temporarily unavailable. Please retry later.'),
        headers: { 'retry-after': String(verdict.retryAfter) },
      };
    }
    const operation = resolve(this.directory, call);
    if (!('run' in operation)) return operation;
    if (operation.needs.some((anyOf) => !anyOf.some((p) => this.granted.has(p)))) {
      return fail(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    }
    return operation.run();
  }

  private batch(body: unknown, clientRequestId: string): Reply {
    const invalid = fail(400, 'BadRequest', 'Invalid batch payload format.');
    if (!isObject(body) || !Array.isArray(body.requests)) return invalid;
    const items = body.requests;
    if (items.length > MAX_BATCH_REQUESTS) {
      return fail(
        400,
        'BadRequest',
        `The batch holds ${items.length} requests: JSON batching allows at most ${MAX_BATCH_REQUESTS}.`,
      );
    }
    const seen = new Set<string>();
    for (const item of items) {
      if (!isObject(item) || typeof item.id !== 'string' || item.id === '') return invalid;
      if (typeof item.method !== 'string' || typeof item.url !== 'string') return invalid;
      const dependsOn = item.dependsOn ?? [];
      if (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== 'string' || !seen.has(d)))
        return invalid;
      if (seen.has(item.id))
        return fail(400, 'BadRequest', `Request Id ${item.id} has to be unique in a batch.`);
      seen.add(item.id);
    }
    const statuses = new Map<string, number>();
    const responses = (items as Record<string, unknown>[]).map((item) => {
      const id = String(item.id);
      const reply = this.batchItem(item, statuses);
      statuses.set(id, reply.status);
      const finished = this.finish(reply, clientRequestId);
      return {
        id,
        status: reply.status,
        headers: { ...(finished === undefined ? {} : { 'content-type': CONTENT_TYPE }), ...reply.headers },
        ...(finished === undefined ? {} : { body: finished }),
      };
    });
    return { status: 200, body: { responses } };
  }

  private batchItem(item: Record<string, unknown>, statuses: Map<string, number>): Reply {
    const method = String(item.method).toUpperCase();
    const [rawPath = '', rawQuery = ''] = String(item.url).split('?');
    const path = `/${rawPath.replace(/^\//, '')}`;
    const headers = isObject(item.headers) ? item.headers : {};
    const hasContentType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
    const log = (reply: Reply) => {
      this.requests.push({
        method,
        path,
        query: rawQuery,
        body: item.body,
        status: reply.status,
        batchItem: String(item.id),
      });
      return reply;
    };
    const dependsOn = (item.dependsOn ?? []) as string[];
    if (dependsOn.some((d) => (statuses.get(d) ?? 0) >= 400)) {
      return log(fail(424, 'FailedDependency', 'The request failed because of a failed dependency.'));
    }
    if (/^https?:/i.test(String(item.url))) {
      return log(
        fail(400, 'BadRequest', 'A batch request url must be relative to the version, e.g. /users.'),
      );
    }
    if (item.body !== undefined && !hasContentType) {
      return log(
        fail(
          400,
          'BadRequest',
          `Write request id : ${String(item.id)} does not contain Content-Type header or body.`,
        ),
      );
    }
    const prefer = Object.entries(headers).find(([h]) => h.toLowerCase() === 'prefer')?.[1];
    return log(
      this.serve({
        method,
        path,
        query: new URLSearchParams(rawQuery),
        body: item.body,
        ...(typeof prefer === 'string' ? { prefer } : {}),
      }),
    );
  }
}
