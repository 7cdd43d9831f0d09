import { parse } from 'csv-parse/sync';
import { inArray } from 'drizzle-orm';
import { accounts, auditLog } from '../../db/schema.js';
import { invalid, isDomainError, refused } from '../domain/errors.js';
import { awaitsFirstLogin, refuseActivity } from '../domain/preconditions.js';
import { quote } from '../domain/quote.js';
import { isSystemActor } from '../domain/roles.js';
import type { Status } from '../domain/status.js';
import { RECORDS_ACTIVITY } from '../domain/transitions.js';
import { parseAddress } from '../domain/validation.js';
import type { ServiceDeps } from './accounts.js';
import type { RequestContext } from './context.js';
import { auditValues } from './store.js';

/** One observed sign-in or sent email, from NHSmail's weekly report, sign-in data or a feed. */
export interface ActivityObservation {
  address: string;
  at: Date;
}

/** Where the bot's state and the report disagree: the bot changes nothing, a person should look. */
export interface Disagreement {
  address: string;
  status: Status;
  at: string;
  note: string;
}

export interface ActivityImportReport {
  rows: number;
  recorded: number;
  unchanged: number;
  unknown: string[];
  invalid: Array<{ row: number; problem: string }>;
  disagreements: Disagreement[];
}

const CHUNK = 500;

/**
 * Records observed activity: for active and leaver accounts the 30-day clock restarts from the
 * latest login or sent email (never wound back). Pending, inactive and deleted accounts are not
 * changed by a report: they are listed as disagreements for an administrator to act on.
 */
export async function recordObservedActivity(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { observations: ActivityObservation[]; invalid?: ActivityImportReport['invalid']; rows?: number },
): Promise<ActivityImportReport> {
  if (!isSystemActor(ctx.actor)) {
    throw refused(
      'OPERATOR_ONLY',
      'Activity reports are imported by the operator (or a configured feed), not from chat.',
    );
  }
  const latest = new Map<string, Date>();
  for (const o of input.observations) {
    if (o.at.getTime() > ctx.now.getTime()) continue;
    const seen = latest.get(o.address);
    if (!seen || seen < o.at) latest.set(o.address, o.at);
  }
  const report: ActivityImportReport = {
    rows: input.rows ?? input.observations.length,
    recorded: 0,
    unchanged: 0,
    unknown: [],
    invalid: input.invalid ?? [],
    disagreements: [],
  };
  const addresses = [...latest.keys()];
  for (let i = 0; i < addresses.length; i += CHUNK) {
    const chunk = addresses.slice(i, i + CHUNK);
    await deps.db.transaction(async (tx) => {
      const rows = await tx.select().from(accounts).where(inArray(accounts.address, chunk)).for('update');
      const known = new Map(rows.map((r) => [r.address, r]));
      const audits: Array<typeof auditLog.$inferInsert> = [];
      for (const address of chunk) {
        const at = latest.get(address) ?? ctx.now;
        const row = known.get(address);
        if (!row) {
          report.unknown.push(address);
          continue;
        }
        if (RECORDS_ACTIVITY.includes(row.status)) {
          if (row.lastActivityAt && row.lastActivityAt >= at) {
            report.unchanged++;
            continue;
          }
          await tx
            .update(accounts)
            .set({ lastActivityAt: at })
            .where(inArray(accounts.id, [row.id]));
          audits.push(
            auditValues(ctx, {
              action: 'activity',
              address,
              org: row.homeOrg,
              from: row.status,
              to: row.status,
              reason: `activity at ${at.toISOString()} (report)`,
            }),
          );
          report.recorded++;
          continue;
        }
        const since = awaitsFirstLogin(row)
          ? row.createdAt
          : (row.inactiveSince ?? row.deletedAt ?? row.statusChangedAt);
        if (at >= since) {
          report.disagreements.push({
            address,
            status: row.status,
            at: at.toISOString(),
            note: awaitsFirstLogin(row)
              ? 'signed in but the bot has no first login: record it with "first-login ADDRESS --mfa" once MFA is confirmed'
              : `active in the report but ${row.status} in the bot since ${since.toISOString().slice(0, 10)}: ${refuseActivity(row)?.message ?? 'check it'}`,
          });
        } else report.unchanged++;
      }
      if (audits.length > 0) await tx.insert(auditLog).values(audits);
    });
  }
  return report;
}

