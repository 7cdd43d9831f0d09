import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';
import { inArray, sql } from 'drizzle-orm';
import { rowsOf, type Tx } from '../../db/index.js';
import { auditLog, organisations } from '../../db/schema.js';
import { invalid, isDomainError, refused } from '../domain/errors.js';
import { isSiteKind, type OrgKind } from '../domain/organisation.js';
import { quote } from '../domain/quote.js';
import { isSystemActor } from '../domain/roles.js';
import { londonDate } from '../domain/time.js';
import { parseOds, parseOrgName } from '../domain/validation.js';
import type { ServiceDeps } from './accounts.js';
import type { RequestContext } from './context.js';
import { databaseMessage, isRowRefusal } from './row-refusal.js';
import { type AuditEntry, auditValues, type Executor } from './store.js';

/**
 * The columns of NHS ODS's CSV extracts (etr.csv, epraccur.csv, edispensary.csv, egdpprac.csv…)
 * this import reads. The files have no header row and 27 columns; 1–12 are the same in all of
 * them: organisation code, name, national grouping, high level health geography, address lines
 * 1–5, postcode, open date and close date (dates YYYYMMDD, empty when none). Later columns differ
 * by file (epraccur: status code, sub-type, commissioner…) and are not read.
 */
export const ODS_COLUMNS = { code: 0, name: 1, openDate: 10, closeDate: 11 } as const;
const ODS_MIN_COLUMNS = ODS_COLUMNS.closeDate + 1;

export interface OrgImportReport {
  kind: OrgKind;
  dryRun: boolean;
  /** Data rows read (a header row, if any, and blank lines not counted). */
  rows: number;
  added: number;
  updated: number;
  unchanged: number;
  closed: number;
  rejected: number;
  /**
   * Community sites (pharmacy, dental, care-home) the bot has not registered: never added, since
   * NAS registers a site with `site register` (DSPT check, shared mailbox, owner), which an
   * organisation already on file would block.
   */
  notRegistered: number;
  /** The rows behind the counts, each list cut at LIST_LIMIT (the counts are complete). */
  details: {
    added: Array<{ row: number; ods: string; name: string }>;
    renamed: Array<{ row: number; ods: string; from: string; to: string }>;
    closed: Array<{ row: number; ods: string; name: string; closedOn: string; registered: boolean }>;
    rejected: Array<{ row: number; ods: string | null; problem: string }>;
    notRegistered: Array<{ row: number; ods: string; name: string }>;
  };
  truncated: boolean;
}

/** The file's bytes: a read stream, or any (async) iterable of chunks. */
export type OdsSource = Readable | Iterable<string | Buffer> | AsyncIterable<string | Buffer>;

const LIST_LIMIT = 1000;
const BATCH = 2000;

interface OdsRow {
  row: number;
  ods: string;
  name: string;
  closedOn: string | null;
}

class DryRunRollback extends Error {}

/**
 * `import orgs FILE.csv --kind KIND`: organisations from an ODS extract. New codes are added as
 * `org add` adds them (same validation, an `org-add` audit row each); a registered one whose name
 * ODS now spells differently is renamed (`org-rename`, audited), letter case aside, so a name an
 * operator typed properly is not replaced by ODS's capitals. Organisations closed on or before
 * today (London) are reported and never added; nothing is ever deleted. A registered
 * organisation of another kind is not changed: kinds carry rules (site caps, DSPT minimums).
 * Community sites are only renamed and reported, never added: see `notRegistered`.
 *
 * One transaction: malformed CSV (a quote never closed…) rolls everything back, and a dry run is
 * the same work, rolled back. The file streams through in batches, so its size does not matter.
 */
