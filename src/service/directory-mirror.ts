import { sql } from 'drizzle-orm';
import { rowsOf } from '../../db/index.js';
import { directoryUsers } from '../../db/schema.js';
import { directoryAddress } from '../domain/adoption.js';
import type { DirectoryEntry, MirroredProperty } from './directory-reader.js';
import type { Executor } from './store.js';

/**
 * The directory mirror (db: directory_users): what the rounds of `/users/delta` have shown, kept
 * because a change round gives only what changed. Written a page at a time, as one statement.
 */

export interface MirrorRound {
  now: Date;
  /**
   * A full round lists every user with every property that is set, so a property it leaves out is
   * cleared; a change round leaves out what did not change, which is kept.
   */
  full: boolean;
  /** The users this round listed: after a full round, the others are no longer live. */
  seen: Set<string>;
}

export const mirrorRound = (now: Date, full: boolean): MirrorRound => ({ now, full, seen: new Set() });

const COLUMNS = sql`user_principal_name, address, given, surname, display_name, account_enabled, removed`;

/**
 * Upserts a page: users with the properties the page gave (the others kept in a change round),
 * removed users marked with Graph's reason. A row the page leaves as it was is not written: a
 * second import, or a change round, rewrites only what changed. The page travels as one JSON
 * parameter, as the import's accounts do, so that the import's pages stay one round trip each.
 */
export async function mirrorPage(
  tx: Executor,
  entries: readonly DirectoryEntry[],
  r: MirrorRound,
): Promise<void> {
  if (entries.length === 0) return;
  for (const e of entries) r.seen.add(e.id);
  const page = JSON.stringify(
    onceEach(entries).map((e) => {
      if (e.kind === 'removed') return { id: e.id, removed: e.reason };
      const kept = new Set<MirroredProperty>(r.full ? [] : (e.omitted ?? []));
      const address = directoryAddress(e.userPrincipalName);
      return {
        id: e.id,
        removed: null,
        // A property's value, or absent (kept): the change round's SQL tells them apart with `?`.
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
  const rows = r.full
    ? sql`
      select r.id, r.upn, r.address, r.given, r.surname, r.display, r.enabled, r.removed
      from jsonb_to_recordset(${page}::jsonb) as r(id text, upn text, address text, given text,
        surname text, display text, enabled boolean, removed text)`
    : sql`
      select p.id,
        case when p.e ? 'upn' then p.e->>'upn' else o.user_principal_name end,
        case when p.e ? 'upn' then p.e->>'address' else o.address end,
        case when p.e ? 'given' then p.e->>'given' else o.given end,
        case when p.e ? 'surname' then p.e->>'surname' else o.surname end,
        case when p.e ? 'display' then p.e->>'display' else o.display_name end,
        case when p.e ? 'enabled' then (p.e->>'enabled')::boolean else o.account_enabled end,
        p.e->>'removed'
      from (select e->>'id' as id, e from jsonb_array_elements(${page}::jsonb) as e) p
      left join ${directoryUsers} o on o.id = p.id`;
  await tx.execute(sql`
    insert into ${directoryUsers} as d (id, ${COLUMNS}, removed_at, changed_at)
    select v.*, case when v.removed is null then null else ${now}::timestamptz end, ${now}::timestamptz
    from (${rows}) as v(id, user_principal_name, address, given, surname, display_name, account_enabled, removed)
    on conflict (id) do update set
      user_principal_name = excluded.user_principal_name, address = excluded.address,
      given = excluded.given, surname = excluded.surname, display_name = excluded.display_name,
      account_enabled = excluded.account_enabled, removed = excluded.removed,
      removed_at = case when excluded.removed is null then null else coalesce(d.removed_at, excluded.removed_at) end,
      changed_at = excluded.changed_at
    where (d.user_principal_name, d.address, d.given, d.surname, d.display_name, d.account_enabled, d.removed)
      is distinct from (excluded.user_principal_name, excluded.address, excluded.given, excluded.surname,
        excluded.display_name, excluded.account_enabled, excluded.removed)`);
}

/**
 * After a full round: the users it did not list are no longer live. A full round lists live users
 * only, so `restorable` (the directory's deleted items, read after the round) tells the two apart:
 * those are `changed` (restorable), the rest `deleted` for good. A later change round that shows
 * one restored brings it back.
 */
export async function markUnseen(
  tx: Executor,
  r: MirrorRound,
  restorable: ReadonlySet<string> = new Set(),
): Promise<number> {
  const seen = JSON.stringify([...r.seen]);
  const deletedItems = JSON.stringify([...restorable]);
  const now = r.now.toISOString();
  const gone = await tx.execute(sql`
    update ${directoryUsers} as d
    set removed = case when exists (select 1 from jsonb_array_elements_text(${deletedItems}::jsonb) as x(id)
                                    where x.id = d.id) then 'changed' else 'deleted' end,
      removed_at = coalesce(d.removed_at, ${now}::timestamptz),
      changed_at = ${now}::timestamptz
    where (d.removed is null or d.removed = 'changed')
      and not exists (select 1 from jsonb_array_elements_text(${seen}::jsonb) as s(id) where s.id = d.id)
      and d.removed is distinct from (case when exists (select 1 from jsonb_array_elements_text(${deletedItems}::jsonb) as x(id)
                                    where x.id = d.id) then 'changed' else 'deleted' end)
    returning d.id`);
  return rowsOf(gone).length;
}

/**
 * A page's entries with each user once: Graph may list a user twice in a delta sequence, and one
 * upsert cannot change a row twice. The later entry wins; in a change round, where each gives only
 * what changed, a property the later one left out is taken from the earlier.
 */
function onceEach(entries: readonly DirectoryEntry[]): DirectoryEntry[] {
  const byId = new Map<string, DirectoryEntry>();
  for (const e of entries) {
    const before = byId.get(e.id);
    byId.delete(e.id);
    if (before?.kind === 'user' && e.kind === 'user' && e.omitted && e.omitted.length > 0) {
      const kept = new Set<MirroredProperty>(e.omitted);
      const merged: DirectoryEntry = { ...e, omitted: (before.omitted ?? []).filter((p) => kept.has(p)) };
      for (const p of kept)
        if (!(before.omitted ?? []).includes(p)) Object.assign(merged, { [p]: before[p] });
      byId.set(e.id, merged);
    } else byId.set(e.id, e);
  }
  return [...byId.values()];
}
