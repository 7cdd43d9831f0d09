import { parseArgs } from 'node:util';
import { invalid } from '../domain/errors.js';
import { quote } from '../domain/quote.js';
import type { Options, Values } from './command.js';
import { type Command, findCommand, unknownCommand } from './registry.js';

export { COMMANDS, type Command, type CommandName, helpText, specFor } from './registry.js';

/**
 * Turns the words of a command into a Command, or throws an `invalid` DomainError that says
 * what was wrong and shows the usage. `now` is needed to judge dates of birth.
 */
export function parseCommand(words: string[], now: Date): Command {
  if (words.length === 0) {
    throw invalid('EMPTY_COMMAND', 'No command given. Type "help" to see what the bot can do.');
  }
  const found = findCommand(words);
  if (!found) throw unknownCommand(words);
  const { module, rest } = found;
  let parsed: ReturnType<typeof parseArgs<{ options: Options; tokens: true; allowPositionals: true }>>;
  try {
    parsed = parseArgs({
      args: rest,
      options: module.options,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (e) {
    throw invalid('BAD_OPTION', `${optionProblem(e)} Usage: ${module.usage}`);
  }
  // parseArgs keeps the last of a repeated option: `--org RXX --org RYY` would quietly act on RYY.
  const given = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    if (given.has(token.name)) throw invalid('BAD_OPTION', `--${token.name} was given twice: give it once.`);
    given.add(token.name);
  }
  const [min, max] = module.positionals;
  if (parsed.positionals.length < min) {
    throw invalid('MISSING_ARGUMENT', `Something is missing. Usage: ${module.usage}`);
  }
  if (parsed.positionals.length > max) {
    const extra = parsed.positionals.slice(max).join(' ');
    throw invalid('TOO_MANY_WORDS', `${quote(extra)} was not expected. Usage: ${module.usage}`);
  }
  return module.parse({
    values: parsed.values as Values,
    positionals: parsed.positionals,
    now,
    usage: module.usage,
  });
}

function optionProblem(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) {
    const flag = unknown[1] ?? '';
    if (['--as', '--now', '--json'].includes(flag))
      return `${flag} is only for operators on the command line.`;
    return `${flag} is not an option of this command.`;
  }
  if (
    /argument missing|requires a value|expects a value/i.test(message) ||
    /'--[^']+' argument/.test(message)
  ) {
    return 'An option is missing its value.';
  }
  if (/does not take an argument/.test(message)) return 'A yes/no option was given a value.';
  return 'The options could not be read.';
}