export async function importOrganisations(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { source: OdsSource; kind: OrgKind; dryRun: boolean; file?: string },
): Promise<OrgImportReport> {
  if (!isSystemActor(ctx.actor)) {
    throw refused(
      'OPERATOR_ONLY',
      'Organisation data is imported by the operator on the bot’s command line.',
    );
  }
  const report: OrgImportReport = {
    kind: input.kind,
    dryRun: input.dryRun,
    rows: 0,
    added: 0,
    updated: 0,
    unchanged: 0,
    closed: 0,
    rejected: 0,
    notRegistered: 0,
    details: { added: [], renamed: [], closed: [], rejected: [], notRegistered: [] },
    truncated: false,
  };
  const note = <K extends keyof OrgImportReport['details']>(
    list: K,
    entry: OrgImportReport['details'][K][number],
  ) => {
    const entries = report.details[list] as Array<typeof entry>;
    if (entries.length < LIST_LIMIT) entries.push(entry);
    else report.truncated = true;
  };
  const reject = (row: number, ods: string | null, problem: string) => {
    report.rejected++;
    note('rejected', { row, ods, problem });
  };
  const today = londonDate(ctx.now);
  const firstSeen = new Map<string, number>();

  // Some rows are refused as they are read, others with their batch: list them in file order.
  const inFileOrder = () => {
    for (const list of Object.values(report.details) as Array<Array<{ row: number }>>) {
      list.sort((a, b) => a.row - b.row);
    }
    return report;
  };
  const name = input.file === undefined ? 'The file' : quote(input.file);
  try {
    await deps.db.transaction(async (tx) => {
      let batch: OdsRow[] = [];
      let empty = true;
      for await (const { row, fields } of odsRecords(input.source)) {
        empty = false;
        if (row === 1 && report.rows === 0 && isHeader(fields)) continue;
        report.rows++;
        // Some other file (one line of text, a CSV of another layout) is refused whole, not
        // reported as a file of rejected rows.
        if (report.rows === 1 && fields.length < ODS_MIN_COLUMNS) {
          throw invalid(
            'INVALID_FILE',
            `${name} is not an ODS extract: its first row (line ${row}) has ${fields.length} column(s), and ODS extracts have 27 (code, name, …, open date in column 11, close date in column 12). Nothing was imported.`,
          );
        }
        const read = readRow(row, fields);
        if ('problem' in read) {
          reject(row, read.ods, read.problem);
          continue;
        }
        const seen = firstSeen.get(read.ods);
        if (seen !== undefined) {
          reject(row, read.ods, `${read.ods} appears again (first on row ${seen}); only the first is used.`);
          continue;
        }
        firstSeen.set(read.ods, row);
        batch.push(read);
        if (batch.length >= BATCH) {
          await applyIsolated(tx, ctx, input, batch, today, report, note, reject);
          batch = [];
        }
      }
      if (empty) {
        throw invalid(
          'FILE_EMPTY',
          `${name} is empty: expected ODS rows of 27 quoted fields (code, name, …), one organisation per line. Download the extract again.`,
        );
      }
      await applyIsolated(tx, ctx, input, batch, today, report, note, reject);
      if (input.dryRun) throw new DryRunRollback();
    });
  } catch (e) {
    if (e instanceof DryRunRollback) return inFileOrder();
    if (e instanceof CsvError) {
      throw invalid(
        'INVALID_FILE',
        `The file is not readable CSV, so nothing was imported: ${e.message.replace(/\.$/, '')}. ODS extracts are comma-separated, each field in double quotes.`,
      );
    }
    throw e;
  }
  return inFileOrder();
}

/** The file's records with their row (the line each starts on), read as a stream. */
async function* odsRecords(source: OdsSource): AsyncGenerator<{ row: number; fields: string[] }> {
  const parser = parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true });
  const feeding = pipeline(source, parser);
  // A failure reaches the loop below through the parser; the pipeline's own copy is awaited last.
  feeding.catch(() => {});
  for await (const { record, info } of parser as AsyncIterable<{
    record: string[];
    info: { lines: number };
  }>) {
    const breaks = record.reduce((n, field) => n + (field.match(/\r\n|\r|\n/g)?.length ?? 0), 0);
    yield { row: info.lines - breaks, fields: record };
  }
  await feeding;
}

