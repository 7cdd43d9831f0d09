import { randomBytes, randomUUID } from 'node:crypto';
import { DeltaTracker } from './graph-delta.js';
import { parseUserFilter } from './graph-filter.js';
import { ListPages } from './graph-paging.js';
import { notPremium, Registrations } from './graph-registrations.js';
import { badRequest, fail, notFound, type Reply } from './graph-routes.js';
import type { GraphSchema } from './graph-schema.js';

/**
 * The directory behind the Graph stand-in: users, deleted items, groups' members and Temporary
 * Access Passes, and what Graph v1.0 does to them (graph-routes.ts maps requests onto these).
 *
 * Behaviour and wording, from Microsoft Learn unless said otherwise:
 * - Create user (graph/api/user-post-users): accountEnabled, displayName, mailNickname,
 *   userPrincipalName and passwordProfile are required; 201 with the user. A missing one:
 *   "Property mailNickname value is required but is empty or missing." and "A password must be
 *   specified to create a new user." (Graph's answers quoted in microsoftgraph/MSGraph-SDK-Code-
 *   Generator#244 and msgraph-sdk-powershell#3307). A taken UPN: 400 Request_BadRequest "Another
 *   object with the same value for property userPrincipalName already exists." (microsoftgraph/
 *   microsoft-graph-docs#1508). A deleted user frees its UPN: a new user may take it, and restoring
 *   the deleted one then needs another ("Restore a user in the Microsoft 365 admin center", user
 *   name conflicts; the restore action's newUserPrincipalName, learn.microsoft.com/microsoft-365/
 *   troubleshoot/active-directory/restore-deleted-user-accounts). Entra does it by prefixing the
 *   deleted user's UPN with its object id without hyphens (reported by woshub.com and
 *   onyx-dot-app/onyx#14074, not in Microsoft's reference); the stand-in does the same, and
 *   refuses a restore whose UPN was taken meanwhile with the taken-UPN answer (its own choice of
 *   words: Graph's was not found). A UPN outside the tenant's verified domains: "The domain portion of the userPrincipalName property is invalid.
 *   You must use one of the verified domain names in your organization."
 * - Update user (user-update) 204; delete user (user-delete) 204, into deleted items;
 *   revokeSignInSessions (user-revokesigninsessions) 200 with { value: true }.
 * - Deleted items (resources/directory, directory-deleteditems-restore/-delete/-get): "Deleted items
 *   remain available to restore for up to 30 days. After 30 days, the items are permanently deleted."
 * - Group members (group-post-members, group-delete-members): add by { "@odata.id" } → 204; a
 *   member already: 400 "One or more added object references already exist for the following
 *   modified properties: 'members'."; remove a non-member → 404.
 * - Not found: 404 Request_ResourceNotFound "Resource '{id}' does not exist or one of its queried
 *   reference-property objects are not present."
 * - TAP (authentication-post-temporaryaccesspassmethods): 201 with the pass; one usable pass per
 *   user, a new one replaces it. lifetimeInMinutes must lie within the tenant's policy, settable
 *   between 10 and 43200 minutes (resources/temporaryaccesspassauthenticationmethodconfiguration);
 *   outside it Graph answers 400 "badRequest" "Invalid LifetimeInMinutes specified. The valid range
 *   between 60 and 480." for the default policy (quoted in microsoftgraph/microsoft-graph-docs#12187).
 * - $filter on GET /users: graph-filter.ts. Unknown $select: "Parsing OData Select and Expand
 *   failed: Could not find a property named '…' on type 'microsoft.graph.user'."
 * - Reads: paging of GET /users in graph-paging.ts, GET /users/delta in graph-delta.ts,
 *   userRegistrationDetails in graph-registrations.ts.
 * - signInActivity (resources/signinactivity, user-list example "Get users including their last
 *   sign-in time"): only with $select, and left out for a user who never signed in ("The user
 *   should have signed in at least once", learn.microsoft.com/answers/questions/1198952). Without
 *   Entra ID P1/P2 Graph refuses it with 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant.
 */

