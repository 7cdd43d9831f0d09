import { inspect } from 'node:util';
import { DrizzleQueryError } from 'drizzle-orm';
import { errnoOf, isErrnoObject, storageFailure } from '../db/storage-errors.js';
import { isDomainError } from './domain/errors.js';

/**
 * Errors as a log line or a message may show them. A failed database write must say what failed
 * (the statement, PostgreSQL's SQLSTATE, constraint and table) and nothing of the row: drizzle's
 * error carries every parameter (name, date of birth, mobile hash…) in `params` and in its
 * message and stack; PGlite's cause carries them again in `params`; PostgreSQL's `detail` quotes
 * the row ("Failing row contains (…)") and some of its messages quote the value refused.
 */

/** UK mobile numbers as people type them: 07… or +44 7…, with or without spaces. */
const MOBILE = /(?:\+44\s?7|\b07)\d{3}\s?\d{3}\s?(\d{3})\b/g;

/** `07700 900123` → `07*** ***123`, wherever a number appears in a string. */
export const maskMobiles = (text: string): string =>
  text.replace(MOBILE, (_m, last: string) => `07*** ***${last}`);

/**
 * Drizzle's `Failed query: <sql>\nparams: <values, comma-separated>`: the values may span lines,
 * so everything from `params:` to the first stack frame (or the end) goes.
 */
const QUERY_PARAMS = /\nparams: [\s\S]*?(?=\n\s+at |$)/g;

/** Any text made fit for a log: no drizzle query parameters, no full mobile number. */
export const safeText = (text: string): string => maskMobiles(text.replace(QUERY_PARAMS, ''));

/** Whether a value is an error the serializer reduces: an Error, or PGlite's bare ErrnoError. */
export const isErrorLike = (value: unknown): value is object =>
  value instanceof Error || isErrnoObject(value);

const isDrizzleQueryError = (e: unknown): e is DrizzleQueryError & { query: string } =>
  e instanceof DrizzleQueryError ||
  (e instanceof Error &&
    typeof (e as { query?: unknown }).query === 'string' &&
    Array.isArray((e as { params?: unknown }).params) &&
    e.message.startsWith('Failed query: '));

const MAX_SQL = 1000;

/**
 * The statement as drizzle sent it. Values travel as $1, $2…, but SQL written with `sql.raw` may
 * inline a literal: string literals are blanked, whatever they hold.
 */
function statement(query: string): string {
  const blanked = query.replace(/'(?:[^']|'')*'/g, "'…'");
  return blanked.length > MAX_SQL ? `${blanked.slice(0, MAX_SQL)}…` : blanked;
}

/** Quoted identifiers in a statement: the names a PostgreSQL message may quote safely. */
const identifiers = (query: string): string[] =>
  [...query.matchAll(/"((?:[^"]|"")+)"/g)].map((m) => m[1] ?? '');

/** A file in PostgreSQL's data directory, as its disk errors name it ("base/5/16525"). */
const DATA_FILE = /^(?:base|global|pg_[a-z_]+)\/[\w./-]*$/;

/**
 * PostgreSQL quotes names and values alike ("invalid input syntax for type date: "14/03/1987"",
 * "violates check constraint "accounts_dob_check""): a quoted word that is not a name the error
 * or the statement gives, nor a data file, is blanked.
 */
function withoutQuotedValues(message: string, names: ReadonlySet<string>): string {
  return message.replace(/"((?:[^"]|"")*)"/g, (quoted, inner: string) =>
    names.has(inner) || DATA_FILE.test(inner) ? quoted : '"…"',
  );
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

type Fields = Record<string, unknown>;

/** Drops the keys whose value is undefined, so that a log line lists only what is known. */
const defined = (fields: Fields): Fields =>
  Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));

