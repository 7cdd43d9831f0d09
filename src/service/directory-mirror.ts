import { sql } from 'drizzle-orm';
import { directoryUsers } from '../../db/schema.js';
import { directoryAddress } from '../domain/adoption.js';
import type { DirectoryEntry, MirroredProperty } from './directory-reader.js';
import type { Executor } from './store.js';

/**
 * The directory mirror (db: directory_users): what the rounds of `/users/delta` have shown, kept
 * because a change round gives only what changed. Written a page at a time, as one statement.
 */

export interface MirrorRound {
  /** This round's token: a full round marks the rows it did not see as gone. */
  round: string;
  now: Date;
  /**
   * A full round lists every user with every property that is set, so a property it leaves out is
   * cleared; a change round leaves out what did not change, which is kept.
   */
  full: boolean;
}

/**
 * Upserts a page: users with the properties the page gave (the others kept in a change round),
 * removed users marked with Graph's reason. The page travels as one JSON parameter, as the
 * import's accounts do, so that the import's pages stay one round trip each.
 */
export async function mirrorPage(
  tx: Executor,
  entries: readonly DirectoryEntry[],
  r: MirrorRound,
): Promise<void> {
  if (entries.length === 0) return;
  const page = JSON.stringify(
    entries.map((e) => {
      if (e.kind === 'removed') return { id: e.id, removed: e.reason };
      const kept = new Set<MirroredProperty>(r.full ? [] : (e.omitted ?? []));
      const address = directoryAddress(e.userPrincipalName);
      return {
        id: e.id,
        removed: null,
        // A property's value, or absent (kept): the SQL tells them apart with `?`.
        ...(kept.has('userPrincipalName')
          ? {}
          : { upn: e.userPrincipalName, address: 'address' in address ? address.address : null }),
        ...(kept.has('givenName') ? {} : { given: e.givenName }),
        ...(kept.has('surname') ? {} : { surname: e.surname }),
        ...(kept.has('displayName') ? {} : { display: e.displayName }),
        ...(kept.has('accountEnabled') ? {} : { enabled: e.accountEnabled }),
      };
    }),
  );
  const now = r.now.toISOString();
  await tx.execute(sql`
    with page as (
      select e->>'id' as id, e->>'removed' as removed, e
      from jsonb_array_elements(${page}::jsonb) as e
    )
    insert into ${directoryUsers} as d (id, user_principal_name, address, given, surname, display_name,
      account_enabled, removed, removed_at, seen_at, round)
    select p.id,
      case when p.e ? 'upn' then p.e->>'upn' else o.user_principal_name end,
      case when p.e ? 'upn' then p.e->>'address' else o.address end,
      case when p.e ? 'given' then p.e->>'given' else o.given end,
      case when p.e ? 'surname' then p.e->>'surname' else o.surname end,
      case when p.e ? 'display' then p.e->>'display' else o.display_name end,
      case when p.e ? 'enabled' then (p.e->>'enabled')::boolean else o.account_enabled end,
      p.removed,
      case when p.removed is null then null else coalesce(o.removed_at, ${now}::timestamptz) end,
      ${now}::timestamptz, ${r.round}
    from page p left join ${directoryUsers} o on o.id = p.id
    on conflict (id) do update set
      user_principal_name = excluded.user_principal_name, address = excluded.address,
      given = excluded.given, surname = excluded.surname, display_name = excluded.display_name,
      account_enabled = excluded.account_enabled, removed = excluded.removed,
      removed_at = excluded.removed_at, seen_at = excluded.seen_at, round = excluded.round`);
}

/**
 * After a full round: the users it did not list are no longer live. Whether one went into the
 * deleted items or for good, a full round cannot say (it lists live users only): they are marked
 * `deleted`, and a later change round that shows one restored brings it back.
 */
export async function markUnseen(tx: Executor, r: MirrorRound): Promise<number> {
  const gone = await tx
    .update(directoryUsers)
    .set({ removed: 'deleted', removedAt: r.now })
    .where(sql`${directoryUsers.round} <> ${r.round} and ${directoryUsers.removed} is null`)
    .returning({ id: directoryUsers.id });
  return gone.length;
}
