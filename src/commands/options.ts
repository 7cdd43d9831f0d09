import { invalid } from '../domain/errors.js';
import { quote } from '../domain/quote.js';
import { parseDateOfBirth, parseMobile, parseName, parseRegistration } from '../domain/validation.js';
import { DELIVERY_ROUTES, type DeliveryRoute } from '../service/ports.js';
import type { NewPerson } from '../service/provisioning.js';
import type { Options, Values } from './command.js';

/** Parsing helpers the command modules share. */

export const str = { type: 'string' } as const;
export const bool = { type: 'boolean' } as const;

/** The options that describe a new account's holder (`provision`, `site request-account`). */
export const personOptions: Options = {
  given: str,
  family: str,
  mobile: str,
  dob: str,
  reg: str,
  delivery: str,
  'override-duplicate': str,
};

export function required(values: Values, flag: string, usage: string): string {
  const value = values[flag];
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalid('MISSING_OPTION', `--${flag} is required. Usage: ${usage}`);
  }
  return value;
}

export const optional = (values: Values, flag: string): string | undefined => {
  const value = values[flag];
  return typeof value === 'string' ? value : undefined;
};

/** The positional word at `i`; parseCommand has already checked how many there are. */
export const at = (positionals: string[], i: number): string => positionals[i] ?? '';

export function person(values: Values, now: Date, usage: string, prefix = ''): NewPerson {
  const get = (flag: string) => optional(values, `${prefix}${flag}`);
  const mobile = get('mobile');
  const dob = get('dob');
  const reg = get('reg');
  const delivery = get('delivery');
  const override = get('override-duplicate');
  if (override !== undefined && override.trim().length < 10) {
    throw invalid(
      'REASON_REQUIRED',
      'An override needs a reason an auditor can follow (at least 10 characters).',
    );
  }
  return {
    given: parseName(required(values, `${prefix}given`, usage), 'given name'),
    family: parseName(required(values, `${prefix}family`, usage), 'family name'),
    mobile: mobile === undefined ? undefined : parseMobile(mobile),
    dob: dob === undefined ? undefined : parseDateOfBirth(dob, now),
    reg: reg === undefined ? undefined : parseRegistration(reg),
    delivery: delivery === undefined ? undefined : parseDelivery(delivery),
    overrideDuplicate: override?.trim(),
  };
}

function parseDelivery(input: string): DeliveryRoute {
  const value = input.trim().toLowerCase();
  if ((DELIVERY_ROUTES as readonly string[]).includes(value)) return value as DeliveryRoute;
  throw invalid(
    'INVALID_DELIVERY',
    `${quote(input)} is not a delivery route. Use --delivery sms or --delivery envelope.`,
  );
}

/**
 * `… retry ID|--all`: exactly one of a parked item's number (as its list shows it, `#` allowed)
 * or --all. `what` names the item ("notification", "directory change"), `list` its list command.
 */
export function numberOrAll(
  args: { values: Values; positionals: string[]; usage: string },
  what: string,
  list: string,
  example: string,
): { id: number | undefined; all: boolean } {
  const all = args.values.all === true;
  const given = args.positionals[0];
  if (all === (given !== undefined)) {
    throw invalid('MISSING_ARGUMENT', `Name one ${what} or give --all. Usage: ${args.usage}`);
  }
  if (given === undefined) return { id: undefined, all };
  const value = given.trim().replace(/^#/, '');
  if (!/^[1-9]\d{0,14}$/.test(value)) {
    throw invalid(
      'INVALID_ID',
      `${quote(given)} is not a ${what} number. Use the number "${list}" shows, e.g. ${example}.`,
    );
  }
  return { id: Number(value), all };
}
