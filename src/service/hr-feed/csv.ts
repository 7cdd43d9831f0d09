// Reading an HR extract: its two layouts, one row at a time, and a whole-file check before anything is applied.
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { invalid, isDomainError } from '../../domain/errors.js';

/** The columns of the two HR files (header names, matched case-insensitively; order free). */
export const STARTER_COLUMNS = {
  required: [
    'employee_number',
    'given_name',
    'family_name',
    'date_of_birth',
    'mobile',
    'org_ods',
    'start_date',
  ],
  optional: ['registration', 'delivery'],
} as const;
export const LEAVER_COLUMNS = { required: ['leaving_date'], either: ['employee_number', 'address'] } as const;

/** One data row of an HR file, with its line number in the file (the header is line 1). */
export interface HrRecord {
  row: number;
  fields: Record<string, string>;
}

/** The longest row an HR extract may have (64 KiB): bounds the memory one row can take. */
export const MAX_ROW_BYTES = 64 * 1024;

/** The columns an HR file names in its header row. */
export interface HrLayout {
  required: readonly string[];
  either?: readonly string[];
}

/**
 * Reads an HR CSV in one streaming pass: a header row (names trimmed and lower-cased, so order
 * and case are free), UTF-8 with or without BOM, quoted fields, CRLF or LF, blank lines skipped,
 * other columns ignored. Throws FILE_LAYOUT (exit 2) when the header lacks a required column or
 * the file is not CSV at all, and FILE_EMPTY when it has no header row: an empty file is not an
 * extract with no rows. `name` is how messages call the file ("The file", or its path quoted).
 */
export async function* readHrCsv(
  source: Readable | string,
  layout: HrLayout,
  name = 'The file',
): AsyncGenerator<HrRecord> {
  let headed = false;
  const parser = parse({
    bom: true,
    columns: (header: string[]) => {
      headed = true;
      const names = header.map((h) => h.trim().toLowerCase());
      const missing = layout.required.filter((c) => !names.includes(c));
      const either = layout.either ?? [];
      if (either.length > 0 && !either.some((c) => names.includes(c))) missing.push(either.join(' or '));
      if (missing.length > 0) {
        throw invalid(
          'FILE_LAYOUT',
          `The file's header row has no ${missing.join(', ')} column${missing.length === 1 ? '' : 's'}. The first row must name the columns: ${[...layout.required, ...either].join(', ')} (any order, any case; other columns are ignored).`,
        );
      }
      return names;
    },
    skip_empty_lines: true,
    skip_records_with_empty_values: true,
    relax_column_count: true,
    trim: true,
    info: true,
    // An HR row is a few hundred bytes: a far longer one is not an HR extract, and is not held whole.
    max_record_size: MAX_ROW_BYTES,
  });
  if (typeof source === 'string') parser.end(source);
  else {
    source.on('error', (e) => parser.destroy(e));
    source.pipe(parser);
  }
  try {
    for await (const item of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      yield { row: item.info.lines, fields: item.record };
    }
  } catch (e) {
    if (isDomainError(e)) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    throw invalid(
      'FILE_LAYOUT',
      `${name} could not be read as CSV (${reason}). Export it from HR as CSV with a header row.`,
    );
  }
  if (!headed) {
    throw invalid(
      'FILE_EMPTY',
      `${name} is empty: expected a header line naming the columns ${[...layout.required, ...(layout.either ?? [])].join(', ')}, then a row per person. Export it from HR again.`,
    );
  }
}

/**
 * Reads a whole HR file for its layout and CSV syntax, applying nothing, and counts its rows. An
 * import checks its file this way first, so a file that stops being CSV at row 900 is refused
 * whole, not after 899 rows were applied; each row is at most MAX_ROW_BYTES, so it streams.
 */
export async function checkHrCsv(
  source: Readable | string,
  layout: HrLayout,
  name?: string,
): Promise<number> {
  let rows = 0;
  try {
    for await (const _ of readHrCsv(source, layout, name)) rows++;
  } catch (e) {
    if (!isDomainError(e)) throw e;
    throw invalid(e.code, `${e.message} Nothing was imported.`, e.details);
  }
  return rows;
}