export interface TapPolicy {
  minimumLifetimeInMinutes: number;
  maximumLifetimeInMinutes: number;
  defaultLifetimeInMinutes: number;
  defaultLength: number;
}
export interface TemporaryAccessPass {
  id: string;
  temporaryAccessPass: string;
  createdDateTime: string;
  startDateTime: string;
  lifetimeInMinutes: number;
  isUsableOnce: boolean;
  isUsable: boolean;
  methodUsabilityReason: string;
}
type Props = Record<string, unknown>;

/** What GET /users/{id} returns without $select (resources/user, "default properties"). */
const DEFAULT_SELECT = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];
const REQUIRED_ON_CREATE = ['accountEnabled', 'displayName', 'mailNickname', 'userPrincipalName'];
/** Read-only properties a body may carry but the directory computes. */
const COMPUTED = ['id', 'createdDateTime', 'deletedDateTime'];
const RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
const TAP_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789@#$%&*-+=';

const isObject = (v: unknown): v is Props => typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: unknown, b: string) => typeof a === 'string' && a.toLowerCase() === b.toLowerCase();

export class Directory {
  /** Users by id, and soft-deleted users by id (with deletedDateTime set). */
  readonly users = new Map<string, Props>();
  readonly deleted = new Map<string, Props>();
  readonly groups = new Map<string, { displayName: string; members: Set<string> }>();
  readonly passwords = new Map<string, string>();
  readonly taps = new Map<string, TemporaryAccessPass>();
  /** A deleted user's own UPN, by id, given back when it is restored. */
  private readonly deletedUpns = new Map<string, string>();
  readonly delta = new DeltaTracker();
  readonly pages = new ListPages();
  readonly registrations: Registrations;
  /** Whether the tenant has Entra ID P1/P2, which signInActivity and the MFA report need. */
  premium = true;

  constructor(
    private readonly schema: GraphSchema,
    readonly now: () => Date,
    readonly base: () => string,
    private readonly verifiedDomains: () => string[],
    private readonly tapPolicy: () => TapPolicy,
  ) {
    this.registrations = new Registrations(schema, now, base);
  }

  clear(): void {
    for (const map of [this.users, this.deleted, this.groups, this.passwords, this.taps, this.deletedUpns])
      map.clear();
    this.delta.clear();
    this.pages.clear();
    this.registrations.clear();
    this.premium = true;
  }

  /** Purges deleted items older than 30 days, as Entra does. */
  purgeExpired(): void {
    const now = this.now().getTime();
    for (const [id, user] of this.deleted) {
      if (now - Date.parse(String(user.deletedDateTime)) >= RETENTION_MS) this.forget(id);
    }
  }

  private forget(id: string): void {
    this.delta.touch(id);
    this.deleted.delete(id);
    this.deletedUpns.delete(id);
    this.passwords.delete(id);
    this.taps.delete(id);
    for (const group of this.groups.values()) group.members.delete(id);
  }

  /** A user's own UPN: for a deleted one, the UPN it had before deletion renamed it. */
  ownUpn(user: Props): string {
    return this.deletedUpns.get(String(user.id)) ?? String(user.userPrincipalName);
  }

  /** An active user by id or userPrincipalName. */
  find(key: string): Props | undefined {
    return this.users.get(key) ?? [...this.users.values()].find((u) => same(u.userPrincipalName, key));
  }

  private upnProblem(upn: string, self?: string): Reply | undefined {
    const domain = upn.split('@')[1]?.toLowerCase();
    if (upn.split('@').length !== 2 || !domain || !this.verifiedDomains().includes(domain)) {
      return badRequest(
        'The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.',
      );
    }
    const holders = [...this.users.values(), ...this.deleted.values()];
    if (holders.some((u) => u.id !== self && same(u.userPrincipalName, upn))) {
      return badRequest('Another object with the same value for property userPrincipalName already exists.', {
        details: [{ target: 'userPrincipalName', code: 'ObjectConflict' }],
      });
    }
    return undefined;
  }

