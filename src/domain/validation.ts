import { invalid } from './errors.js';
import { DSPT_STATUSES, type DsptStatus, ORG_KINDS, type OrgKind } from './organisation.js';
import { quote } from './quote.js';

/**
 * Parsers for everything a person types. Each returns the normalised value or throws an
 * `invalid` DomainError whose message says what was wrong and what a good value looks like.
 */

const NHS_NET = /^[a-z0-9](?:[a-z0-9._'-]{0,62}[a-z0-9])?@nhs\.net$/;

export function parseAddress(input: string): string {
  const value = input
    .trim()
    .toLowerCase()
    .replace(/^mailto:/, '');
  if (!value.includes('@')) {
    throw invalid(
      'INVALID_ADDRESS',
      `${quote(input)} is not an email address. Use the full @nhs.net address, e.g. jane.doe@nhs.net.`,
    );
  }
  if (!value.endsWith('@nhs.net')) {
    throw invalid(
      'NOT_NHS_NET',
      `${input} is not an @nhs.net address. The bot only manages NHSmail accounts: use the person's @nhs.net address.`,
    );
  }
  if (!NHS_NET.test(value) || value.includes('..')) {
    throw invalid(
      'INVALID_ADDRESS',
      `${quote(input)} is not a valid @nhs.net address (letters, digits, dots, hyphens, underscores and apostrophes only).`,
    );
  }
  return value;
}

/**
 * ODS codes are 3 to 6 letters and digits (trusts RXX or RXX01, ICBs QWE, practices A81001,
 * pharmacies FA123, dental V00123), always with at least one letter. Stored upper-case.
 */
export function parseOds(input: string): string {
  const value = input.trim().toUpperCase();
  if (!/^[A-Z0-9]{3,6}$/.test(value) || !/[A-Z]/.test(value)) {
    throw invalid(
      'INVALID_ODS',
      `${quote(input)} is not an ODS code. ODS codes are 3 to 6 letters and digits, such as RXX, RJ1, A81001 or FA123.`,
    );
  }
  return value;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * An organisation's directory group: an Entra group's object id, a GUID, read in any case and
 * stored lower-case so the same group is never two values. The all-zero GUID is a placeholder no
 * directory issues, so it is refused.
 */
export function parseDirectoryGroup(input: string): string {
  const value = input.trim().toLowerCase();
  if (!GUID.test(value) || /^[0-]+$/.test(value)) {
    throw invalid(
      'INVALID_GROUP',
      `${quote(input)} is not a directory group's object id. Give the Entra group's Object ID as shown in the Entra admin centre: 32 hexadecimal digits in the form 0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0.`,
    );
  }
  return value;
}

export interface Mobile {
  /** +447… form, only ever held in memory. */
  e164: string;
  /** `07*** ***123`: safe to store and show. */
  masked: string;
}

export function parseMobile(input: string): Mobile {
  const digits = input.replace(/[\s\-().]/g, '');
  let national: string | null = null;
  if (/^07\d{9}$/.test(digits)) national = digits;
  else if (/^\+447\d{9}$/.test(digits)) national = `0${digits.slice(3)}`;
  else if (/^00447\d{9}$/.test(digits)) national = `0${digits.slice(4)}`;
  else if (/^447\d{9}$/.test(digits)) national = `0${digits.slice(2)}`;
  if (national === null) {
    throw invalid(
      'INVALID_MOBILE',
      'That is not a UK mobile number. Give 11 digits starting 07 (e.g. 07700 900123) or +44 7700 900123.',
    );
  }
  return { e164: `+44${national.slice(1)}`, masked: maskMobile(national) };
}

export const maskMobile = (national: string): string => `07*** ***${national.slice(-3)}`;

export function parseDspt(input: string): DsptStatus {
  const value = input
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, '-');
  if ((DSPT_STATUSES as readonly string[]).includes(value)) return value as DsptStatus;
  throw invalid(
    'INVALID_DSPT',
    `${quote(input)} is not a DSPT status. Use one of: ${DSPT_STATUSES.join(', ')}.`,
  );
}

export function parseOrgKind(input: string, allowed: readonly OrgKind[] = ORG_KINDS): OrgKind {
  const value = input.trim().toLowerCase();
  if ((allowed as readonly string[]).includes(value)) return value as OrgKind;
  throw invalid(
    'INVALID_KIND',
    `${quote(input)} is not an organisation kind here. Use one of: ${allowed.join(', ')}.`,
  );
}

/**
 * A CQC location ID, as the Care Quality Commission shows it on a care home's page: "1-" then
 * digits (1-101661355; 9 to 11 digits today, up to 15 allowed for what CQC may issue next).
 */
const CQC_LOCATION = /^1-\d{1,15}$/;
const CQC_FORMAT = '"1-" then digits, as on the home\'s CQC page, e.g. 1-101661355';

export function parseCqcLocation(input: string): string {
  const value = input.trim();
  if (!CQC_LOCATION.test(value)) {
    throw invalid(
      'INVALID_CQC_LOCATION',
      `${quote(input)} is not a CQC location ID. Write it as ${CQC_FORMAT}.`,
    );
  }
  return value;
}

/**
 * A site's CQC location ID: a care home (CQC-registered) must give one, and no other kind of
 * site has one, so a pharmacy's or a dental practice's is refused rather than silently dropped.
 */
export function siteCqcLocation(kind: OrgKind, input: string | null | undefined): string | null {
  if (kind !== 'care-home') {
    if (input === undefined || input === null) return null;
    throw invalid(
      'INVALID_CQC_LOCATION',
      `Only care homes have a CQC location ID: leave out --cqc-location for a ${kind} site.`,
    );
  }
  if (input === undefined || input === null || input.trim() === '') {
    throw invalid(
      'CQC_LOCATION_REQUIRED',
      `A care home registers with its CQC location ID: add --cqc-location, ${CQC_FORMAT}.`,
    );
  }
  return parseCqcLocation(input);
}

export const REGISTRATION_BODIES = ['GMC', 'NMC', 'GPHC', 'GDC', 'HCPC'] as const;
export type RegistrationBody = (typeof REGISTRATION_BODIES)[number];

export interface Registration {
  body: RegistrationBody;
  number: string;
}

const REGISTRATION_SHAPES: Record<RegistrationBody, { pattern: RegExp; example: string }> = {
  GMC: { pattern: /^\d{7}$/, example: 'GMC:1234567 (7 digits)' },
  NMC: {
    pattern: /^\d{2}[A-Z]\d{4}[A-Z]$/,
    example: 'NMC:12A3456E (2 digits, a letter, 4 digits, a letter)',
  },
  GPHC: { pattern: /^\d{7}$/, example: 'GPhC:2012345 (7 digits)' },
  GDC: { pattern: /^\d{1,6}$/, example: 'GDC:123456 (up to 6 digits)' },
  HCPC: { pattern: /^[A-Z]{2,3}\d{5,6}$/, example: 'HCPC:PH12345 (profession letters and 5 or 6 digits)' },
};

/** `BODY:NUMBER`, e.g. `GMC:1234567`. */
export function parseRegistration(input: string): Registration {
  const match = /^\s*([A-Za-z]+)\s*[:\s]\s*([A-Za-z0-9]+)\s*$/.exec(input);
  const body = match?.[1]?.toUpperCase();
  if (!match || !body || !(REGISTRATION_BODIES as readonly string[]).includes(body)) {
    throw invalid(
      'INVALID_REGISTRATION',
      `${quote(input)} is not a registration number. Write BODY:NUMBER with BODY one of GMC, NMC, GPhC, GDC, HCPC, e.g. GMC:1234567.`,
    );
  }
  const number = (match[2] ?? '').toUpperCase();
  const shape = REGISTRATION_SHAPES[body as RegistrationBody];
  if (!shape.pattern.test(number)) {
    throw invalid(
      'INVALID_REGISTRATION',
      `${quote(input)} is not a valid ${body} number. Expected ${shape.example}.`,
    );
  }
  return { body: body as RegistrationBody, number };
}

/**
 * The years a time the bot acts on (--now, an activity) or a day it exports may fall in. Its
 * clocks add days and years to them (grace, inactivity, retention): 9999-12-31 plus 30 days is
 * past what an ISO-8601 string, and so PostgreSQL, can hold.
 */
export const BOT_YEARS = { first: 2000, last: 2999 } as const;

function withinBotYears(
  year: number,
  input: string,
  what: string,
  code: 'INVALID_DATE' | 'INVALID_TIME',
): void {
  if (year < BOT_YEARS.first || year > BOT_YEARS.last) {
    throw invalid(
      code,
      `${quote(input)} is outside the years the bot works with: give a ${what} from ${BOT_YEARS.first} to ${BOT_YEARS.last}.`,
    );
  }
}

/**
 * A calendar date that exists (2025-02-30 does not), YYYY-MM-DD; with `years`, one within
 * BOT_YEARS.
 */
export function parseDate(input: string, what = 'date', years?: typeof BOT_YEARS): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(input.trim());
  if (match) {
    const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const date = new Date(Date.UTC(y, m - 1, d));
    if (date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d) {
      if (years) withinBotYears(y, input.trim(), what, 'INVALID_DATE');
      return input.trim();
    }
    throw invalid('INVALID_DATE', `${input} is not a real ${what}: that day does not exist.`);
  }
  throw invalid('INVALID_DATE', `${quote(input)} is not a ${what}. Write it as YYYY-MM-DD, e.g. 1985-04-23.`);
}

/** A date of birth: a real date, in the past, for someone of working age (16 to 100). */
export function parseDateOfBirth(input: string, now: Date): string {
  const value = parseDate(input, 'date of birth');
  const born = new Date(`${value}T00:00:00Z`);
  const age = (now.getTime() - born.getTime()) / (365.25 * 24 * 3600 * 1000);
  if (age < 16 || age > 100) {
    throw invalid(
      'INVALID_DATE',
      `${value} is not a plausible date of birth for a member of staff (age 16 to 100).`,
    );
  }
  return value;
}

/**
 * An ISO-8601 instant within BOT_YEARS. A bare date means midnight UTC; a time without a zone is
 * refused as ambiguous.
 */
export function parseInstant(input: string, what = 'time'): Date {
  const value = input.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return new Date(`${parseDate(value, what, BOT_YEARS)}T00:00:00Z`);
  const match =
    /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.exec(value);
  if (match?.[1]) {
    parseDate(match[1], what);
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) {
      withinBotYears(date.getUTCFullYear(), value, what, 'INVALID_TIME');
      return date;
    }
  }
  throw invalid(
    'INVALID_TIME',
    `${quote(input)} is not an ISO-8601 ${what}. Write e.g. 2026-11-23 or 2026-11-23T09:30:00Z (with Z or an offset).`,
  );
}