/** A header row some exports add ("Organisation Code", "ORGANISATIONCODE"…): skipped, not rejected. */
const isHeader = (fields: string[]) =>
  /^(organi[sz]ation|org|ods)?\s*code$/i.test((fields[ODS_COLUMNS.code] ?? '').trim());

function readRow(row: number, fields: string[]): OdsRow | { ods: string | null; problem: string } {
  const rawCode = (fields[ODS_COLUMNS.code] ?? '').trim();
  if (fields.length < ODS_MIN_COLUMNS) {
    return {
      ods: rawCode || null,
      problem: `has ${fields.length} column(s); the ODS layout has 27 (code, name, …, open date in column 11, close date in column 12).`,
    };
  }
  try {
    const ods = parseOds(rawCode);
    const name = parseOrgName(fields[ODS_COLUMNS.name] ?? '');
    const closed = (fields[ODS_COLUMNS.closeDate] ?? '').trim();
    if (closed === '') return { row, ods, name, closedOn: null };
    const closedOn = odsDate(closed);
    if (!closedOn) {
      return {
        ods,
        problem: `${quote(closed)} in column 12 (close date) is not a date: ODS writes dates as YYYYMMDD.`,
      };
    }
    return { row, ods, name, closedOn };
  } catch (e) {
    if (!isDomainError(e)) throw e;
    return { ods: null, problem: e.message };
  }
}

/** ODS's YYYYMMDD as YYYY-MM-DD, or null when it is not a day that exists. */
function odsDate(value: string): string | null {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (!match) return null;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d
    ? `${match[1]}-${match[2]}-${match[3]}`
    : null;
}

/** Names that differ only in letter case or spacing are the same name. */
const sameName = (a: string, b: string) =>
  a.replace(/\s+/g, ' ').trim().toLowerCase() === b.replace(/\s+/g, ' ').trim().toLowerCase();

async function applyBatch(
  tx: Executor,
  ctx: RequestContext,
  input: { kind: OrgKind; file?: string },
  batch: OdsRow[],
  today: string,
  report: OrgImportReport,
  note: <K extends keyof OrgImportReport['details']>(
    list: K,
    entry: OrgImportReport['details'][K][number],
  ) => void,
  reject: (row: number, ods: string | null, problem: string) => void,
): Promise<void> {
  if (batch.length === 0) return;
  const existing = new Map(
    (
      await tx
        .select()
        .from(organisations)
        .where(
          inArray(
            organisations.ods,
            batch.map((r) => r.ods),
          ),
        )
        .for('update')
    ).map((o) => [o.ods, o]),
  );
  const source = (row: number) => ({ source: 'ods-import', file: input.file ?? null, row });
  const audits: AuditEntry[] = [];
  const additions: OdsRow[] = [];
  const renames: Array<{ ods: string; name: string }> = [];
  for (const r of batch) {
    const org = existing.get(r.ods);
    if (r.closedOn !== null && r.closedOn <= today) {
      report.closed++;
      note('closed', {
        row: r.row,
        ods: r.ods,
        name: r.name,
        closedOn: r.closedOn,
        registered: org !== undefined,
      });
      continue;
    }
    if (!org && isSiteKind(input.kind)) {
      report.notRegistered++;
      note('notRegistered', { row: r.row, ods: r.ods, name: r.name });
      continue;
    }
    if (!org) {
      additions.push(r);
      continue;
    }
    if (org.kind !== input.kind) {
      reject(
        r.row,
        r.ods,
        `${r.ods} is registered as ${org.kind} ("${org.name}"), and this file is imported as ${input.kind}: not changed.`,
      );
      continue;
    }
    if (sameName(org.name, r.name)) {
      report.unchanged++;
      continue;
    }
    renames.push({ ods: r.ods, name: r.name });
    audits.push({
      action: 'org-rename',
      org: r.ods,
      reason: `"${org.name}" → "${r.name}"`,
      details: source(r.row),
    });
    report.updated++;
    note('renamed', { row: r.row, ods: r.ods, from: org.name, to: r.name });
  }
  if (renames.length > 0) {
    await tx.execute(sql`
      update ${organisations} o set name = r.name
      from jsonb_to_recordset(${JSON.stringify(renames)}::jsonb) as r(ods text, name text)
      where o.ods = r.ods`);
  }
  if (additions.length > 0) {
    const rows = JSON.stringify(additions.map((r) => ({ ods: r.ods, name: r.name })));
    const inserted = rowsOf<{ ods: string }>(
      await tx.execute(sql`
        insert into ${organisations} (ods, name, kind, created_at)
        select r.ods, r.name, ${input.kind}::org_kind, ${ctx.now.toISOString()}::timestamptz
        from jsonb_to_recordset(${rows}::jsonb) as r(ods text, name text)
        on conflict do nothing
        returning ods`),
    );
    const added = new Set(inserted.map((o) => o.ods));
    for (const r of additions) {
      if (!added.has(r.ods)) {
        // Registered by a concurrent `org add` since the batch was read: theirs stands.
        reject(r.row, r.ods, `${r.ods} was registered by someone else during the import: not changed.`);
        continue;
      }
      audits.push({
        action: 'org-add',
        org: r.ods,
        reason: `${input.kind} "${r.name}"`,
        details: source(r.row),
      });
      report.added++;
      note('added', { row: r.row, ods: r.ods, name: r.name });
    }
  }
  if (audits.length > 0) await insertAudits(tx, ctx, audits);
}

