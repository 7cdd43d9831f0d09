import { randomBytes } from 'node:crypto';
import { fail, type Reply } from './graph-routes.js';

/**
 * Change tracking for the stand-in's `GET /users/delta`, as Graph v1.0 does it.
 *
 * Behaviour, from Microsoft Learn (graph/delta-query-overview, graph/delta-query-users,
 * graph/api/user-delta) unless said otherwise:
 * - A round starts without a token and lists the users that exist now; pages carry an
 *   `@odata.nextLink` with a `$skiptoken` until the last, which carries an `@odata.deltaLink` with
 *   a `$deltatoken` (never both). The tokens encode the first request's `$select`, which need not
 *   be repeated. `id` is always returned; a property never set is left out of the entry.
 * - With a `$deltatoken`, only users created or changed since, and removed ones as
 *   `{ id, "@removed": { reason } }`: "changed" for a user deleted into deleted items (it can be
 *   restored), "deleted" for one permanently deleted. A restored user comes back without an
 *   annotation. `$deltatoken=latest` answers a deltaLink and no users ("sync from now").
 * - Page size: the reference documents none for users, and `$top` is not supported on user delta
 *   (it is ignored, learn.microsoft.com/answers/questions/1090464). A Microsoft answer
 *   (learn.microsoft.com/answers/a/2052165) gives 200 objects a page for users, the same without
 *   `Prefer: odata.maxpagesize`, a higher preference capped to it: the stand-in does that, its cap
 *   settable for benchmarks.
 * - An expired or unknown token: "Delta query can return a response code of 410 (gone) and a
 *   Location header containing a request URL with an empty $deltaToken … the application must
 *   restart with a full synchronization"; directory delta tokens last seven days; the code is
 *   syncStateNotFound, "The sync state generation is not found. The delta token is expired and
 *   data must be synchronized again." (graph/errors, and the Microsoft 365 Dev Blog, "Duration of
 *   change tracking tokens for identity and education resources", 2020-07-03, which reports it as
 *   a 400 BadRequest: the stand-in answers the 410 the overview documents).
 */

type Props = Record<string, unknown>;

/** Users a page when neither the test nor a `Prefer` header says otherwise. */
export const DELTA_PAGE_SIZE = 200;
/** Directory delta tokens last seven days (graph/delta-query-overview, "Token duration"). */
const TOKEN_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

/** What the delta route needs of the directory. */
export interface DeltaSource {
  users: ReadonlyMap<string, Props>;
  deleted: ReadonlyMap<string, Props>;
  /** The `$select` names, resolved as the type spells them, or Graph's refusal. */
  selection(query: URLSearchParams): string[] | Reply;
  now(): Date;
  base(): string;
}

interface Round {
  /** Entries not yet sent in this round. */
  rest: Props[];
  /** The change sequence this round's deltaLink will start from. */
  upTo: number;
}

const token = () => randomBytes(24).toString('base64url');

export class DeltaTracker {
  private seq = 0;
  /** Each user's last change, live, deleted or purged, as a sequence number. */
  private readonly changed = new Map<string, number>();
  private readonly deltaTokens = new Map<string, { since: number; select: string[]; issued: number }>();
  private readonly skipTokens = new Map<string, Round & { select: string[] }>();
  /** The most users a page holds; a `Prefer: odata.maxpagesize` may ask for fewer. */
  pageSize = DELTA_PAGE_SIZE;

  /** Records a change to a user: created, updated, deleted, restored or purged. */
  touch(id: string): void {
    this.changed.set(id, ++this.seq);
  }

  /** Forgets every token handed out: the next use of one answers 410, as an expired one does. */
  expireTokens(): void {
    this.deltaTokens.clear();
    this.skipTokens.clear();
  }

  clear(): void {
    this.expireTokens();
    this.changed.clear();
    this.seq = 0;
    this.pageSize = DELTA_PAGE_SIZE;
  }

  page(d: DeltaSource, query: URLSearchParams, prefer: string | undefined): Reply {
    const skip = query.get('$skiptoken');
    const delta = query.get('$deltatoken');
    let round: Round & { select: string[] };
    if (skip !== null) {
      const held = this.skipTokens.get(skip);
      if (!held) return this.gone(d);
      this.skipTokens.delete(skip);
      round = held;
    } else if (delta !== null && delta !== 'latest') {
      const held = this.deltaTokens.get(delta);
      if (!held || d.now().getTime() - held.issued > TOKEN_LIFETIME_MS) return this.gone(d);
      round = { rest: this.since(d, held.since, held.select), upTo: this.seq, select: held.select };
    } else {
      const select = d.selection(query);
      if (!Array.isArray(select)) return select;
      const everyone = delta === 'latest' ? [] : [...d.users.values()].map((u) => entry(u, select));
      round = { rest: everyone, upTo: this.seq, select };
    }
    const size = this.size(prefer);
    const value = round.rest.slice(0, size);
    const rest = round.rest.slice(size);
    const link = `${d.base()}/users/delta`;
    const context = `${d.base()}/$metadata#users(${round.select.join(',')})`;
    const applied = size < this.pageSize ? { 'preference-applied': `odata.maxpagesize=${size}` } : undefined;
    if (rest.length > 0) {
      const next = token();
      this.skipTokens.set(next, { ...round, rest });
      return {
        status: 200,
        body: { '@odata.context': context, '@odata.nextLink': `${link}?$skiptoken=${next}`, value },
        ...(applied ? { headers: applied } : {}),
      };
    }
    const next = token();
    this.deltaTokens.set(next, { since: round.upTo, select: round.select, issued: d.now().getTime() });
    return {
      status: 200,
      body: { '@odata.context': context, '@odata.deltaLink': `${link}?$deltatoken=${next}`, value },
      ...(applied ? { headers: applied } : {}),
    };
  }

  /** The users changed after `since`: live ones as entries, the others as removed. */
  private since(d: DeltaSource, since: number, select: string[]): Props[] {
    const out: Props[] = [];
    for (const [id, seq] of this.changed) {
      if (seq <= since) continue;
      const user = d.users.get(id);
      if (user) out.push(entry(user, select));
      else out.push({ id, '@removed': { reason: d.deleted.has(id) ? 'changed' : 'deleted' } });
    }
    return out;
  }

  private size(prefer: string | undefined): number {
    const asked = Number(/odata\.maxpagesize=(\d+)/i.exec(prefer ?? '')?.[1] ?? Number.NaN);
    return Number.isInteger(asked) && asked > 0 ? Math.min(asked, this.pageSize) : this.pageSize;
  }

  private gone(d: DeltaSource): Reply {
    return {
      ...fail(
        410,
        'syncStateNotFound',
        'The sync state generation is not found. The delta token is expired and data must be synchronized again.',
      ),
      headers: { location: `${d.base()}/users/delta?$deltatoken=` },
    };
  }
}

/** A user as a delta page shows it: the selected properties that were ever set, and the id. */
function entry(user: Props, select: string[]): Props {
  const out: Props = {};
  for (const name of select) if (user[name] !== undefined) out[name] = user[name];
  out.id = user.id;
  return out;
}