/** Why something was done, for the audit trail: 1 to 200 characters on one line. */
export function parseReason(input: string, what = 'reason'): string {
  const value = input.trim().replace(/\s+/g, ' ');
  if (value.length === 0 || value.length > 200 || /\p{Cc}/u.test(value)) {
    throw invalid(
      'INVALID_REASON',
      `${quote(input)} is not a usable ${what}: say why in 1 to 200 characters, e.g. "maternity leave".`,
    );
  }
  return value;
}

/** A person's name as typed: letters (accents allowed), spaces, hyphens and apostrophes. */
export function parseName(input: string, what: string): string {
  const value = input.trim().replace(/\s+/g, ' ');
  if (value.length === 0 || value.length > 64 || !/^[\p{L}][\p{L}\p{M} '’-]*$/u.test(value)) {
    throw invalid(
      'INVALID_NAME',
      `${quote(input)} is not a usable ${what}: use letters, spaces, hyphens and apostrophes (1 to 64 characters).`,
    );
  }
  return value;
}

/**
 * An organisation's name, as typed or as ODS publishes it: spaces tidied, 1 to 200 characters,
 * with a letter or digit and no control characters (a line break in a name would break every
 * list it appears in).
 */
export function parseOrgName(input: string): string {
  const value = input.trim().replace(/\s+/g, ' ');
  if (value.length === 0 || value.length > 200 || /\p{Cc}/u.test(value) || !/[\p{L}\p{N}]/u.test(value)) {
    throw invalid(
      'INVALID_NAME',
      `${quote(input)} is not a usable organisation name: give 1 to 200 characters, with letters or digits.`,
    );
  }
  return value;
}

export function parseWholeNumber(input: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(input.trim())) {
    throw invalid('INVALID_NUMBER', `${quote(input)} is not a whole number of ${what}.`);
  }
  const value = Number(input);
  if (value < min || value > max) {
    throw invalid('INVALID_NUMBER', `${what} must be between ${min} and ${max}; got ${value}.`);
  }
  return value;
}
