import { and, asc, gte, lt, sql } from 'drizzle-orm';
import { auditLog } from '../../db/schema.js';
import { refused } from '../domain/errors.js';
import { isSystemActor } from '../domain/roles.js';
import type { Status } from '../domain/status.js';
import { londonDayStart, nextDay } from '../domain/time.js';
import type { ServiceDeps } from './accounts.js';
import type { RequestContext } from './context.js';

/**
 * One row of the audit export: the fields of `audit ADDRESS --json` (same names), plus the
 * account's address and the entry's structured details, since the export spans every account.
 */
export interface AuditExportRow {
  at: string;
  actor: string;
  platform: string;
  action: string;
  address: string | null;
  org: string | null;
  from: Status | null;
  to: Status | null;
  reason: string | null;
  details: Record<string, unknown> | null;
}

export interface AuditExport {
  /** The first and last London calendar days asked for (both included). */
  from: string;
  to: string;
  /** The instants those days cover: from `since` (included) to `until` (excluded). */
  since: string;
  until: string;
  /** The entries, oldest first, a page at a time: only one page is ever held in memory. */
  pages(): AsyncIterable<AuditExportRow[]>;
}

/** Rows per page: small enough to hold, large enough that a million rows is a thousand queries. */
export const EXPORT_PAGE = 1000;

/**
 * `export audit --from DATE --to DATE`: every audit entry of those days, London time (GMT or
 * BST, as the NHS's own day runs), oldest first, as evidence for the Data Security and Protection
 * Toolkit. Entries are read by keyset on (at, id), one short query per page, so an export of
 * any size holds no long transaction (the embedded database has one connection) and no more
 * than a page in memory. Entries written while it runs with times inside the range may or may
 * not appear: export days that have ended.
 */
export async function exportAudit(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { from: string; to: string; pageSize?: number },
): Promise<AuditExport> {
  if (!isSystemActor(ctx.actor)) {
    throw refused('OPERATOR_ONLY', 'The audit trail is exported by the operator on the bot’s command line.');
  }
  const since = londonDayStart(input.from);
  const until = londonDayStart(nextDay(input.to));
  const pageSize = input.pageSize ?? EXPORT_PAGE;
  async function* pages(): AsyncGenerator<AuditExportRow[]> {
    // The cursor keeps `at` as PostgreSQL's own text, which holds microseconds a Date would lose.
    let after: { at: string; id: number } | null = null;
    for (;;) {
      const rows = await deps.db
        .select({
          id: auditLog.id,
          cursor: sql<string>`${auditLog.at}::text`,
          at: auditLog.at,
          actor: auditLog.actor,
          platform: auditLog.platform,
          action: auditLog.action,
          address: auditLog.address,
          org: auditLog.org,
          from: auditLog.fromStatus,
          to: auditLog.toStatus,
          reason: auditLog.reason,
          details: auditLog.details,
        })
        .from(auditLog)
        .where(
          and(
            gte(auditLog.at, since),
            lt(auditLog.at, until),
            after
              ? sql`(${auditLog.at}, ${auditLog.id}) > (${after.at}::timestamptz, ${after.id}::bigint)`
              : undefined,
          ),
        )
        .orderBy(asc(auditLog.at), asc(auditLog.id))
        .limit(pageSize);
      if (rows.length > 0) {
        yield rows.map(({ id: _id, cursor: _cursor, at, ...r }) => ({ ...r, at: at.toISOString() }));
      }
      const last = rows.at(-1);
      if (!last || rows.length < pageSize) return;
      after = { at: last.cursor, id: Number(last.id) };
    }
  }
  return { from: input.from, to: input.to, since: since.toISOString(), until: until.toISOString(), pages };
}
