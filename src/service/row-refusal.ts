/**
 * Telling a row the database refuses from a database that fails. A bulk import isolates the first
 * (rejects that row alone and goes on) but must stop on the second: a lost connection or a full
 * disk is not a bad row, and retrying the file row by row would only report every row failed.
 */

/** The SQLSTATE of a database error, wherever the driver (postgres.js, PGlite) or drizzle put it. */
export function sqlState(e: unknown): string | null {
  for (let cur: unknown = e, depth = 0; cur && depth < 4; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return null;
}

/**
 * True for an error about the rows written: a data exception (class 22), an integrity constraint
 * (23) or a trigger's refusal (P0). Anything else is the database failing, not the data.
 */
export const isRowRefusal = (e: unknown): boolean => /^(22|23|P0)/.test(sqlState(e) ?? '');

/** What the database said, not the statement drizzle wraps it in. */
export function databaseMessage(e: unknown): string {
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
  return cause instanceof Error ? cause.message : String(cause);
}
