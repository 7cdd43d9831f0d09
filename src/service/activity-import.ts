import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse as parseStream } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { inArray, sql } from 'drizzle-orm';
import { rowsOf } from '../../db/index.js';
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
import { NotPlainCsv, plainCsvRecords } from './plain-csv.js';
import { databaseMessage, isRowRefusal } from './row-refusal.js';
import { auditValues, type Executor } from './store.js';

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
  /** Addresses whose write failed on its own (the rest of their set was written without them). */
  failed: Array<{ address: string; problem: string }>;
}

/**
 * Addresses written per set: one statement updates a set's clocks and writes its audit rows, the
 * set travelling as one JSON parameter (jsonb_to_recordset), as `directory import` writes a page.
 */
export const ACTIVITY_SET = 2000;

/**
 * Sets written at once, each in its own transaction: PostgreSQL writes one on each of two
 * connections (the sets never share an address). PGlite, with one connection, runs them one after
 * the other.
 */
const SETS_IN_FLIGHT = 2;

/** What one set found, merged into the report in file order once every set is written. */
interface SetOutcome {
  recorded: number;
  unchanged: number;
  unknown: string[];
  disagreements: Disagreement[];
  failed: Array<{ address: string; problem: string }>;
}

/**
 * Records observed activity: for active and leaver accounts the 30-day clock restarts from the
 * latest login or sent email (never wound back). Pending, inactive and deleted accounts are not
 * changed by a report: they are listed as disagreements for an administrator to act on.
 *
 * Addresses are written in sets of ACTIVITY_SET, each set in its own transaction as one statement.
 * A set whose write fails is written again in halves, each in its own transaction, down to the address that fails, so
 * one address that cannot be written (listed in `failed`) never undoes another.
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
    failed: [],
  };
  const entries = [...latest.entries()];
  const sets: Array<Array<[string, Date]>> = [];
  for (let i = 0; i < entries.length; i += ACTIVITY_SET) sets.push(entries.slice(i, i + ACTIVITY_SET));
  const outcomes: SetOutcome[] = new Array(sets.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < sets.length; i = next++) {
      outcomes[i] = await writeSetIsolated(deps, ctx, sets[i] ?? []);
    }
  };
  await Promise.all(Array.from({ length: Math.min(SETS_IN_FLIGHT, sets.length) }, worker));
  for (const o of outcomes) {
    report.recorded += o.recorded;
    report.unchanged += o.unchanged;
    report.unknown.push(...o.unknown);
    report.disagreements.push(...o.disagreements);
    report.failed.push(...o.failed);
  }
  return report;
}

/** One set in one transaction; if that fails, each half in its own, down to the address that fails. */
async function writeSetIsolated(
  deps: ServiceDeps,
  ctx: RequestContext,
  set: Array<[string, Date]>,
): Promise<SetOutcome> {
  try {
    return await deps.db.transaction((tx) => writeSet(tx, ctx, set));
  } catch (e) {
    if (isDomainError(e) || !isRowRefusal(e)) throw e;
    if (set.length === 1) {
      const address = set[0]?.[0] ?? '';
      const problem = `not recorded: ${databaseMessage(e)}`;
      return { recorded: 0, unchanged: 0, unknown: [], disagreements: [], failed: [{ address, problem }] };
    }
  }
  const outcome: SetOutcome = { recorded: 0, unchanged: 0, unknown: [], disagreements: [], failed: [] };
  // Halves, each in its own transaction, down to the address that fails: a few transactions to
  // find one bad row among thousands, instead of one per address.
  const half = Math.ceil(set.length / 2);
  for (const part of [set.slice(0, half), set.slice(half)]) {
    const o = await writeSetIsolated(deps, ctx, part);
    outcome.recorded += o.recorded;
    outcome.unchanged += o.unchanged;
    outcome.unknown.push(...o.unknown);
    outcome.disagreements.push(...o.disagreements);
    outcome.failed.push(...o.failed);
  }
  return outcome;
}

/**
 * A set's clocks and audit rows in one statement, after locking its accounts in id order (two
 * imports at once wait for each other instead of deadlocking). The update itself keeps the rules
 * a concurrent writer could race: only active and leaver accounts, and only forward — PostgreSQL
 * checks both again on the row as it is once its lock is free, so a clock is never wound back.
 */
