import { randomUUID } from 'node:crypto';
import { type DomainErrorValue, isDomainError, refused } from '../domain/errors.js';
import { isSystemActor } from '../domain/roles.js';
import type { RequestContext } from '../service/context.js';
import type { Lifecycle } from '../service/lifecycle.js';
import type { CommandIo, CommandSpec } from './command.js';
import { parseCommand } from './grammar.js';
import { type Command, type CommandName, moduleOf } from './registry.js';
import { tokenize } from './tokenize.js';

export type { CommandHooks, CommandIo } from './command.js';

/** What every adapter says when the bot itself failed (a bug or an outage), not a rule. */
export const INTERNAL_ERROR_TEXT =
  'Something went wrong on the bot’s side and the command did not complete; nothing was changed. Try again in a minute; if it keeps failing, tell your IT team.';

/** What every chat adapter answers to an edited message: edits are never run (see the adapters). */
export const EDIT_NOT_RUN = 'I act on new messages only, so I did not run your edit.';

/** A platform-neutral answer: adapters turn `text`/`data` into a CLI line, Block Kit or a card. */
export interface Reply {
  ok: boolean;
  /** 0 done; 1 refused by a rule or a permission; 2 malformed input. */
  exitCode: 0 | 1 | 2;
  command: CommandName | null;
  text: string;
  /** The machine-readable result (`--json`), or `{ error }` when refused. */
  data: unknown;
  /** The refusal, when refused: `error.code === 'X'` types its details. */
  error?: DomainErrorValue;
  /** The request's id: in its log lines, and on the notifications it queued. */
  correlationId?: string;
  /** The result was written to the caller's `output` stream (a CSV export): print nothing more. */
  streamed?: boolean;
}

/** The answer when the bot itself failed: the reference finds the log lines. */
export function internalErrorReply(correlationId: string): Reply {
  return {
    ok: false,
    exitCode: 1,
    command: null,
    text: `${INTERNAL_ERROR_TEXT} (Reference: ${correlationId})`,
    data: { error: { code: 'INTERNAL_ERROR', correlationId } },
    error: { code: 'INTERNAL_ERROR', kind: 'refused', message: 'internal error', details: {} },
    correlationId,
  };
}

/**
 * Parses typed words (a chat message, or the CLI's argv) and runs them: the one way in for every
 * adapter, so every command is counted, timed and tracked until it finishes (a stopping process
 * waits for it). A bug is counted as INTERNAL_ERROR and thrown for the adapter to answer.
 */
export async function runText(
  lifecycle: Lifecycle,
  ctx: RequestContext,
  input: string | string[],
  io: CommandIo = {},
): Promise<Reply> {
  const correlationId = ctx.correlationId ?? randomUUID();
  const started = performance.now();
  const count = (command: string | null, outcome: string) =>
    lifecycle.telemetry.command({
      command,
      platform: ctx.platform,
      outcome,
      seconds: (performance.now() - started) / 1000,
    });
  try {
    const reply = await lifecycle.inFlight.track(
      parseAndRun(lifecycle, { ...ctx, correlationId }, input, io),
    );
    count(reply.command, reply.ok ? 'done' : (reply.error?.code ?? 'refused'));
    return { ...reply, correlationId };
  } catch (e) {
    count(null, 'INTERNAL_ERROR');
    throw e;
  }
}

async function parseAndRun(
  lifecycle: Lifecycle,
  ctx: RequestContext,
  input: string | string[],
  io: CommandIo,
): Promise<Reply> {
  let command: Command;
  try {
    command = parseCommand(typeof input === 'string' ? tokenize(input) : input, ctx.now);
  } catch (e) {
    return failure(null, e);
  }
  return runCommand(lifecycle, ctx, command, io);
}

/** Runs a parsed command. Domain refusals become replies; anything else is a bug and is thrown. */
export async function runCommand(
  lifecycle: Lifecycle,
  ctx: RequestContext,
  command: Command,
  io: CommandIo = {},
): Promise<Reply> {
  try {
    const module = moduleOf(command);
    if (ctx.actor.kind === 'guest' && !module.guests) refuseGuest(ctx);
    refuseUnlessAllowed(module, ctx);
    const result = await module.run(lifecycle, ctx, command, io);
    const { text, data, streamed } = module.render(result, command, ctx);
    return { ok: true, exitCode: 0, command: command.name, text, data, ...(streamed ? { streamed } : {}) };
  } catch (e) {
    return failure(command.name, e);
  }
}

function refuseGuest(ctx: RequestContext): void {
  const where = ctx.chat
    ? `your ${ctx.chat.platform === 'slack' ? 'Slack' : 'Teams'} profile`
    : 'your profile';
  throw refused(
    'IDENTITY_NOT_VERIFIED',
    `The bot does not know your @nhs.net address: the e-mail on ${where} is not an @nhs.net address, so it cannot show or change any account for you. Ask your local administrator or NAS to link you ("link @you your.name@nhs.net"). Until then you can use help and contact.`,
  );
}

/**
 * The one check of the commands chat does not offer (`operatorOnly`): the operator's own, or the
 * command line's. Their use cases may check again, for their other callers.
 */
function refuseUnlessAllowed(spec: CommandSpec, ctx: RequestContext): void {
  const rule = spec.operatorOnly;
  if (!rule) return;
  if (rule.to === 'operator' && !isSystemActor(ctx.actor)) throw refused('OPERATOR_ONLY', rule.refusal);
  if (rule.to === 'command line' && ctx.platform !== 'cli') throw refused('COMMAND_LINE_ONLY', rule.refusal);
}

function failure(command: CommandName | null, e: unknown): Reply {
  if (!isDomainError(e)) throw e;
  const error = e.value();
  return {
    ok: false,
    exitCode: e.kind === 'invalid' ? 2 : 1,
    command,
    text: e.message,
    data: { error: { code: e.code, message: e.message, ...e.details } },
    error,
  };
}
