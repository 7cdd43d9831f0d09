import type { Directory } from './graph-directory-state.js';
import { notPremium } from './graph-registrations.js';

/**
 * The Graph v1.0 routes the stand-in answers, each with the application permissions it needs (one
 * of each inner list), from the "Permissions" tables of the Microsoft Learn pages for create,
 * update and delete user (User.ReadWrite.All; User.DeleteRestore.All for delete and restore),
 * employeeLeaveDateTime (User-LifeCycleInfo.ReadWrite.All as well), revokeSignInSessions
 * (User.RevokeSessions.All), group-post-members / group-delete-members (GroupMember.ReadWrite.All), group-list-members
 * (GroupMember.Read.All)
 * and temporaryAccessPassMethods (UserAuthenticationMethod.ReadWrite.All), user-delta (as list users),
 * list users with signInActivity and list userRegistrationDetails (AuditLog.Read.All as well, the
 * user-list page's signInActivity note and the report's own table); higher-privileged
 * permissions those tables list are accepted too. An unknown path is Graph's 400 "Resource not
 * found for the segment '…'.".
 */

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}
export interface GraphCall {
  method: string;
  /** The path under /v1.0, e.g. /users/{id}. */
  path: string;
  query: URLSearchParams;
  body: unknown;
  /** The request's Prefer header, which paging reads (`odata.maxpagesize=N`). */
  prefer?: string;
}
/** A route ready to run, and the permissions it needs: one of each inner list. */
export interface Operation {
  needs: string[][];
  run(): Reply;
}
type Props = Record<string, unknown>;

/** Graph's error body; the server adds innerError's date and ids. */
export function fail(status: number, code: string, message: string, extra: Props = {}): Reply {
  return { status, body: { error: { code, message, ...extra } } };
}
export const badRequest = (message: string, extra: Props = {}) =>
  fail(400, 'Request_BadRequest', message, extra);
export const notFound = (id: string) =>
  fail(
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );

const READ_USERS = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const WRITE_USERS = ['User.ReadWrite.All', 'Directory.ReadWrite.All'];
const DELETE_RESTORE = ['User.DeleteRestore.All', 'User.ReadWrite.All'];
const REVOKE = ['User.RevokeSessions.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'];
const LIFECYCLE = ['User-LifeCycleInfo.ReadWrite.All'];
const MEMBERS = ['GroupMember.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'];
const READ_MEMBERS = ['GroupMember.Read.All', 'Group.Read.All', 'Directory.Read.All', ...MEMBERS];
const TAP_WRITE = ['UserAuthenticationMethod.ReadWrite.All'];
const TAP_READ = ['UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All'];
const AUDIT_LOG = ['AuditLog.Read.All'];
/** Every permission some route accepts: the default grant. */
export const ALL_PERMISSIONS = [
  ...new Set([
    ...READ_USERS,
    ...DELETE_RESTORE,
    ...REVOKE,
    ...LIFECYCLE,
    ...MEMBERS,
    ...TAP_READ,
    ...AUDIT_LOG,
  ]),
];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Finds the route for a call (after purging deleted items older than 30 days). */
export function resolve(d: Directory, call: GraphCall): Operation | Reply {
  d.purgeExpired();
  const { method, body } = call;
  const seg = call.path.split('/').filter(Boolean).map(decodeURIComponent);
  const op = (needs: string[][], run: () => Reply): Operation => ({ needs, run });
  const [root, key, sub, sub2, ref] = seg;
  if (root === 'users') {
    if (seg.length === 1 && method === 'POST') return op(writeNeeds(body), () => d.create(body));
    if (seg.length === 1 && method === 'GET') return op(listNeeds(call.query), () => d.list(call.query));
    // `/delta` is short for `/microsoft.graph.delta`, which the SDKs send (delta-query-overview).
    if (seg.length === 2 && (key === 'delta' || key === 'microsoft.graph.delta') && method === 'GET') {
      return op([READ_USERS], () => d.delta.page(d, call.query, call.prefer));
    }
    if (key !== undefined && seg.length === 2) {
      if (method === 'GET') return op([READ_USERS], () => d.get(key, call.query));
      if (method === 'PATCH') return op(writeNeeds(body), () => d.update(key, body));
      if (method === 'DELETE') return op([DELETE_RESTORE], () => d.remove(key));
    }
    if (key !== undefined && seg.length === 3 && sub === 'revokeSignInSessions' && method === 'POST') {
      return op([REVOKE], () => d.revoke(key));
    }
    if (
      key !== undefined &&
      seg.length === 4 &&
      sub === 'authentication' &&
      sub2 === 'temporaryAccessPassMethods'
    ) {
      if (method === 'POST') return op([TAP_WRITE], () => d.createTap(key, body));
      if (method === 'GET') return op([TAP_READ], () => d.listTaps(key));
    }
  }
  if (root === 'directory' && key === 'deletedItems' && sub !== undefined) {
    if (seg.length === 3 && sub === 'microsoft.graph.user' && method === 'GET')
      return op([READ_USERS], () => d.listDeleted(call.query));
    if (seg.length === 3 && method === 'GET') return op([READ_USERS], () => d.getDeleted(sub));
    if (seg.length === 3 && method === 'DELETE') return op([DELETE_RESTORE], () => d.purge(sub));
    if (seg.length === 4 && sub2 === 'restore' && method === 'POST')
      return op([DELETE_RESTORE], () => d.restore(sub));
  }
  if (root === 'groups' && key !== undefined && sub === 'members') {
    // The cast to microsoft.graph.user lists only the members that are users (group-list-members).
    if (seg.length === 4 && sub2 === 'microsoft.graph.user' && method === 'GET')
      return op([READ_MEMBERS], () => d.listMembers(key, call.query));
    if (seg.length === 4 && sub2 === '$ref' && method === 'POST')
      return op([MEMBERS], () => d.addMember(key, body));
    if (seg.length === 5 && sub2 !== undefined && ref === '$ref' && method === 'DELETE') {
      return op([MEMBERS], () => d.removeMember(key, sub2));
    }
  }
  if (
    root === 'reports' &&
    key === 'authenticationMethods' &&
    sub === 'userRegistrationDetails' &&
    seg.length === 3 &&
    method === 'GET'
  ) {
    return op([AUDIT_LOG], () => (d.premium ? d.registrations.list(d.users, call.query) : notPremium()));
  }
  return fail(400, 'BadRequest', `Resource not found for the segment '${seg.at(-1) ?? ''}'.`);
}

/** Listing users needs AuditLog.Read.All as well when signInActivity is selected. */
function listNeeds(query: URLSearchParams): string[][] {
  const select = (query.get('$select') ?? '').split(',').map((s) => s.trim().toLowerCase());
  return select.includes('signinactivity') ? [READ_USERS, AUDIT_LOG] : [READ_USERS];
}

/** Writing a user needs User.ReadWrite.All; its leave date needs User-LifeCycleInfo as well. */
function writeNeeds(body: unknown): string[][] {
  return isObject(body) && 'employeeLeaveDateTime' in body ? [WRITE_USERS, LIFECYCLE] : [WRITE_USERS];
}
