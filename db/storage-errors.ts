/**
 * What a failure of the disk under the database looks like, from whichever layer saw it: Node's
 * `{ code: 'ENOSPC' }`, PGlite's file system (emscripten's `ErrnoError`, not an Error, with a
 * WASI errno number and nothing else), or PostgreSQL's own error (`53100 could not extend file
 * "base/5/16525": No space left on device`), possibly wrapped in drizzle's query error.
 */

/** An errno by its name, with the words `strerror` gives it. */
export interface Errno {
  code: string;
  text: string;
}

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EBUSY: 'resource busy',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'file exists',
  EFBIG: 'file too large',
  EINVAL: 'invalid argument',
  EIO: 'input/output error',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'file name too long',
  ENFILE: 'too many open files in system',
  ENOENT: 'no such file or directory',
  ENOMEM: 'out of memory',
  ENOSPC: 'no space left on device',
  ENOTDIR: 'not a directory',
  ENOTEMPTY: 'directory not empty',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
};

/** Emscripten's errno numbers (WASI's), as PGlite's `ErrnoError` carries them. */
const EMSCRIPTEN_ERRNO: Readonly<Record<number, string>> = {
  2: 'EACCES',
  10: 'EBUSY',
  19: 'EDQUOT',
  20: 'EEXIST',
  22: 'EFBIG',
  28: 'EINVAL',
  29: 'EIO',
  31: 'EISDIR',
  32: 'ELOOP',
  33: 'EMFILE',
  37: 'ENAMETOOLONG',
  41: 'ENFILE',
  44: 'ENOENT',
  48: 'ENOMEM',
  51: 'ENOSPC',
  54: 'ENOTDIR',
  55: 'ENOTEMPTY',
  63: 'EPERM',
  69: 'EROFS',
};

/** Failures that mean the disk will not take writes, whatever the query. */
const STORAGE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EIO', 'EROFS']);

/** PostgreSQL's SQLSTATEs for the same: disk_full and io_error. */
const SQLSTATE_ERRNO: Readonly<Record<string, string>> = { '53100': 'ENOSPC', '58030': 'EIO' };

/** PostgreSQL quotes `strerror` after the file it could not write. */
const STRERROR: ReadonlyArray<[RegExp, string]> = [
  [/No space left on device/i, 'ENOSPC'],
  [/Disk quota exceeded/i, 'EDQUOT'],
  [/File too large/i, 'EFBIG'],
  [/Input\/output error/i, 'EIO'],
  [/Read-only file system/i, 'EROFS'],
];

const errno = (code: string): Errno => ({ code, text: ERRNO_TEXT[code] ?? code });

/** PGlite's file-system error: `{ name: 'ErrnoError', errno: 51 }`, thrown as is. */
export function isErrnoObject(e: unknown): e is { name: 'ErrnoError'; errno: number } {
  return (
    typeof e === 'object' &&
    e !== null &&
    (e as { name?: unknown }).name === 'ErrnoError' &&
    typeof (e as { errno?: unknown }).errno === 'number'
  );
}

/** The errno an error stands for (Node's code, or PGlite's number), or null when it has none. */
export function errnoOf(e: unknown): Errno | null {
  if (isErrnoObject(e)) return errno(EMSCRIPTEN_ERRNO[e.errno] ?? `errno ${e.errno}`);
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? errno(code) : null;
}

/**
 * Whether an error, or one that caused it, says the disk refused a write (full, over quota,
 * read-only, failing): the errno, or null when the failure was something else.
 */
export function storageFailure(e: unknown, depth = 0): Errno | null {
  if (typeof e !== 'object' || e === null || depth > 4) return null;
  const own = errnoOf(e);
  if (own && STORAGE_CODES.has(own.code)) return own;
  const { code, message, cause } = e as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof code === 'string' && SQLSTATE_ERRNO[code]) return errno(SQLSTATE_ERRNO[code]);
  if (typeof message === 'string') {
    for (const [pattern, name] of STRERROR) if (pattern.test(message)) return errno(name);
  }
  return storageFailure(cause, depth + 1);
}
