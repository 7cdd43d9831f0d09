import type { Readable, Writable } from 'node:stream';
import { refused } from '../domain/errors.js';
import type { RequestContext } from '../service/context.js';
import type { DirectoryReader } from '../service/directory-reader.js';
import type { Lifecycle } from '../service/lifecycle.js';
import type { Rendered } from './render.js';

export type Options = Record<string, { type: 'string' | 'boolean' }>;
export type Values = Record<string, string | boolean | undefined>;

/** The words after a command's name, as `node:util` parseArgs read them against its options. */
export interface ParseInput {
  values: Values;
  positionals: string[];
  /** To judge dates of birth. */
  now: Date;
  /** The command's usage, for the messages that show it. */
  usage: string;
}

/**
 * Who may run a command the chat adapters do not offer: one guard in the runner refuses anyone
 * else before the command runs, and chat help leaves the command out.
 * - `operator`: the operator or the scheduler (refused as OPERATOR_ONLY);
 * - `command line`: anyone typing on the bot's command line, with their roles (`--as`), refused
 *   elsewhere as COMMAND_LINE_ONLY.
 */
export interface Restriction {
  to: 'operator' | 'command line';
  /** What the refusal says: who runs it, and where. */
  refusal: string;
}

/** What help and the parser know of a command. */
export interface CommandSpec<N extends string = string> {
  readonly name: N;
  readonly usage: string;
  readonly summary: string;
  readonly operatorOnly?: Restriction | undefined;
  /** A chat user the bot cannot yet tie to an @nhs.net address (a guest) may run it too. */
  readonly guests?: boolean | undefined;
  readonly options: Options;
  /** How many words may follow the name (besides options). */
  readonly positionals: readonly [min: number, max: number];
  /**
   * Which of its words name files (an import's FILE.csv, `--out FILE`): the CLI makes them
   * absolute before handing the command to a running bot, which runs in another directory.
   */
  readonly paths?: { positional?: number; options?: readonly string[] } | undefined;
}

/**
 * One command, whole: its grammar, parsing into its own variant of `Command`, running it against
 * the lifecycle, and its reply. Methods, not arrow properties: the registry holds every module as
 * an `AnyCommand`, which a method's (bivariant) parameter allows; it only ever hands a module the
 * command that module parsed.
 */
export interface CommandModule<N extends string, V extends { name: N }, R> extends CommandSpec<N> {
  /** Turns the words into this command, or throws an `invalid` DomainError that shows the usage. */
  parse(input: ParseInput): V;
  run(lifecycle: Lifecycle, ctx: RequestContext, command: V, io: CommandIo): Promise<R>;
  render(result: R, command: V, ctx: RequestContext): Rendered;
}

/** Any command module, as the registry and the runner hold them. */
export type AnyCommand = CommandModule<string, { name: string }, unknown>;

/**
 * Declares a command module. `N` is fixed by `name`, so a `parse` that builds another command's
 * variant (`{ name: 'joiner' }` in the `leaver` module) does not compile.
 */
export function defineCommand<const N extends string, V extends { name: N }, R>(
  module: CommandModule<N, V, R>,
): CommandModule<N, V, R> {
  return module;
}

/** A file the caller opened for a command (the command line opens what its operator named). */
export interface OpenedFile {
  /** Its size in bytes, now. */
  size(): Promise<number>;
  /** The file from its start; each call starts again (an HR import checks it whole, then applies it). */
  stream(): Readable & { readonly bytesRead: number };
  /** The whole file as UTF-8 text. */
  text(): Promise<string>;
}

/**
 * The caller's files: the core never opens a path itself. Only the command line (and the operator
 * channel that carries its commands to a running bot) offers them.
 */
export interface FileAccess {
  /**
   * Opens `file` for `use`, and closes it after. A path that is not a readable regular file is
   * refused as the operator's mistake (FILE_NOT_READABLE, NOT_A_FILE); `what` names what the
   * command expected there ("the ODS extract").
   */
  read<T>(file: string, what: string, use: (opened: OpenedFile) => Promise<T>): Promise<T>;
  /**
   * Writes `file` whole or not at all from what `use` writes (and ends) on the stream it is
   * given; resolves with `use`'s result and the file's absolute path. A file that cannot be
   * written is an InfrastructureError naming it.
   */
  write<T>(file: string, use: (out: Writable) => Promise<T>): Promise<{ result: T; path: string }>;
}

/** What a caller offers a command besides its words. */
export interface CommandIo {
  /**
   * Where a command whose result is a file's worth of data (`export audit` without --out) writes
   * it as it goes: the CLI's stdout, or the operator channel's response. Chat offers none.
   */
  output?: Writable | undefined;
  /** Files named in the command (imports, `export audit --out`). Chat offers none. */
  files?: FileAccess | undefined;
  /**
   * The directory read back (`directory import`): the command line's and the operator channel's,
   * when DIRECTORY=entra. Chat offers none.
   */
  directory?: DirectoryReader | undefined;
  /** Progress of a long import, for the command line's progress bar. */
  progress?(p: { rows: number; bytes: number; size: number }): void;
}

/** The directory to read; refused, saying what to set, where none is configured. */
export function directoryOf(io: CommandIo): DirectoryReader {
  if (io.directory) return io.directory;
  throw refused(
    'DIRECTORY_NOT_CONFIGURED',
    'No directory is configured to read: set DIRECTORY=entra, with GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET for an app registration granted User.Read.All, GroupMember.Read.All and AuditLog.Read.All (the same settings the bot runs with), then run the command again.',
  );
}

/** The command line's progress hooks are part of what it offers a command. */
export type CommandHooks = Pick<CommandIo, 'progress'>;

/** The caller's files; a caller that offers none (chat) is told where files are named. */
export function filesOf(io: CommandIo): FileAccess {
  if (io.files) return io.files;
  throw refused('COMMAND_LINE_ONLY', 'Files are read and written on the bot’s command line only.');
}
