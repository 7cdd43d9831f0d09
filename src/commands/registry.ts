import { jaroWinkler } from '../domain/duplicates.js';
import { invalid } from '../domain/errors.js';
import { quote } from '../domain/quote.js';
import { activity, disable, enable, firstLogin, reactivate } from './catalogue/accounts.js';
import { link, subscribe, subscriptions, unsubscribe } from './catalogue/chat.js';
import { remind, reminders, sweep } from './catalogue/clocks.js';
import { contact } from './catalogue/contact.js';
import {
  directoryDrift,
  directoryFailed,
  directoryImport,
  directoryReapply,
  directoryRetry,
} from './catalogue/directory.js';
import { exportAudit } from './catalogue/export-audit.js';
import { importActivity } from './catalogue/import-activity.js';
import { importLeavers, importStarters } from './catalogue/import-hr.js';
import { importOrgs } from './catalogue/import-orgs.js';
import { joiner, leaver, transfer } from './catalogue/moves.js';
import { notificationsFailed, notificationsRetry } from './catalogue/notifications.js';
import { orgAdd, orgDspt, orgGroup } from './catalogue/organisations.js';
import { provision } from './catalogue/provision.js';
import { audit, expiring, status } from './catalogue/queries.js';
import { grant, revoke } from './catalogue/roles.js';
import { siteMailboxDone, siteRegister, siteRequestAccount, siteShow } from './catalogue/sites.js';
import { type AnyCommand, type CommandSpec, defineCommand } from './command.js';

/**
 * `help` describes the catalogue it is part of, so it lives beside it (a module of its own would
 * import this one, which imports it).
 */
const help = defineCommand({
  name: 'help',
  usage: 'help [COMMAND]',
  summary: 'List the commands, or explain one.',
  guests: true,
  options: {},
  positionals: [0, 2],
  parse: ({ positionals }) => ({
    name: 'help',
    topic: positionals.length ? positionals.join(' ') : undefined,
  }),
  run: async (_l, ctx, c) => helpText({ includeOperator: ctx.platform === 'cli', topic: c.topic }),
  render: (text) => ({ text, data: { help: text } }),
});

/** Every command, in the order help lists them. */
export const COMMANDS = [
  help,
  contact,
  orgAdd,
  orgDspt,
  orgGroup,
  grant,
  revoke,
  provision,
  firstLogin,
  leaver,
  joiner,
  transfer,
  activity,
  reactivate,
  disable,
  enable,
  remind,
  status,
  expiring,
  audit,
  exportAudit,
  siteRegister,
  siteRequestAccount,
  siteShow,
  siteMailboxDone,
  sweep,
  reminders,
  importActivity,
  importStarters,
  importLeavers,
  importOrgs,
  notificationsFailed,
  notificationsRetry,
  directoryFailed,
  directoryRetry,
  directoryImport,
  directoryDrift,
  directoryReapply,
  link,
  subscribe,
  unsubscribe,
  subscriptions,
] as const;

/** A parsed command: the same object whichever adapter the words came from. */
export type Command = ReturnType<(typeof COMMANDS)[number]['parse']>;

export type CommandName = Command['name'];

type Module = (typeof COMMANDS)[number];

const BY_NAME: ReadonlyMap<string, Module> = new Map(COMMANDS.map((module) => [module.name, module]));

/** The module that parsed `command`, to run and render it. */
export function moduleOf(command: Command): AnyCommand {
  const module = BY_NAME.get(command.name);
  if (!module) throw new Error(`no module for the command ${command.name}`);
  return module;
}

/** Two-word commands ("org add", "site show") are matched before one-word ones. */
export function findCommand(words: string[]): { module: Module; rest: string[] } | null {
  const byTwo = BY_NAME.get(`${words[0] ?? ''} ${words[1] ?? ''}`.toLowerCase());
  if (byTwo) return { module: byTwo, rest: words.slice(2) };
  const byOne = BY_NAME.get((words[0] ?? '').toLowerCase());
  return byOne ? { module: byOne, rest: words.slice(1) } : null;
}

export function specFor(name: string): CommandSpec | undefined {
  return findCommand(name.split(/\s+/))?.module;
}

export function unknownCommand(words: string[]): Error {
  const typed = words.slice(0, 2).join(' ').toLowerCase();
  const first = (words[0] ?? '').toLowerCase();
  const best = COMMANDS.map((s) => ({
    name: s.name,
    score: Math.max(jaroWinkler(first, s.name), jaroWinkler(typed, s.name)),
  })).sort((a, b) => b.score - a.score)[0];
  const hint = best && best.score > 0.8 ? ` Did you mean "${best.name}"?` : '';
  return invalid(
    'UNKNOWN_COMMAND',
    `${quote(words[0] ?? '')} is not a command.${hint} Type "help" to see the commands.`,
  );
}

/** The commands as help text; chat adapters hide operator-only commands. */
export function helpText(options: { includeOperator: boolean; topic?: string | undefined }): string {
  if (options.topic) {
    const spec = specFor(options.topic);
    if (!spec) throw unknownCommand(options.topic.split(/\s+/));
    if (spec.operatorOnly && !options.includeOperator) {
      return `${spec.name} is for operators only, on the bot's command line. Type "help" for the commands you can use here.`;
    }
    return `${spec.usage}\n  ${spec.summary}`;
  }
  const lines = COMMANDS.filter((s) => options.includeOperator || !s.operatorOnly).map(
    (s) => `  ${s.usage}\n      ${s.summary}`,
  );
  return ['Commands:', ...lines].join('\n');
}
