import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { InfrastructureError } from '../domain/errors.js';
import { quote } from '../domain/quote.js';
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

/**
 * Writes the export to `file`, readable by its owner only (0600: the trail names people), and
 * whole or not at all: into a hidden temporary file beside it, renamed over `file` at the end.
 * A file that cannot be written (a directory, no permission, a full disk) is an
 * InfrastructureError naming `file`, never the temporary one.
 */
export async function writeAuditCsvFile(exported: AuditExport, file: string): Promise<number> {
  const target = path.resolve(file);
  const temporary = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`,
  );
  // A directory is found out before the export runs, not by the rename at its end.
  if ((await stat(target).catch(() => null))?.isDirectory()) {
    throw notWritable(file, 'EISDIR', 'it is a directory');
  }
  let handle: FileHandle;
  try {
    handle = await open(temporary, 'wx', 0o600);
  } catch (e) {
    throw systemFailure(file, e);
  }
  // The file's own failures (a full disk), told apart from the database's while the rows stream.
  let fileFailure: unknown;
  const out = handle.createWriteStream().once('error', (e) => {
    fileFailure = e;
  });
  try {
    const count = await writeAuditCsv(exported, out, { end: true });
    await rename(temporary, target).catch((e: unknown) => {
      fileFailure = e;
      throw e;
    });
    return count;
  } catch (e) {
    await rm(temporary, { force: true });
    throw fileFailure === undefined ? e : systemFailure(file, fileFailure);
  } finally {
    await handle.close().catch(() => {});
  }
}

const notWritable = (file: string, code: string, why: string, cause?: unknown) =>
  new InfrastructureError(
    code,
    `${quote(file)} could not be written (${code}: ${why}), so no export was written. Give --out a file path in a directory that exists and that this user may write to, on a disk with space.`,
    { cause },
  );

/** A failure of the file system (no permission, a full disk) told as `file`'s. */
function systemFailure(file: string, e: unknown): InfrastructureError {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (!(e instanceof Error) || typeof code !== 'string') return notWritable(file, 'EIO', String(e), e);
  // Node's message reads "EACCES: permission denied, open '….tmp'": its middle says why.
  return notWritable(file, code, /^[A-Z]+: ([^,]+)/.exec(e.message)?.[1] ?? e.message, e);
}