async function writeSet(tx: Executor, ctx: RequestContext, set: Array<[string, Date]>): Promise<SetOutcome> {
  const outcome: SetOutcome = { recorded: 0, unchanged: 0, unknown: [], disagreements: [], failed: [] };
  const page = JSON.stringify(
    set.map(([address, at], n) => ({
      n,
      address,
      at: at.toISOString(),
      reason: `activity at ${at.toISOString()} (report)`,
    })),
  );
  const addresses = JSON.stringify(set.map(([address]) => address));
  const known = new Map(
    rowsOf<{ address: string; status: Status }>(
      await tx.execute(sql`
        select ${accounts.address} as address, ${accounts.status}::text as status from ${accounts}
        where ${accounts.address} in (select jsonb_array_elements_text(${addresses}::jsonb))
        order by ${accounts.id} for update`),
    ).map((r) => [r.address, r.status]),
  );
  const audit = auditValues(ctx, { action: 'activity' });
  const recording = sql.join(
    RECORDS_ACTIVITY.map((s) => sql`${s}`),
    sql`, `,
  );
  const recorded = new Set(
    rowsOf<{ address: string }>(
      await tx.execute(sql`
        with obs as (
          select * from jsonb_to_recordset(${page}::jsonb) as r(n int, address text, at timestamptz, reason text)
        ),
        upd as (
          update ${accounts} a set last_activity_at = obs.at
          from obs
          where a.address = obs.address and a.status::text in (${recording})
            and (a.last_activity_at is null or a.last_activity_at < obs.at)
          returning a.address, a.home_org, a.status
        )
        insert into ${auditLog} (at, actor, platform, action, address, org, from_status, to_status, reason)
        select ${ctx.now.toISOString()}::timestamptz, ${audit.actor}, ${audit.platform}::platform,
          ${audit.action}, upd.address, upd.home_org, upd.status, upd.status, obs.reason
        from upd join obs on obs.address = upd.address
        order by obs.n
        returning address`),
    ).map((r) => r.address),
  );
  const others: string[] = [];
  for (const [address] of set) {
    const status = known.get(address);
    if (status === undefined) outcome.unknown.push(address);
    else if (recorded.has(address)) outcome.recorded++;
    else if (RECORDS_ACTIVITY.includes(status)) outcome.unchanged++;
    else others.push(address);
  }
  if (others.length === 0) return outcome;
  // Accounts the report cannot change (pending, inactive, disabled, deleted): read whole, few.
  const rows = new Map(
    (await tx.select().from(accounts).where(inArray(accounts.address, others))).map((r) => [r.address, r]),
  );
  for (const [address, at] of set) {
    const row = rows.get(address);
    if (!row) continue;
    const since = awaitsFirstLogin(row)
      ? row.createdAt
      : (row.inactiveSince ?? row.deletedAt ?? row.statusChangedAt);
    if (at >= since) {
      outcome.disagreements.push({
        address,
        status: row.status,
        at: at.toISOString(),
        note: awaitsFirstLogin(row)
          ? 'signed in but the bot has no first login: record it with "first-login ADDRESS --mfa" once MFA is confirmed'
          : `active in the report but ${row.status} in the bot since ${since.toISOString().slice(0, 10)}: ${refuseActivity(row)?.message ?? 'check it'}`,
      });
    } else outcome.unchanged++;
  }
  return outcome;
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

/** What reading a report gives `recordObservedActivity`. */
export interface ParsedActivityReport {
  observations: ActivityObservation[];
  invalid: ActivityImportReport['invalid'];
  rows: number;
}

/**
 * A report's rows as they are read: the header is checked first, then each record becomes an
 * observation, an unreadable row (with its row number, the header being row 1) or nothing (a row
 * with no activity at all).
 */
class ReportReader {
  private addressColumn = -1;
  private activityColumns: Array<{ index: number; name: string }> = [];
  headers: string[] | null = null;
  readonly parsed: ParsedActivityReport = { observations: [], invalid: [], rows: 0 };

  constructor(private readonly name: string) {}

  header(header: string[]): void {
    this.headers = header;
    if (!header.some(isAddressColumn) || !header.some(isActivityColumn)) {
      throw invalid(
        'INVALID_REPORT',
        `${this.name} needs ${NEEDS} in its header row; it has: ${header.map(quote).join(', ')}.`,
      );
    }
    this.addressColumn = header.findIndex(isAddressColumn);
    this.activityColumns = header.flatMap((name, index) => (isActivityColumn(name) ? [{ index, name }] : []));
  }

  record(fields: readonly string[]): void {
    const row = ++this.parsed.rows + 1; // the header is row 1
    let address: string;
    try {
      address = parseAddress(fields[this.addressColumn] ?? '');
    } catch (e) {
      this.parsed.invalid.push({ row, problem: e instanceof Error ? e.message : String(e) });
      return;
    }
    let latest: Date | null = null;
    for (const c of this.activityColumns) {
      const raw = fields[c.index] ?? '';
      const date = parseReportDate(raw);
      if (date === null) {
        const v = raw.trim();
        if (v !== '' && !/^never$/i.test(v)) {
          this.parsed.invalid.push({
            row,
            problem: `${quote(raw)} in ${c.name} is not a date (dd/mm/yyyy hh:mm or ISO-8601).`,
          });
          return;
        }
        continue;
      }
      if (latest === null || date > latest) latest = date;
    }
    if (latest) this.parsed.observations.push({ address, at: latest });
  }

  end(): ParsedActivityReport {
    if (this.headers === null) {
      throw invalid(
        'FILE_EMPTY',
        `${this.name} is empty: expected a header line with ${NEEDS}, then a row per mailbox.`,
      );
    }
    return this.parsed;
  }
}

const CSV_OPTIONS = { skip_empty_lines: true, trim: true, bom: true } as const;

const notReadable = (name: string, e: unknown) =>
  invalid(
    'INVALID_REPORT',
    `${name} is not readable CSV: ${e instanceof Error ? e.message : String(e)}. Nothing was recorded.`,
  );

/**
 * Reads NHSmail's weekly mailbox report (or a sign-in export) as CSV: one address column and any
 * number of activity columns (last logon, last sent…); the latest date in a row is its activity.
 * The header row is checked even when no row follows it, and a file with no header row at all is
 * refused as empty: neither is a report with nothing to record. `name` is how messages call it.
 */
export function parseActivityReport(csv: string, name = 'The report'): ParsedActivityReport {
  const reader = new ReportReader(name);
  try {
    const records = parse(csv, CSV_OPTIONS) as string[][];
    records.forEach((fields, i) => {
      if (i === 0) reader.header(fields);
      else reader.record(fields);
    });
  } catch (e) {
    if (isDomainError(e)) throw e;
    throw notReadable(name, e);
  }
  return reader.end();
}

/**
 * `parseActivityReport` as the file streams in: the same checks, rows and messages, without the
 * whole file (a million-row weekly report) in memory as text and records. `open` gives the file
 * from its start: it is read with the plain-CSV reader, and again with csv-parse only when that
 * gives up (see plain-csv.ts). The whole file is read before anything is recorded, so one that is
 * not CSV to its end changes nothing.
 */
export async function readActivityReport(
  open: () => ReportSource,
  name = 'The report',
): Promise<ParsedActivityReport> {
  const reader = new ReportReader(name);
  try {
    let first = true;
    for await (const records of plainCsvRecords(open())) {
      for (const fields of records) {
        if (first) {
          first = false;
          reader.header(fields);
        } else reader.record(fields);
      }
    }
    return reader.end();
  } catch (e) {
    if (!(e instanceof NotPlainCsv)) throw e;
  }
  return readWithCsvParse(open(), name);
}

async function readWithCsvParse(source: ReportSource, name: string): Promise<ParsedActivityReport> {
  const reader = new ReportReader(name);
  const parser = parseStream(CSV_OPTIONS);
  const feeding = pipeline(source, parser);
  // A failure reaches the loop below through the parser; the pipeline's own copy is awaited last.
  feeding.catch(() => {});
  try {
    let first = true;
    for await (const fields of parser as AsyncIterable<string[]>) {
      if (first) {
        first = false;
        reader.header(fields);
      } else reader.record(fields);
    }
    await feeding;
  } catch (e) {
    parser.destroy();
    if (isDomainError(e)) throw e;
    throw notReadable(name, e);
  }
  return reader.end();
}

/** The file's bytes: a read stream, or any (async) iterable of chunks. */
export type ReportSource = Readable | Iterable<string | Buffer> | AsyncIterable<string | Buffer>;
