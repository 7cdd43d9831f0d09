import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { FileAccess, OpenedFile } from '../../src/commands/command.js';
import { InfrastructureError, invalid } from '../../src/domain/errors.js';
import { quote } from '../../src/domain/quote.js';

/**
 * The files an operator names on the command line (imports, `export audit --out`), opened on this
 * machine: by the CLI, or by the running bot the CLI hands its command to (the operator channel).
 */
export const localFiles: FileAccess = {
  async read(file, what, use) {
    const handle = await openForReading(file, what);
    try {
      return await use(opened(handle));
    } finally {
      await handle.close().catch(() => {});
    }
  },
  write: writeWhole,
};

function opened(handle: FileHandle): OpenedFile {
  return {
    size: async () => (await handle.stat()).size,
    stream: () => handle.createReadStream({ start: 0, autoClose: false }),
    text: () => handle.readFile('utf8'),
  };
}

/**
 * A file an operator named, opened to be read; refused as their mistake when it cannot be. Only
 * a regular file: a named pipe's reader waits for a writer that may never come, and holds one of
 * the few threads Node does file work on while it waits (four such imports stopped the bot). So it
 * is opened without waiting (O_NONBLOCK, which a regular file ignores) and refused unless it is one.
 */
async function openForReading(file: string, what: string): Promise<FileHandle> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch(
    (e: NodeJS.ErrnoException) => {
      throw invalid(
        'FILE_NOT_READABLE',
        `${quote(file)} could not be read (${e.code ?? e.message}). Give the path of ${what}.`,
      );
    },
  );
  if (!(await handle.stat()).isFile()) {
    await handle.close();
    throw invalid(
      'NOT_A_FILE',
      `${quote(file)} is not a regular file (a directory, a named pipe or a device): give the path of ${what}, saved as a file.`,
    );
  }
  return handle;
}

/**
 * Writes `file` from what `use` writes, readable by its owner only (0600: an audit export names
 * people), and whole or not at all: into a hidden temporary file beside it, renamed over `file`
 * at the end. A file that cannot be written (a directory, no permission, a full disk) is an
 * InfrastructureError naming `file`, never the temporary one.
 */
export async function writeWhole<T>(
  file: string,
  use: (out: Writable) => Promise<T>,
): Promise<{ result: T; path: string }> {
  const target = path.resolve(file);
  const temporary = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`,
  );
  // A directory is found out before the command writes, not by the rename at its end.
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
    const result = await use(out);
    await rename(temporary, target).catch((e: unknown) => {
      fileFailure = e;
      throw e;
    });
    return { result, path: target };
  } catch (e) {
    await rm(temporary, { force: true });
    throw fileFailure === undefined ? e : systemFailure(file, fileFailure);
  } finally {
    await handle.close().catch(() => {});
  }
}

// Only `export audit --out` writes a file today, so the message speaks of an export.
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