/** A batch's audit rows in one statement, as one JSON parameter. */
async function insertAudits(tx: Executor, ctx: RequestContext, audits: AuditEntry[]): Promise<void> {
  const head = auditValues(ctx, { action: '' });
  const rows = JSON.stringify(
    audits.map((a) => ({
      action: a.action,
      org: a.org ?? null,
      reason: a.reason ?? null,
      details: a.details ?? null,
    })),
  );
  await tx.execute(sql`
    insert into ${auditLog} (at, actor, platform, action, org, reason, details)
    select ${ctx.now.toISOString()}::timestamptz, ${head.actor}, ${head.platform}::platform, r.action, r.org,
      r.reason, r.details
    from jsonb_to_recordset(${rows}::jsonb) as r(n int, action text, org text, reason text, details jsonb)
    order by r.n`);
}

type Note = <K extends keyof OrgImportReport['details']>(
  list: K,
  entry: OrgImportReport['details'][K][number],
) => void;

/**
 * A batch in a savepoint, so a batch whose write fails is rolled back alone (the file's one
 * transaction goes on): its halves are then applied, each in its own savepoint, down to the row that
 * fails, which is rejected with its row number. One bad row never undoes another.
 */
async function applyIsolated(
  tx: Executor,
  ctx: RequestContext,
  input: { kind: OrgKind; file?: string },
  batch: OdsRow[],
  today: string,
  report: OrgImportReport,
  note: Note,
  reject: (row: number, ods: string | null, problem: string) => void,
): Promise<void> {
  if (batch.length === 0) return;
  const counts = { ...report, details: undefined };
  const lengths = Object.fromEntries(Object.entries(report.details).map(([k, v]) => [k, v.length]));
  try {
    await (tx as Tx).transaction((sp) => applyBatch(sp, ctx, input, batch, today, report, note, reject));
    return;
  } catch (e) {
    if (isDomainError(e) || !isRowRefusal(e)) throw e;
    // What the batch had counted is undone with its writes.
    Object.assign(report, { ...counts, details: report.details });
    for (const [k, list] of Object.entries(report.details) as Array<[string, unknown[]]>) {
      list.length = lengths[k] ?? list.length;
    }
    const only = batch[0];
    if (batch.length === 1 && only) {
      reject(only.row, only.ods, `could not be written: ${databaseMessage(e)}`);
      return;
    }
  }
  // Halves, each in its own savepoint, down to the row that fails: a few savepoints to find one bad
  // row in a batch, instead of one a row.
  const half = Math.ceil(batch.length / 2);
  for (const part of [batch.slice(0, half), batch.slice(half)]) {
    await applyIsolated(tx, ctx, input, part, today, report, note, reject);
  }
}
