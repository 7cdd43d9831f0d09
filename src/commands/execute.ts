import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { type DomainErrorValue, invalid, isDomainError, refused } from '../domain/errors.js';
import { quote } from '../domain/quote.js';
import { isSystemActor } from '../domain/roles.js';
import { parseActivityReport } from '../service/activity-import.js';
import type { ChatUserRef, RequestContext } from '../service/context.js';
import { checkHrCsv, LEAVER_COLUMNS, readHrCsv, STARTER_COLUMNS } from '../service/hr-feed.js';
import type { Lifecycle } from '../service/lifecycle.js';
import { writeAuditCsv, writeAuditCsvFile } from './audit-csv.js';
import { type Command, type CommandName, helpText, parseCommand } from './grammar.js';
import * as render from './render.js';
import { tokenize } from './tokenize.js';

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

/** What a caller offers a command besides its words. */
export interface CommandIo {
  /**
   * Where a command whose result is a file's worth of data (`export audit` without --out) writes
   * it as it goes: the CLI's stdout, or the operator channel's response. Chat offers none.
   */
  output?: Writable | undefined;
  /** Progress of a long import, for the command line's progress bar. */
  progress?(p: { rows: number; bytes: number; size: number }): void;
}

/** The command line's progress hooks are part of what it offers a command. */
export type CommandHooks = Pick<CommandIo, 'progress'>;

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
    if (ctx.actor.kind === 'guest') refuseGuest(ctx, command);
    const { text, data, streamed } = await dispatch(lifecycle, ctx, command, io);
    return { ok: true, exitCode: 0, command: command.name, text, data, ...(streamed ? { streamed } : {}) };
  } catch (e) {
    return failure(command.name, e);
  }
}

/**
 * A chat user named in a command: a mention in the platform's own syntax, or, anywhere,
 * `slack:TEAM:USER` / `teams:TENANT:USER`.
 */
export function chatUser(ctx: RequestContext, token: string): ChatUserRef {
  const canonical = /^(slack|teams):([^:\s]+):([^:\s]+)$/.exec(token);
  if (canonical) {
    return {
      platform: canonical[1] as ChatUserRef['platform'],
      tenant: canonical[2] ?? '',
      userId: canonical[3] ?? '',
    };
  }
  const userId = ctx.chat?.parseMention(token) ?? null;
  if (ctx.chat && userId) return { platform: ctx.chat.platform, tenant: ctx.chat.tenant, userId };
  throw invalid(
    'INVALID_CHAT_USER',
    `${quote(token)} is not a chat user. Mention them (@name) in Slack or Teams, or write slack:TEAM:USER or teams:TENANT:USER.`,
  );
}

/** Commands a chat user may run before the bot knows their @nhs.net address. */
const GUEST_COMMANDS: ReadonlySet<CommandName> = new Set(['help', 'contact']);