  /** Stores a body's values, keeping the password apart (Graph never returns one). */
  private absorb(user: Props, body: Props): void {
    for (const [name, value] of Object.entries(body)) {
      // Annotations are not values; the directory sets the key and the timestamps itself.
      if (name.includes('@') || COMPUTED.includes(name)) continue;
      if (name === 'passwordProfile' && isObject(value)) {
        const { password, ...rest } = value;
        if (typeof password === 'string') this.passwords.set(String(user.id), password);
        user.passwordProfile = { ...(isObject(user.passwordProfile) ? user.passwordProfile : {}), ...rest };
      } else {
        user[name] = value;
      }
    }
  }

  create(body: unknown): Reply {
    const problem = this.schema.check('user', body);
    if (problem || !isObject(body)) return badRequest(problem ?? 'Empty payload.');
    for (const name of REQUIRED_ON_CREATE) {
      if (body[name] === undefined || body[name] === null || body[name] === '') {
        return badRequest(`Property ${name} value is required but is empty or missing.`);
      }
    }
    const profile = body.passwordProfile;
    if (!isObject(profile) || typeof profile.password !== 'string' || profile.password === '') {
      return badRequest('A password must be specified to create a new user.');
    }
    const conflict = this.upnProblem(String(body.userPrincipalName));
    if (conflict) return conflict;
    const id = randomUUID();
    const user: Props = { id, createdDateTime: this.now().toISOString(), deletedDateTime: null };
    this.absorb(user, body);
    this.users.set(id, user);
    this.delta.touch(id);
    return {
      status: 201,
      body: { '@odata.context': `${this.base()}/$metadata#users/$entity`, ...this.view(user) },
    };
  }

  /**
   * The user as Graph shows it: every stored value, or `$select`'s, with the password blanked and
   * signInActivity left out for someone who never signed in.
   */
  private view(user: Props, select?: string[]): Props {
    const names = select ?? Object.keys(user);
    const out: Props = {};
    for (const name of names) {
      if (name === 'signInActivity' && user[name] === undefined) continue;
      const value = user[name] ?? (name === 'businessPhones' ? [] : null);
      out[name] = name === 'passwordProfile' && isObject(value) ? { password: null, ...value } : value;
    }
    return out;
  }

  selection(query: URLSearchParams): string[] | Reply {
    const raw = query.get('$select');
    if (raw === null) return DEFAULT_SELECT;
    // Property names are matched whatever their case, and answered as the type spells them.
    const known = Object.keys(this.schema.graph.types.user?.properties ?? {});
    const names = raw.split(',').map((s) => s.trim());
    const resolved = names.map((n) => known.find((k) => k.toLowerCase() === n.toLowerCase()));
    const unknown = names.find((_, i) => resolved[i] === undefined);
    return unknown === undefined
      ? resolved.filter((n): n is string => n !== undefined)
      : badRequest(
          `Parsing OData Select and Expand failed: Could not find a property named '${unknown}' on type 'microsoft.graph.user'.`,
        );
  }

  get(key: string, query: URLSearchParams): Reply {
    const user = this.find(key);
    if (!user) return notFound(key);
    const select = this.selection(query);
    if (!Array.isArray(select)) return select;
    return {
      status: 200,
      body: { '@odata.context': `${this.base()}/$metadata#users/$entity`, ...this.view(user, select) },
    };
  }

  list(query: URLSearchParams): Reply {
    // The query again, as Graph writes it in a nextLink: `$` left as it is, values encoded.
    const again = [...query]
      .filter(([name]) => name !== '$skiptoken' && name !== '$top')
      .map(([name, value]) => `${name}=${encodeURIComponent(value)}`);
    const link = `${this.base()}/users${again.length > 0 ? `?${again.join('&')}` : ''}`;
    return this.pages.page(query, link, `${this.base()}/$metadata#users`, () => {
      const select = this.selection(query);
      if (!Array.isArray(select)) return select;
      if (select.includes('signInActivity') && !this.premium) return notPremium();
      let users = [...this.users.values()];
      const filter = query.get('$filter');
      if (filter !== null) {
        const parsed = parseUserFilter(filter);
        if ('status' in parsed) return parsed;
        const { property, values } = parsed;
        users = users.filter((u) => values.some((v) => same(u[property], v)));
      }
      return users.map((u) => this.view(u, select));
    });
  }