/** Column names accepted for each field of a mailbox or sign-in report (case and spacing ignored). */
export const REPORT_COLUMNS = {
  address: ['emailaddress', 'email', 'address', 'primarysmtpaddress', 'userprincipalname', 'mail'],
  activity: [
    'lastlogontime',
    'lastlogon',
    'lastlogin',
    'lastsignin',
    'lastsignindatetime',
    'lastsenttime',
    'lastsent',
    'lastsentdate',
    'lastactivity',
  ],
} as const;

const normalise = (header: string) => header.toLowerCase().replace(/[^a-z]/g, '');
const isAddressColumn = (h: string) => (REPORT_COLUMNS.address as readonly string[]).includes(normalise(h));
const isActivityColumn = (h: string) => (REPORT_COLUMNS.activity as readonly string[]).includes(normalise(h));

/** A report's date: ISO-8601, or the UK `dd/mm/yyyy [hh:mm[:ss]]` the NHSmail portal exports (UTC). */
export function parseReportDate(value: string): Date | null {
  const v = value.trim();
  if (v === '' || /^never$/i.test(v)) return null;
  const uk = /^(\d{2})\/(\d{2})\/(\d{4})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(v);
  if (uk) {
    const [d, m, y, hh, mm, ss] = uk.slice(1).map((x) => Number(x ?? 0));
    const date = new Date(Date.UTC(y ?? 0, (m ?? 1) - 1, d ?? 1, hh ?? 0, mm ?? 0, ss ?? 0));
    return date.getUTCDate() === d && date.getUTCMonth() === (m ?? 1) - 1 ? date : null;
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(v)) {
    const date = new Date(v.length === 10 ? `${v}T00:00:00Z` : v);
    return Number.isNaN(date.getTime()) ? null : date;
  }
  return null;
}

const NEEDS =
  'an address column (e.g. "Email Address") and at least one activity column (e.g. "Last Logon Time", "Last Sent Time")';

/**
 * Reads NHSmail's weekly mailbox report (or a sign-in export) as CSV: one address column and any
 * number of activity columns (last logon, last sent…); the latest date in a row is its activity.
 * The header row is checked even when no row follows it, and a file with no header row at all is
 * refused as empty: neither is a report with nothing to record. `name` is how messages call it.
 */
export function parseActivityReport(
  csv: string,
  name = 'The report',
): {
  observations: ActivityObservation[];
  invalid: ActivityImportReport['invalid'];
  rows: number;
} {
  // Set by the parser's header callback: read after it, so not narrowed to its initial null.
  let headers = null as string[] | null;
  let records: Record<string, string>[];
  try {
    records = parse(csv, {
      columns: (header: string[]) => {
        headers = header;
        if (!header.some(isAddressColumn) || !header.some(isActivityColumn)) {
          throw invalid(
            'INVALID_REPORT',
            `${name} needs ${NEEDS} in its header row; it has: ${header.map(quote).join(', ')}.`,
          );
        }
        return header;
      },
      skip_empty_lines: true,
      trim: true,
      bom: true,
    }) as Record<string, string>[];
  } catch (e) {
    if (isDomainError(e)) throw e;
    throw invalid(
      'INVALID_REPORT',
      `${name} is not readable CSV: ${e instanceof Error ? e.message : String(e)}. Nothing was recorded.`,
    );
  }
  if (headers === null) {
    throw invalid(
      'FILE_EMPTY',
      `${name} is empty: expected a header line with ${NEEDS}, then a row per mailbox.`,
    );
  }
  const addressColumn = headers.find(isAddressColumn);
  const activityColumns = headers.filter(isActivityColumn);
  const observations: ActivityObservation[] = [];
  const problems: ActivityImportReport['invalid'] = [];
  records.forEach((record, index) => {
    const row = index + 2; // the header is row 1
    let address: string;
    try {
      address = parseAddress(record[addressColumn ?? ''] ?? '');
    } catch (e) {
      problems.push({ row, problem: e instanceof Error ? e.message : String(e) });
      return;
    }
    const dates = activityColumns.map((c) => ({
      column: c,
      raw: record[c] ?? '',
      date: parseReportDate(record[c] ?? ''),
    }));
    const bad = dates.find((d) => d.raw.trim() !== '' && !/^never$/i.test(d.raw.trim()) && d.date === null);
    if (bad) {
      problems.push({
        row,
        problem: `${quote(bad.raw)} in ${bad.column} is not a date (dd/mm/yyyy hh:mm or ISO-8601).`,
      });
      return;
    }
    const latest = dates
      .map((d) => d.date)
      .filter((d): d is Date => d !== null)
      .sort((a, b) => b.getTime() - a.getTime())[0];
    if (latest) observations.push({ address, at: latest });
  });
  return { observations, invalid: problems, rows: records.length };
}