function refuseGuest(ctx: RequestContext, command: Command): void {
  if (GUEST_COMMANDS.has(command.name)) return;
  const where = ctx.chat
    ? `your ${ctx.chat.platform === 'slack' ? 'Slack' : 'Teams'} profile`
    : 'your profile';
  throw refused(
    'IDENTITY_NOT_VERIFIED',
    `The bot does not know your @nhs.net address: the e-mail on ${where} is not an @nhs.net address, so it cannot show or change any account for you. Ask your local administrator or NAS to link you ("link @you your.name@nhs.net"). Until then you can use help and contact.`,
  );
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

async function dispatch(
  l: Lifecycle,
  ctx: RequestContext,
  c: Command,
  io: CommandIo,
): Promise<render.Rendered & { streamed?: boolean }> {
  switch (c.name) {
    case 'help': {
      const text = helpText({ includeOperator: ctx.platform === 'cli', topic: c.topic });
      return { text, data: { help: text } };
    }
    case 'contact':
      return render.contact(await l.contact(ctx, { category: c.category }));
    case 'org add':
      return render.organisation(
        'Added',
        await l.addOrganisation(ctx, { ods: c.ods, name: c.orgName, kind: c.kind, dspt: c.dspt }),
      );
    case 'org dspt':
      return render.dspt(await l.updateDspt(ctx, { ods: c.ods, dspt: c.dspt }));
    case 'grant':
      return render.role(await l.grantRole(ctx, c), 'grant');
    case 'revoke':
      return render.role(await l.revokeRole(ctx, c), 'revoke');
    case 'provision':
      return render.provisioned(await l.provision(ctx, { ...c.person, org: c.org }));
    case 'first-login':
      return render.account(await l.firstLogin(ctx, c), ctx.now, 'First login recorded');
    case 'leaver':
      return render.leaver(await l.leaver(ctx, c), ctx.now);
    case 'joiner':
      return render.joiner(await l.joiner(ctx, c), ctx.now);
    case 'transfer':
      return render.transfer(await l.requestTransfer(ctx, c));
    case 'activity':
      return render.account(await l.recordActivity(ctx, c), ctx.now, 'Activity recorded');
    case 'reactivate':
      return render.account(await l.reactivate(ctx, c), ctx.now, 'Reactivated');
    case 'status':
      return render.status(await l.status(ctx, c), ctx.now);
    case 'expiring':
      return render.expiring(await l.expiring(ctx, c), ctx.now, c.within);
    case 'audit':
      return render.audit(await l.auditTrail(ctx, c), c.address);
    case 'export audit': {
      const exported = await l.exportAudit(ctx, { from: c.from, to: c.to });
      if (c.out !== undefined) {
        return render.auditExport(exported, await writeAuditCsvFile(exported, c.out), path.resolve(c.out));
      }
      if (!io.output) {
        throw invalid('OUT_REQUIRED', 'Say which file the CSV goes to: add --out FILE.');
      }
      const rows = await writeAuditCsv(exported, io.output);
      return { ...render.auditExport(exported, rows, null), streamed: true };
    }
    case 'site register':
      return render.siteRegistered(
        await l.registerSite(ctx, {
          ods: c.ods,
          kind: c.kind,
          name: c.siteName,
          dspt: c.dspt,
          owner: c.owner,
        }),
      );
    case 'site request-account':
      return render.provisioned(await l.requestSiteAccount(ctx, { ...c.person, site: c.site }));
    case 'site show':
      return render.site(await l.showSite(ctx, c));
    case 'sweep':
      return render.sweep(await l.sweep(ctx, c));
    case 'reminders':
      return render.reminders(await l.remindPending(ctx, c));
    case 'remind':
      return render.reminded(await l.remind(ctx, c));
    case 'import activity': {
      if (!isSystemActor(ctx.actor)) {
        throw refused(
          'OPERATOR_ONLY',
          'Activity reports are imported by the operator on the bot’s command line.',
        );
      }
      const file = await openForReading(c.file, "the report's CSV file");
      const csv = await file.readFile('utf8').finally(() => file.close().catch(() => {}));
      const parsed = parseActivityReport(csv, quote(c.file));
      return render.activityImport(await l.recordObservedActivity({ ...ctx, platform: 'import' }, parsed));
    }
    case 'import starters':
    case 'import leavers': {
      if (ctx.platform !== 'cli') {
        throw refused(
          'COMMAND_LINE_ONLY',
          'HR files are imported on the bot’s command line ("import starters FILE.csv"), or pushed by HR systems to POST /hr/starters and /hr/leavers.',
        );
      }
      const file = await openForReading(c.file, "HR's CSV file");
      try {
        const layout = c.name === 'import starters' ? STARTER_COLUMNS : LEAVER_COLUMNS;
        const name = quote(c.file);
        // Twice from the start of the file: checked whole, then applied (see checkHrCsv).
        const read = () => file.createReadStream({ start: 0, autoClose: false });
        await checkHrCsv(read(), layout, name);
        const size = (await file.stat()).size;
        const stream = read();
        const progress = io.progress;
        const onProgress = progress
          ? (rows: number) => progress({ rows, bytes: stream.bytesRead, size })
          : undefined;
        const records = readHrCsv(stream, layout, name);
        return c.name === 'import starters'
          ? render.starterImport(await l.importStarters(ctx, { records, dryRun: c.dryRun, onProgress }))
          : render.leaverImport(await l.importLeavers(ctx, { records, dryRun: c.dryRun, onProgress }));
      } finally {
        await file.close().catch(() => {});
      }
    }
    case 'import orgs': {
      if (!isSystemActor(ctx.actor)) {
        throw refused(
          'OPERATOR_ONLY',
          'Organisation data is imported by the operator on the bot’s command line.',
        );
      }
      const file = await openForReading(c.file, 'the ODS extract');
      try {
        return render.orgImport(
          await l.importOrganisations(
            { ...ctx, platform: 'import' },
            { source: file.createReadStream(), kind: c.kind, dryRun: c.dryRun, file: path.basename(c.file) },
          ),
        );
      } finally {
        await file.close().catch(() => {});
      }
    }
    case 'notifications failed':
      return render.failedNotifications(await l.failedNotifications(ctx));
    case 'notifications retry':
      return render.retriedNotifications(await l.retryNotifications(ctx, c), c.id);
    case 'link':
      return render.linked(await l.linkChatUser(ctx, { user: chatUser(ctx, c.user), address: c.address }));
    case 'subscribe':
      return render.subscription(await l.subscribe(ctx, c), 'subscribe');
    case 'unsubscribe':
      return render.subscription(await l.unsubscribe(ctx, c), 'unsubscribe');
    case 'subscriptions':
      return render.subscriptions(await l.subscriptions(ctx, c), c.org);
  }
}