function text(e: object, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = (e as Record<string, unknown>)[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/**
 * PostgreSQL's error, from PGlite (`constraint`, `table`) or postgres.js (`constraint_name`,
 * `table_name`): its SQLSTATE and the names it gives. Never `detail` (the row's values), `where`,
 * `internalQuery`, nor PGlite's own copy of `query` and `params`.
 */
function databaseFields(e: Error, names: ReadonlySet<string>): Fields {
  const named = {
    constraint: text(e, 'constraint', 'constraint_name'),
    table: text(e, 'table', 'table_name'),
    column: text(e, 'column', 'column_name'),
    schema: text(e, 'schema', 'schema_name'),
    dataType: text(e, 'dataType', 'data_type'),
  };
  const known = new Set([...names, ...Object.values(named).filter((v): v is string => v !== undefined)]);
  return defined({
    type: 'DatabaseError',
    code: text(e, 'code'),
    severity: text(e, 'severity'),
    message: maskMobiles(withoutQuotedValues(e.message, known)),
    ...named,
    routine: text(e, 'routine'),
  });
}

const isDatabaseError = (e: Error) => {
  const { code, severity } = e as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && SQLSTATE.test(code) && typeof severity === 'string';
};

const MAX_CAUSES = 3;

/**
 * An error as a log line shows it: what went wrong and where, its cause likewise, never the
 * request or response an HTTP client hangs on it (those carry bearer tokens, request bodies and
 * personal data), nor a failed query's parameters or PostgreSQL's quote of the row. A failure of
 * the disk under the database is named (`storage: 'ENOSPC'`).
 */
export function errorFields(err: unknown, names: ReadonlySet<string> = new Set(), depth = 0): Fields {
  const storage = depth === 0 ? storageFailure(err)?.code : undefined;
  if (isErrnoObject(err)) {
    const errno = errnoOf(err);
    return defined({
      type: 'ErrnoError',
      code: errno?.code,
      errno: err.errno,
      message: errno?.text,
      storage,
    });
  }
  if (!(err instanceof Error)) return { type: typeof err, message: safeInspect(err) };
  const cause =
    err.cause === undefined || depth >= MAX_CAUSES
      ? undefined
      : (c: ReadonlySet<string>) => errorFields(err.cause, c, depth + 1);
  if (isDrizzleQueryError(err)) {
    const message = `Failed query: ${statement(err.query)}`;
    const frames = (err.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
    return defined({
      type: 'DrizzleQueryError',
      message,
      stack: [`DrizzleQueryError: ${message}`, ...frames].join('\n'),
      storage,
      cause: cause?.(new Set(identifiers(err.query))),
    });
  }
  if (isDatabaseError(err)) return defined({ ...databaseFields(err, names), storage, cause: cause?.(names) });
  const e = err as Error & { code?: unknown; statusCode?: unknown; status?: unknown; syscall?: unknown };
  return defined({
    type: e.name,
    message: safeText(e.message),
    stack: e.stack ? safeText(e.stack) : undefined,
    code: typeof e.code === 'string' || typeof e.code === 'number' ? e.code : undefined,
    statusCode: e.statusCode,
    status: typeof e.status === 'number' ? e.status : undefined,
    syscall: typeof e.syscall === 'string' ? e.syscall : undefined,
    storage,
    cause: cause?.(names),
  });
}

/** Keys whose values never reach a log, at any depth of an object printed whole. */
const SECRET_KEYS = new Set([
  'password',
  'temporarypassword',
  'temporary_password',
  'mobile',
  'phone_number',
  'e164',
  'token',
  'secret',
  'authorization',
  'cookie',
  'headers',
  'body',
  'payload',
  'params',
  'parameters',
  'text',
  'value',
]);

function redacted(value: unknown, depth: number): unknown {
  if (isErrorLike(value)) return errorFields(value);
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  if (depth > 4) return '[…]';
  if (Array.isArray(value)) return value.slice(0, 20).map((v) => redacted(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      SECRET_KEYS.has(k.toLowerCase()) ? '[redacted]' : redacted(v, depth + 1),
    ]),
  );
}

/**
 * Any value as one line of text, for a value some library hands over whole (botbuilder's
 * `console.error(activity)`): secrets, bodies and message texts redacted by name, errors reduced.
 */
export function safeInspect(value: unknown): string {
  if (typeof value === 'string') return safeText(value);
  return safeText(
    inspect(redacted(value, 0), { breakLength: Number.POSITIVE_INFINITY, compact: true, depth: 6 }),
  );
}

/**
 * One line saying what went wrong, for a message or a log line's text: a domain error's own
 * words; any other error by its type and message, then its causes; never `[object Object]`.
 */
export function describeError(err: unknown): string {
  if (isDomainError(err)) return err.message;
  if (!isErrorLike(err)) return safeInspect(err);
  const parts: string[] = [];
  let fields: Fields | undefined = errorFields(err);
  while (fields) {
    const code = fields.code !== undefined && fields.type !== 'ErrnoError' ? ` ${String(fields.code)}` : '';
    const message =
      fields.type === 'ErrnoError' ? `${String(fields.code)}: ${String(fields.message)}` : fields.message;
    parts.push(`${String(fields.type)}${code}: ${String(message)}`);
    fields = fields.cause as Fields | undefined;
  }
  return parts.join('; caused by ').replace(/\s*\n\s*/g, ' ');
}