  update(key: string, body: unknown): Reply {
    const user = this.find(key);
    if (!user) return notFound(key);
    const problem = this.schema.check('user', body);
    if (problem || !isObject(body)) return badRequest(problem ?? 'Empty payload.');
    if (typeof body.userPrincipalName === 'string') {
      const conflict = this.upnProblem(body.userPrincipalName, String(user.id));
      if (conflict) return conflict;
    }
    this.absorb(user, body);
    this.delta.touch(String(user.id));
    return { status: 204 };
  }

  remove(key: string): Reply {
    const user = this.find(key);
    if (!user) return notFound(key);
    const id = String(user.id);
    this.users.delete(id);
    user.deletedDateTime = this.now().toISOString();
    this.deletedUpns.set(id, String(user.userPrincipalName));
    user.userPrincipalName = `${id.replaceAll('-', '')}${String(user.userPrincipalName)}`;
    this.deleted.set(id, user);
    this.delta.touch(id);
    return { status: 204 };
  }

  revoke(key: string): Reply {
    const user = this.find(key);
    if (!user) return notFound(key);
    user.signInSessionsValidFromDateTime = this.now().toISOString();
    return { status: 200, body: { '@odata.context': `${this.base()}/$metadata#Edm.Boolean`, value: true } };
  }

  private deletedView(user: Props): Props {
    return { '@odata.type': '#microsoft.graph.user', ...this.view(user) };
  }

  /**
   * `GET /directory/deletedItems/microsoft.graph.user` (directory-deleteditems-list): the users in
   * deleted items, paged as the other lists, `$select` as on users.
   */
  listDeleted(query: URLSearchParams): Reply {
    const again = [...query]
      .filter(([name]) => name !== '$skiptoken' && name !== '$top')
      .map(([name, value]) => `${name}=${encodeURIComponent(value)}`);
    const path = `${this.base()}/directory/deletedItems/microsoft.graph.user`;
    const link = `${path}${again.length > 0 ? `?${again.join('&')}` : ''}`;
    return this.pages.page(query, link, `${this.base()}/$metadata#users`, () => {
      const select = this.selection(query);
      if (!Array.isArray(select)) return select;
      return [...this.deleted.values()].map((u) => this.view(u, select));
    });
  }

  getDeleted(id: string): Reply {
    const user = this.deleted.get(id);
    if (!user) return notFound(id);
    return {
      status: 200,
      body: {
        '@odata.context': `${this.base()}/$metadata#directoryObjects/$entity`,
        ...this.deletedView(user),
      },
    };
  }

  restore(id: string): Reply {
    const user = this.deleted.get(id);
    if (!user) return notFound(id);
    const upn = this.ownUpn(user);
    if ([...this.users.values()].some((u) => same(u.userPrincipalName, upn))) {
      return badRequest('Another object with the same value for property userPrincipalName already exists.', {
        details: [{ target: 'userPrincipalName', code: 'ObjectConflict' }],
      });
    }
    this.deleted.delete(id);
    this.deletedUpns.delete(id);
    user.userPrincipalName = upn;
    user.deletedDateTime = null;
    this.users.set(id, user);
    this.delta.touch(id);
    return {
      status: 200,
      body: {
        '@odata.context': `${this.base()}/$metadata#directoryObjects/$entity`,
        ...this.deletedView(user),
      },
    };
  }

  purge(id: string): Reply {
    if (!this.deleted.has(id)) return notFound(id);
    this.forget(id);
    return { status: 204 };
  }

