import { randomBytes } from 'node:crypto';
import { badRequest, fail, type Reply } from './graph-routes.js';

/**
 * Server-driven paging of the stand-in's `GET /users`, as Graph v1.0 pages a users list
 * (learn.microsoft.com/graph/paging, graph/api/user-list): 100 users a page by default, `$top`
 * from 1 to 999, and an `@odata.nextLink` carrying the query and an opaque `$skiptoken` while more
 * remain. A `$top` outside 1–999 is refused with 400 Request_UnsupportedQuery "Invalid page size
 * specified: '1000'. Must be between 1 and 999 inclusive." (Graph's answer as quoted in public
 * clients' source, not in Microsoft's reference).
 * A skiptoken the stand-in never issued is refused with its own wording (Graph's was not found).
 */

type Props = Record<string, unknown>;

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 999;

export class ListPages {
  /** The entries still to send, by the skiptoken that asks for them. */
  private readonly held = new Map<string, Props[]>();

  clear(): void {
    this.held.clear();
  }

  /**
   * One page: of `fresh()` for a first request, of what a skiptoken held for a later one.
   * `link` is the list's URL with the query to repeat (e.g. its `$select`), without `$skiptoken`.
   */
  page(query: URLSearchParams, link: string, context: string, fresh: () => Props[] | Reply): Reply {
    const topText = query.get('$top');
    const top = topText === null ? DEFAULT_PAGE_SIZE : Number(topText);
    if (!Number.isInteger(top) || top < 1 || top > MAX_PAGE_SIZE) {
      return fail(
        400,
        'Request_UnsupportedQuery',
        `Invalid page size specified: '${topText}'. Must be between 1 and 999 inclusive.`,
      );
    }
    const skip = query.get('$skiptoken');
    let entries: Props[];
    if (skip === null) {
      const all = fresh();
      if (!Array.isArray(all)) return all;
      entries = all;
    } else {
      const held = this.held.get(skip);
      if (!held) return badRequest(`The skip token '${skip}' is unknown or was already used.`);
      this.held.delete(skip);
      entries = held;
    }
    const value = entries.slice(0, top);
    const rest = entries.slice(top);
    if (rest.length === 0) return { status: 200, body: { '@odata.context': context, value } };
    const next = randomBytes(18).toString('base64url');
    this.held.set(next, rest);
    const joiner = link.includes('?') ? '&' : '?';
    return {
      status: 200,
      body: {
        '@odata.context': context,
        '@odata.nextLink': `${link}${joiner}$top=${top}&$skiptoken=${next}`,
        value,
      },
    };
  }
}
