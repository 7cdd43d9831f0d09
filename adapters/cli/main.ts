import path from 'node:path';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import { type CommandHooks, type Reply, runCommand } from '../../src/commands/execute.js';
import { type Command, helpText, parseCommand, specFor } from '../../src/commands/grammar.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { type DomainError, type ErrorCode, invalid, isDomainError } from '../../src/domain/errors.js';
import type { Actor } from '../../src/domain/roles.js';
import { parseAddress, parseInstant } from '../../src/domain/validation.js';
import { createLogger } from '../../src/logger.js';
import type { RequestContext } from '../../src/service/context.js';
import { configuredDirectoryReader } from '../directory/entra-reader.js';
import { isEntrypoint } from '../entrypoint.js';
import { describeFailure, failureDetail } from '../failure.js';
import type { GraphTransport } from '../graph/client.js';
import { DatabaseBusyError, openRuntime, operatorSocketPath } from '../runtime.js';
import { localFiles } from './files.js';
import { forwardToBot } from './operator-channel.js';

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True on an interactive terminal: long imports draw a progress bar on stderr. */
  interactive?: boolean;
  /** stdout as a stream, for output too large to hold as text (`export audit` without --out). */
  out: Writable;
  /** How Graph is reached (tests: a transport trusting the stand-ins' certificate). */
  graphTransport?: GraphTransport;
}

/**
 * A progress bar for a long import (the commands that report progress), on stderr, only on an
 * interactive terminal; drawn from the first report on.
 */
function progressHooks(io: Io): CommandHooks & { stop(): void } {
  if (!io.interactive) return { stop: () => {} };
  const bar = new SingleBar(
    { format: 'Importing {bar} {percentage}% | {rows} rows', stream: process.stderr, hideCursor: true },
    Presets.shades_classic,
  );
  let started = false;
  return {
    progress: ({ rows, bytes, size }) => {
      if (!started) bar.start(Math.max(1, size), 0, { rows: 0 });
      started = true;
      bar.update(Math.min(bytes, size), { rows });
    },
    stop: () => {
      if (started) bar.stop();
      started = false;
    },
  };
}

interface Globals {
  as?: string | undefined;
  now?: string | undefined;
  json: boolean;
  words: string[];
}

/** Pulls the operator-only options (--as, --now, --json) out of argv, wherever they stand. */
export function splitGlobals(argv: string[]): Globals {
  const globals: Globals = { json: false, words: [] };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] ?? '';
    const [flag, inline] = word.startsWith('--') ? word.split(/=(.*)/s, 2) : [word, undefined];
    if (flag === '--json' && inline === undefined) globals.json = true;
    else if (flag === '--as' || flag === '--now') {
      const value = inline ?? argv[++i];
      // An empty value (`--as ''`, `--now=`) must not quietly mean "the operator" or "now".
      if (value === undefined || value.trim() === '' || value.startsWith('--')) {
        throw invalid(
          'BAD_OPTION',
          `${flag} needs a value, e.g. ${flag === '--as' ? '--as jane.doe@nhs.net' : '--now 2026-12-01T09:00:00Z'}.`,
        );
      }
      if ((flag === '--as' ? globals.as : globals.now) !== undefined) {
        throw invalid('BAD_OPTION', `${flag} was given twice: give it once.`);
      }
      if (flag === '--as') globals.as = value;
      else globals.now = value;
    } else globals.words.push(word);
  }
  return globals;
}

export function contextFor(globals: Pick<Globals, 'as' | 'now'>): RequestContext {
  const actor: Actor =
    globals.as !== undefined ? { kind: 'person', address: parseAddress(globals.as) } : { kind: 'operator' };
  const now = globals.now !== undefined ? parseInstant(globals.now, '--now time') : new Date();
  return { actor, platform: 'cli', now };
}

function print(io: Io, reply: Reply, json: boolean): number {
  if (reply.ok && reply.streamed) return reply.exitCode;
  if (json) {
    if (reply.ok) io.stdout(`${JSON.stringify(reply.data, null, 2)}\n`);
    else io.stderr(`${JSON.stringify(reply.data, null, 2)}\n`);
  } else if (reply.ok) io.stdout(`${reply.text}\n`);
  else
    io.stderr(
      `${reply.error?.kind === 'invalid' ? 'Invalid' : 'Refused'} (${reply.error?.code}): ${reply.text}\n`,
    );
  return reply.exitCode;
}

function domainFailure(io: Io, e: DomainError, json: boolean): number {
  return print(
    io,
    {
      ok: false,
      exitCode: e.kind === 'invalid' ? 2 : 1,
      command: null,
      text: e.message,
      data: { error: { code: e.code, message: e.message } },
      error: e.value(),
    },
    json,
  );
}

/**
 * The bot runs in another directory: the paths in a command handed over to it (a report to
 * read, a file to write) are made absolute first, as this process would read them.
 */