  addMember(groupId: string, body: unknown): Reply {
    const group = this.groups.get(groupId);
    if (!group) return notFound(groupId);
    const extra = isObject(body) ? Object.keys(body).find((k) => k !== '@odata.id') : undefined;
    if (!isObject(body) || extra !== undefined) return badRequest(`Invalid property '${extra ?? ''}'.`);
    const ref = body['@odata.id'];
    const userId =
      typeof ref === 'string' ? /\/(?:directoryObjects|users)\/([^/?#]+)$/.exec(ref)?.[1] : undefined;
    if (userId === undefined) return badRequest(`Invalid object identifier '${String(ref)}'.`);
    if (!this.users.has(userId)) return notFound(userId);
    if (group.members.has(userId)) {
      return badRequest(
        "One or more added object references already exist for the following modified properties: 'members'.",
      );
    }
    group.members.add(userId);
    return { status: 204 };
  }

  /** A group's members that are users, paged as a users list is (graph-paging.ts). */
  listMembers(groupId: string, query: URLSearchParams): Reply {
    const group = this.groups.get(groupId);
    if (!group) return notFound(groupId);
    const again = [...query]
      .filter(([name]) => name !== '$skiptoken' && name !== '$top')
      .map(([name, value]) => `${name}=${encodeURIComponent(value)}`);
    const path = `${this.base()}/groups/${groupId}/members/microsoft.graph.user`;
    const link = `${path}${again.length > 0 ? `?${again.join('&')}` : ''}`;
    return this.pages.page(query, link, `${this.base()}/$metadata#users`, () => {
      const select = this.selection(query);
      if (!Array.isArray(select)) return select;
      return [...group.members].flatMap((id) => {
        const user = this.users.get(id);
        return user ? [this.view(user, select)] : [];
      });
    });
  }

  removeMember(groupId: string, userId: string): Reply {
    const group = this.groups.get(groupId);
    if (!group) return notFound(groupId);
    if (!this.users.has(userId) || !group.members.has(userId)) return notFound(userId);
    group.members.delete(userId);
    return { status: 204 };
  }

  createTap(key: string, body: unknown): Reply {
    const user = this.find(key);
    if (!user) return notFound(key);
    const problem = this.schema.check('temporaryAccessPassAuthenticationMethod', body);
    if (problem || !isObject(body)) return badRequest(problem ?? 'Empty payload.');
    const policy = this.tapPolicy();
    const lifetime =
      typeof body.lifetimeInMinutes === 'number' ? body.lifetimeInMinutes : policy.defaultLifetimeInMinutes;
    const { minimumLifetimeInMinutes: min, maximumLifetimeInMinutes: max } = policy;
    if (lifetime < min || lifetime > max) {
      const message = `Invalid LifetimeInMinutes specified. The valid range between ${min} and ${max}.`;
      return fail(400, 'badRequest', message, { innerError: { message } });
    }
    const now = this.now();
    const start = typeof body.startDateTime === 'string' ? new Date(body.startDateTime) : now;
    const early = start.getTime() > now.getTime();
    const pass = [...randomBytes(policy.defaultLength)]
      .map((b) => TAP_ALPHABET[b % TAP_ALPHABET.length])
      .join('');
    const tap: TemporaryAccessPass = {
      id: randomUUID(),
      temporaryAccessPass: pass,
      createdDateTime: now.toISOString(),
      startDateTime: start.toISOString(),
      lifetimeInMinutes: lifetime,
      isUsableOnce: body.isUsableOnce === true,
      isUsable: !early,
      methodUsabilityReason: early ? 'NotYetValid' : 'EnabledByPolicy',
    };
    this.taps.set(String(user.id), tap);
    const context = `${this.base()}/$metadata#users('${String(user.id)}')/authentication/temporaryAccessPassMethods/$entity`;
    return { status: 201, body: { '@odata.context': context, ...tap } };
  }

  listTaps(key: string): Reply {
    const user = this.find(key);
    if (!user) return notFound(key);
    const tap = this.taps.get(String(user.id));
    // Graph shows the pass itself only in the answer that created it.
    const value = tap ? [{ ...tap, temporaryAccessPass: null }] : [];
    return { status: 200, body: { value } };
  }
}
