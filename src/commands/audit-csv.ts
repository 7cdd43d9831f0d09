import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { AuditExport, AuditExportRow } from '../service/audit-export.js';

/** The export's columns, named as `audit ADDRESS --json` names its fields. */
export const AUDIT_CSV_COLUMNS = [
  'at',
  'actor',
  'platform',
  'action',
  'address',
  'org',
  'from',
  'to',
  'reason',
  'details',
] as const satisfies ReadonlyArray<keyof AuditExportRow>;

/**
 * Writes the export as CSV, streaming page by page with backpressure, and returns the number of
 * entries. It is evidence people open in Excel, so:
 * - RFC 4180: CRLF line ends; a field with a comma, a quote or a line break is quoted, its quotes
 *   doubled; and a UTF-8 byte-order mark, without which Excel misreads accented names;
 * - CSV (formula) injection is neutralised as OWASP advises: a cell that begins with `=`, `+`,
 *   `-`, `@`, a tab or a carriage return (or their full-width forms) gets a leading `'`, so a
 *   spreadsheet shows it as text instead of running it. Reasons and names are typed by people,
 *   so an entry could otherwise carry `=HYPERLINK(…)` into an auditor's spreadsheet.
 * `details` is the entry's structured details as JSON, empty when it has none.
 */
export async function writeAuditCsv(
  exported: AuditExport,
  output: Writable,
  options: { end?: boolean } = {},
): Promise<number> {
  let count = 0;
  async function* records(): AsyncGenerator<Record<string, string | null>> {
    for await (const page of exported.pages()) {
      for (const row of page) {
        count++;
        yield { ...row, details: row.details === null ? null : JSON.stringify(row.details) };
      }
    }
  }
  await pipeline(
    Readable.from(records()),
    stringify({
      header: true,
      columns: [...AUDIT_CSV_COLUMNS],
      bom: true,
      record_delimiter: 'windows',
      // Given a record delimiter, csv-stringify would otherwise leave a lone \n in a value unquoted.
      quote_record_delimiter: true,
      escape_formulas: true,
    }),
    output,
    { end: options.end ?? false },
  );
  // Left open, the output may still hold writes: its caller reports success only once they are done.
  if (!(options.end ?? false)) await flushed(output);
  return count;
}

/** Resolves once everything written to `stream` so far has been handed on (write callbacks run in order). */
export function flushed(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(Buffer.alloc(0), (e) => (e ? reject(e) : resolve()));
  });
}