export function withAbsolutePaths(command: Command, words: string[]): string[] {
  const spec = specFor(command.name);
  const paths = spec?.paths;
  if (!spec || !paths) return words;
  // The words parsed into `command`: its name, then what parseArgs reads against its options.
  const offset = command.name.split(' ').length;
  const { tokens } = parseArgs({
    args: words.slice(offset),
    options: spec.options,
    allowPositionals: true,
    strict: true,
    tokens: true,
  });
  const resolved = [...words];
  let positional = 0;
  for (const token of tokens) {
    if (token.kind === 'positional' && positional++ === paths.positional) {
      resolved[offset + token.index] = path.resolve(token.value);
    }
    if (token.kind === 'option' && token.value !== undefined && paths.options?.includes(token.name)) {
      if (token.inlineValue) resolved[offset + token.index] = `${token.rawName}=${path.resolve(token.value)}`;
      else resolved[offset + token.index + 1] = path.resolve(token.value);
    }
  }
  return resolved;
}

/**
 * The operator CLI: `npm run --silent nhsmail -- <command> [--as ADDRESS] [--now ISO] [--json]`.
 * Exit codes (README, "The operator command line"):
 * - 0 done;
 * - 1 refused by a rule or a permission;
 * - 2 malformed input (nothing was changed);
 * - 3 could not run: the machine around the bot failed (the database not reachable, DATA_DIR or
 *   an output file not writable, a full disk), told in one line, `Failed: …`;
 * - 70 a bug in the bot, told in one line, `Internal error: …` (its stack with LOG_LEVEL=debug).
 * With --json, failures are `{"error": {"code", "message"}}` on stderr like any other error, with
 * code INFRASTRUCTURE or INTERNAL_ERROR.
 */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  try {
    return await run(argv, env, io);
  } catch (e) {
    return failed(io, e, argv.includes('--json'), env.LOG_LEVEL === 'debug' || env.LOG_LEVEL === 'trace');
  }
}

/** What could not run, or the bug, in one line: never a stack or a query's parameters unless asked. */
function failed(io: Io, e: unknown, json: boolean, debug: boolean): number {
  const failure = describeFailure(e);
  const infrastructure = failure.kind === 'infrastructure';
  const message = infrastructure
    ? failure.message
    : `${failure.message.replace(/\.$/, '')}. This is a bug in the bot: run the command again with LOG_LEVEL=debug to see where, and report it.`;
  if (json) {
    const error = {
      code: (infrastructure ? 'INFRASTRUCTURE' : 'INTERNAL_ERROR') satisfies ErrorCode,
      message,
      ...(failure.cause !== undefined ? { cause: failure.cause } : {}),
      ...(debug ? { detail: failureDetail(e) } : {}),
    };
    io.stderr(`${JSON.stringify({ error }, null, 2)}\n`);
  } else {
    io.stderr(`${infrastructure ? 'Failed' : 'Internal error'}: ${message}\n`);
    if (debug) io.stderr(`${failureDetail(e)}\n`);
  }
  return infrastructure ? 3 : 70;
}

async function run(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  let globals: Globals;
  let ctx: RequestContext;
  let command: Command;
  try {
    globals = splitGlobals(argv);
    ctx = contextFor(globals);
    command = parseCommand(globals.words, ctx.now);
  } catch (e) {
    if (isDomainError(e)) return domainFailure(io, e, argv.includes('--json'));
    throw e;
  }
  if (command.name === 'help') {
    let text: string;
    try {
      text = helpText({ includeOperator: true, topic: command.topic });
    } catch (e) {
      if (isDomainError(e)) return domainFailure(io, e, globals.json);
      throw e;
    }
    io.stdout(globals.json ? `${JSON.stringify({ help: text })}\n` : `${text}\n`);
    return 0;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.stderr(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (config.database.engine === 'pglite') {
    const forwarded = await forwardToBot(
      operatorSocketPath(config),
      { words: withAbsolutePaths(command, globals.words), as: globals.as, now: ctx.now.toISOString() },
      io.out,
    );
    if (forwarded) return print(io, forwarded, globals.json);
  }
  let runtime: Awaited<ReturnType<typeof openRuntime>>;
  // Logs (an operational action such as a requeued notification) go to stderr: stdout is the output.
  const logger = createLogger({ level: config.logLevel, destination: 'stderr' });
  try {
    runtime = await openRuntime(config, { lockRetries: 10, logger });
  } catch (e) {
    if (e instanceof DatabaseBusyError) {
      io.stderr(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const hooks = progressHooks(io);
  try {
    const reply = await runCommand(runtime.lifecycle, ctx, command, {
      output: io.out,
      files: localFiles,
      directory: configuredDirectoryReader(config.directory, logger, io.graphTransport),
      ...hooks,
    });
    hooks.stop();
    return print(io, reply, globals.json);
  } finally {
    hooks.stop();
    await runtime.close();
  }
}

if (isEntrypoint(import.meta.url)) {
  runCli(process.argv.slice(2), process.env, {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    interactive: Boolean(process.stderr.isTTY),
    out: process.stdout,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    // runCli answers every failure itself: this is for one in writing that answer.
    (e: unknown) => {
      process.stderr.write(`Internal error: ${describeFailure(e).message}\n`);
      process.exitCode = 70;
    },
  );
}
