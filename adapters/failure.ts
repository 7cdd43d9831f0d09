import { DrizzleQueryError } from 'drizzle-orm';
import { errnoOf, isErrnoObject } from '../db/storage-errors.js';
import { InfrastructureError } from '../src/domain/errors.js';
import { clip } from '../src/domain/quote.js';
import { describeError } from '../src/safe-errors.js';

/**
 * Turns an error no rule expected into what an operator can read: one line, saying whether the
 * machine around the bot failed (a database not reachable, a file not writable) or the bot itself
 * (a bug). The line never holds a query's SQL or parameters: drizzle wraps a driver's error as
 * "Failed query: … params: …", and only the driver's own message is used.
 */
export interface Failure {
  kind: 'infrastructure' | 'internal';
  /** One line, safe to print or send to the CLI. */
  message: string;
  /** The underlying code (ECONNREFUSED, EISDIR, an SQLSTATE such as 53100), when there is one. */
  cause?: string | undefined;
}

/** A failure the running bot already described (over the operator socket), passed on as it is. */
export class ReportedFailure extends Error {
  override readonly name = 'ReportedFailure';
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

/** Node's codes for a failure of the disk, the file system or the network, not of the bot's code. */
const SYSTEM_CODES = new Set([
  'EACCES',
  'EPERM',
  'EROFS',
  'EISDIR',
  'ENOTDIR',
  'ENOENT',
  'EEXIST',
  'ENOSPC',
  'EDQUOT',
  'EFBIG',
  'EIO',
  'EMFILE',
  'ENFILE',
  'ELOOP',
  'ENAMETOOLONG',
  'EBUSY',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EPIPE',
  // postgres.js's own, for a connection that could not be made or was lost.
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

/**
 * SQLSTATEs (PostgreSQL and PGlite report them alike) that mean the server or its set-up failed,
 * not the query: connection (08), authorisation (28), no such database (3D), out of disk or memory
 * (53), shut down (57P), I/O (58), a read-only server (25006), a missing grant (42501).
 */
const INFRASTRUCTURE_SQLSTATE = /^(08|28|3D|53|57P|58)|^25006$|^42501$/;

/** PGlite's error when its files could not be opened or written (a read-only DATA_DIR). */
const PGLITE_INIT = 'PGlite failed to initialize properly';

export function describeFailure(e: unknown): Failure {
  if (e instanceof ReportedFailure) return e.failure;
  for (const link of causes(e)) {
    if (link instanceof InfrastructureError) {
      return { kind: 'infrastructure', message: oneLine(link.message), cause: link.code };
    }
    if (isWrapper(link)) continue;
    // PGlite's file system throws a bare { name: 'ErrnoError', errno } object: DATA_DIR's disk.
    const errno = isErrnoObject(link) ? errnoOf(link) : null;
    if (errno) return { kind: 'infrastructure', message: `${errno.code}: ${errno.text}`, cause: errno.code };
    const code = codeOf(link);
    if (code !== undefined && isSqlState(link)) {
      if (!INFRASTRUCTURE_SQLSTATE.test(code)) break;
      return {
        kind: 'infrastructure',
        message: oneLine(`the database failed: ${messageOf(link)} (SQLSTATE ${code})`),
        cause: code,
      };
    }
    if (code !== undefined && SYSTEM_CODES.has(code)) {
      return { kind: 'infrastructure', message: oneLine(messageOf(link)), cause: code };
    }
    if (messageOf(link) === PGLITE_INIT) {
      return { kind: 'infrastructure', message: PGLITE_INIT, cause: 'PGLITE_INIT' };
    }
  }
  const first = causes(e).find((link) => !isWrapper(link));
  if (first === undefined) return { kind: 'internal', message: 'a database query failed' };
  const name = first instanceof Error ? first.name : typeof first;
  const code = isSqlState(first) ? codeOf(first) : undefined;
  return {
    kind: 'internal',
    message: oneLine(`${name}: ${messageOf(first)}${code ? ` (SQLSTATE ${code})` : ''}`),
    cause: code,
  };
}

/**
 * The error and its causes with their stack frames, for LOG_LEVEL=debug: each message as
 * `describeFailure` would give it, so no query's parameters either.
 */
export function failureDetail(e: unknown): string {
  return causes(e)
    .map((link, i) => {
      const head = isWrapper(link)
        ? 'DrizzleQueryError: a query failed (its SQL and parameters are not shown)'
        : `${link instanceof Error ? link.name : typeof link}: ${messageOf(link)}`;
      const frames =
        link instanceof Error ? (link.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)) : [];
      return [`${i === 0 ? '' : 'Caused by: '}${head}`, ...frames].join('\n');
    })
    .join('\n');
}

/** The error, then its `cause`, and so on (a few levels; a cycle ends it). */
function causes(e: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let link = e; link !== undefined && link !== null && chain.length < 6; ) {
    if (chain.includes(link)) break;
    chain.push(link);
    link = link instanceof Error ? link.cause : undefined;
  }
  return chain;
}

/** drizzle's wrapper, whose message holds the SQL and its parameters: never shown. */
const isWrapper = (e: unknown) =>
  e instanceof DrizzleQueryError || (e instanceof Error && e.message.startsWith('Failed query:'));

function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Both drivers' server errors carry a severity (ERROR, FATAL) beside their SQLSTATE. */
const isSqlState = (e: unknown) =>
  typeof (e as { severity?: unknown }).severity === 'string' && /^[0-9A-Z]{5}$/.test(codeOf(e) ?? '');

function messageOf(e: unknown): string {
  if (!(e instanceof Error)) return describeError(e);
  // The server quotes a value it could not read ('invalid input syntax for type uuid: "…"'):
  // that value is a query's parameter, so it is left out.
  if (isSqlState(e)) return e.message.replace(/: ".*"$/s, '');
  // Node reports a refused connection to every address of a name (::1 and 127.0.0.1) as one
  // AggregateError with no message of its own.
  if (e.message === '' && e instanceof AggregateError) {
    return e.errors.map(messageOf).join('; ') || (codeOf(e) ?? e.name);
  }
  return e.message;
}

const oneLine = (text: string) => clip(text.replace(/\s*[\r\n]+\s*/g, ' ').trim(), 300);
