import { parseArgs } from 'node:util';
import { CONTACT_CATEGORIES, type ContactCategory } from '../domain/contact.js';
import { jaroWinkler } from '../domain/duplicates.js';
import { invalid } from '../domain/errors.js';
import {
  type DsptStatus,
  ODS_FILE_KINDS,
  ORG_KINDS,
  type OrgKind,
  SITE_KINDS,
  type SiteKind,
} from '../domain/organisation.js';
import { quote } from '../domain/quote.js';
import { ROLE_NAMES, type RoleName } from '../domain/roles.js';
import {
  BOT_YEARS,
  parseAddress,
  parseDate,
  parseDateOfBirth,
  parseDspt,
  parseInstant,
  parseMobile,
  parseName,
  parseOds,
  parseOrgKind,
  parseOrgName,
  parseRegistration,
  parseWholeNumber,
} from '../domain/validation.js';
import { DELIVERY_ROUTES, type DeliveryRoute } from '../service/ports.js';
import type { NewPerson } from '../service/provisioning.js';

/** A parsed command: the same object whichever adapter the words came from. */
export type Command =
  | { name: 'help'; topic?: string | undefined }
  | { name: 'contact'; category?: ContactCategory | undefined }
  | { name: 'org add'; ods: string; orgName: string; kind: OrgKind; dspt?: DsptStatus | undefined }
  | { name: 'org dspt'; ods: string; dspt: DsptStatus }
  | { name: 'grant' | 'revoke'; address: string; role: RoleName; org?: string | undefined }
  | { name: 'provision'; org: string; person: NewPerson }
  | { name: 'first-login'; address: string; mfa: boolean }
  | { name: 'leaver'; address: string }
  | { name: 'joiner'; address: string; org: string }
  | { name: 'transfer'; address?: string | undefined; to: string }
  | { name: 'activity'; address: string; at?: Date | undefined }
  | { name: 'reactivate'; address: string }
  | { name: 'status'; address?: string | undefined }
  | { name: 'expiring'; org?: string | undefined; within: number }
  | { name: 'audit'; address?: string | undefined }
  | { name: 'export audit'; from: string; to: string; out?: string | undefined }
  | {
      name: 'site register';
      ods: string;
      kind: SiteKind;
      siteName: string;
      dspt: DsptStatus;
      owner: NewPerson;
    }
  | { name: 'site request-account'; site: string; person: NewPerson }
  | { name: 'site show'; ods: string }
  | { name: 'sweep'; dryRun: boolean }
  | { name: 'reminders'; dryRun: boolean }
  | { name: 'remind'; address: string }
  | { name: 'import activity'; file: string }
  | { name: 'import starters' | 'import leavers'; file: string; dryRun: boolean }
  | { name: 'import orgs'; file: string; kind: OrgKind; dryRun: boolean }
  | { name: 'notifications failed' }
  | { name: 'notifications retry'; id?: number | undefined; all: boolean }
  | { name: 'link'; user: string; address: string }
  | { name: 'subscribe' | 'unsubscribe'; org: string }
  | { name: 'subscriptions'; org?: string | undefined };

export type CommandName = Command['name'];

type Options = Record<string, { type: 'string' | 'boolean' }>;
type Values = Record<string, string | boolean | undefined>;

interface Spec {
  name: CommandName;
  usage: string;
  summary: string;
  /** Only the operator CLI may run it (not offered in chat help). */
  operatorOnly?: boolean;
  options: Options;
  positionals: [min: number, max: number];
  build(args: { values: Values; positionals: string[]; now: Date }): Command;
}

const str = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;
const personOptions: Options = {
  given: str,
  family: str,
  mobile: str,
  dob: str,
  reg: str,
  delivery: str,
  'override-duplicate': str,
};

function required(values: Values, flag: string, usage: string): string {
  const value = values[flag];
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalid('MISSING_OPTION', `--${flag} is required. Usage: ${usage}`);
  }
  return value;
}

const optional = (values: Values, flag: string): string | undefined => {
  const value = values[flag];
  return typeof value === 'string' ? value : undefined;
};

function person(values: Values, now: Date, usage: string, prefix = ''): NewPerson {
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

function parseRole(input: string): RoleName {
  const value = input.trim().toLowerCase();
  if ((ROLE_NAMES as readonly string[]).includes(value)) return value as RoleName;
  throw invalid('INVALID_ROLE', `${quote(input)} is not a role. Use one of: ${ROLE_NAMES.join(', ')}.`);
}

const at = (positionals: string[], i: number): string => positionals[i] ?? '';

function parseNotificationId(input: string): number {
  const value = input.trim().replace(/^#/, '');
  if (!/^[1-9]\d{0,14}$/.test(value)) {
    throw invalid(
      'INVALID_ID',
      `${quote(input)} is not a notification number. Use the number "notifications failed" shows, e.g. notifications retry 42.`,
    );
  }
  return Number(value);
}

export const SPECS: Spec[] = [
  {
    name: 'help',
    usage: 'help [COMMAND]',
    summary: 'List the commands, or explain one.',
    options: {},
    positionals: [0, 2],
    build: ({ positionals }) => ({
      name: 'help',
      topic: positionals.length ? positionals.join(' ') : undefined,
    }),
  },
  {
    name: 'contact',
    usage: `contact [${CONTACT_CATEGORIES.join('|')}]`,
    summary: 'Who to contact about an account like yours (or of the kind named).',
    options: {},
    positionals: [0, 1],
    build: ({ positionals }) => {
      const category = positionals[0]?.toLowerCase();
      if (category !== undefined && !(CONTACT_CATEGORIES as readonly string[]).includes(category)) {
        throw invalid(
          'INVALID_CATEGORY',
          `${quote(positionals[0] ?? '')} is not one of: ${CONTACT_CATEGORIES.join(', ')}.`,
        );
      }
      return { name: 'contact', category: category as ContactCategory | undefined };
    },
  },
  {
    name: 'org add',
    usage:
      'org add --ods ODS --name NAME --kind trust|icb|gp-practice|pharmacy|dental|care-home|gp-locum [--dspt STATUS]',
    summary: 'Add an organisation (operator only).',
    operatorOnly: true,
    options: { ods: str, name: str, kind: str, dspt: str },
    positionals: [0, 0],
    build({ values }) {
      const name = parseOrgName(required(values, 'name', this.usage));
      const dspt = optional(values, 'dspt');
      return {
        name: 'org add',
        ods: parseOds(required(values, 'ods', this.usage)),
        orgName: name,
        kind: parseOrgKind(required(values, 'kind', this.usage)),
        dspt: dspt === undefined ? undefined : parseDspt(dspt),
      };
    },
  },
  {
    name: 'org dspt',
    usage:
      'org dspt --ods ODS --dspt standards-exceeded|standards-met|approaching-standards|standards-not-met|not-published',
    summary: 'Record an organisation’s published DSPT status (operator or NAS).',
    options: { ods: str, dspt: str },
    positionals: [0, 0],
    build({ values }) {
      return {
        name: 'org dspt',
        ods: parseOds(required(values, 'ods', this.usage)),
        dspt: parseDspt(required(values, 'dspt', this.usage)),
      };
    },
  },
  {
    name: 'grant',
    usage: 'grant ADDRESS nas-admin|local-admin|site-owner|manager [--org ODS]',
    summary: 'Give someone a role (local admins may make managers of their organisation).',
    options: { org: str },
    positionals: [2, 2],
    build: ({ values, positionals }) => roleCommand('grant', values, positionals),
  },
  {
    name: 'revoke',
    usage: 'revoke ADDRESS nas-admin|local-admin|site-owner|manager [--org ODS]',
    summary: 'Take a role away again.',
    options: { org: str },
    positionals: [2, 2],
    build: ({ values, positionals }) => roleCommand('revoke', values, positionals),
  },
  {
    name: 'provision',
    usage:
      'provision --given G --family F --org ODS [--mobile M] [--dob YYYY-MM-DD] [--reg BODY:NUMBER] [--delivery sms|envelope] [--override-duplicate REASON]',
    summary: 'Create a new starter’s account (duplicate check first; password by SMS or Day 1 envelope).',
    options: { ...personOptions, org: str },
    positionals: [0, 0],
    build({ values, now }) {
      return {
        name: 'provision',
        org: parseOds(required(values, 'org', this.usage)),
        person: person(values, now, this.usage),
      };
    },
  },
  {
    name: 'first-login',
    usage: 'first-login ADDRESS [--mfa]',
    summary: 'Record a first login (password changed; --mfa: Authenticator registered) → active.',
    options: { mfa: bool },
    positionals: [1, 1],
    build: ({ values, positionals }) => ({
      name: 'first-login',
      address: parseAddress(at(positionals, 0)),
      mfa: values.mfa === true,
    }),
  },
  {
    name: 'leaver',
    usage: 'leaver ADDRESS',
    summary: 'Mark someone as a leaver: the 30-day grace period starts.',
    options: {},
    positionals: [1, 1],
    build: ({ positionals }) => ({ name: 'leaver', address: parseAddress(at(positionals, 0)) }),
  },
  {
    name: 'joiner',
    usage: 'joiner ADDRESS --org ODS',
    summary:
      'Accept a leaver into your organisation: same address, same mailbox. An account whose first login is still due stays pending.',
    options: { org: str },
    positionals: [1, 1],
    build({ values, positionals }) {
      return {
        name: 'joiner',
        address: parseAddress(at(positionals, 0)),
        org: parseOds(required(values, 'org', this.usage)),
      };
    },
  },
  {
    name: 'transfer',
    usage: 'transfer [ADDRESS] --to ODS',
    summary: 'Ask for an account (your own by default) to move to another organisation.',
    options: { to: str },
    positionals: [0, 3],
    build({ values, positionals }) {
      // "transfer to RXX" and "transfer jane.doe@nhs.net to RXX" read naturally in a chat.
      const words = [...positionals];
      let to = optional(values, 'to');
      const toIndex = words.findIndex((w) => w.toLowerCase() === 'to');
      if (to === undefined && toIndex >= 0 && toIndex === words.length - 2) {
        to = words[toIndex + 1];
        words.splice(toIndex, 2);
      }
      if (words.length > 1) throw invalid('TOO_MANY_WORDS', `Too many words. Usage: ${this.usage}`);
      if (to === undefined) throw invalid('MISSING_OPTION', `Say where to: ${this.usage}`);
      return {
        name: 'transfer',
        address: words[0] === undefined ? undefined : parseAddress(words[0]),
        to: parseOds(to),
      };
    },
  },
  {
    name: 'activity',
    usage: 'activity ADDRESS [--at ISO-8601]',
    summary: 'Record a sign-in or a sent email: restarts the 30-day activity clock.',
    options: { at: str },
    positionals: [1, 1],
    build: ({ values, positionals }) => {
      const when = optional(values, 'at');
      return {
        name: 'activity',
        address: parseAddress(at(positionals, 0)),
        at: when === undefined ? undefined : parseInstant(when, 'activity time'),
      };
    },
  },
  {
    name: 'reactivate',
    usage: 'reactivate ADDRESS',
    summary: 'Bring back an inactive account (or, NAS only, a deleted one within the restore window).',
    options: {},
    positionals: [1, 1],
    build: ({ positionals }) => ({ name: 'reactivate', address: parseAddress(at(positionals, 0)) }),
  },
  {
    name: 'remind',
    usage: 'remind ADDRESS',
    summary: 'Send the holder a direct message with what to do to keep their account (once an hour at most).',
    options: {},
    positionals: [1, 1],
    build: ({ positionals }) => ({ name: 'remind', address: parseAddress(at(positionals, 0)) }),
  },
  {
    name: 'status',
    usage: 'status [ADDRESS]',
    summary: 'An account’s status, organisation and clocks (your own by default).',
    options: {},
    positionals: [0, 1],
    build: ({ positionals }) => ({
      name: 'status',
      address: positionals[0] === undefined ? undefined : parseAddress(positionals[0]),
    }),
  },
  {
    name: 'expiring',
    usage: 'expiring [--org ODS] [--within DAYS]',
    summary: 'Grace periods, activity windows and retention that end soon (default: 7 days).',
    options: { org: str, within: str },
    positionals: [0, 0],
    build: ({ values }) => {
      const org = optional(values, 'org');
      const within = optional(values, 'within');
      return {
        name: 'expiring',
        org: org === undefined ? undefined : parseOds(org),
        within: within === undefined ? 7 : parseWholeNumber(within, 'days', 0, 3650),
      };
    },
  },
  {
    name: 'audit',
    usage: 'audit [ADDRESS]',
    summary: 'Every change to an account, oldest first (your own by default).',
    options: {},
    positionals: [0, 1],
    build: ({ positionals }) => ({
      name: 'audit',
      address: positionals[0] === undefined ? undefined : parseAddress(positionals[0]),
    }),
  },
  {
    name: 'export audit',
    usage: 'export audit --from YYYY-MM-DD --to YYYY-MM-DD [--out FILE]',
    summary:
      'Every audit entry of those days (London time, --to included), oldest first, as CSV: evidence for the DSPT (operator only).',
    operatorOnly: true,
    options: { from: str, to: str, out: str },
    positionals: [0, 0],
    build({ values }) {
      const from = parseDate(required(values, 'from', this.usage), '--from date', BOT_YEARS);
      const to = parseDate(required(values, 'to', this.usage), '--to date', BOT_YEARS);
      if (from > to) {
        throw invalid(
          'INVALID_RANGE',
          `--from ${from} is after --to ${to}. Give the first day, then the last (both are included).`,
        );
      }
      const out = optional(values, 'out');
      if (out !== undefined && out.trim() === '') {
        throw invalid('MISSING_OPTION', `--out needs a file name. Usage: ${this.usage}`);
      }
      return { name: 'export audit', from, to, out };
    },
  },
  {
    name: 'site register',
    usage:
      'site register --ods ODS --kind pharmacy|dental|care-home --name NAME --dspt STATUS --owner-given G --owner-family F [--owner-mobile M] [--owner-dob YYYY-MM-DD] [--owner-reg BODY:NUMBER] [--owner-delivery sms|envelope] [--owner-override-duplicate REASON]',
    summary: 'NAS: register a community site, its shared mailbox and its owner.',
    options: {
      ods: str,
      kind: str,
      name: str,
      dspt: str,
      'owner-given': str,
      'owner-family': str,
      'owner-mobile': str,
      'owner-dob': str,
      'owner-reg': str,
      'owner-delivery': str,
      'owner-override-duplicate': str,
    },
    positionals: [0, 0],
    build({ values, now }) {
      return {
        name: 'site register',
        ods: parseOds(required(values, 'ods', this.usage)),
        kind: parseOrgKind(required(values, 'kind', this.usage), SITE_KINDS) as SiteKind,
        siteName: parseOrgName(required(values, 'name', this.usage)),
        dspt: parseDspt(required(values, 'dspt', this.usage)),
        owner: person(values, now, this.usage, 'owner-'),
      };
    },
  },
  {
    name: 'site request-account',
    usage:
      'site request-account --site ODS --given G --family F [--mobile M] [--dob YYYY-MM-DD] [--reg BODY:NUMBER] [--delivery sms|envelope] [--override-duplicate REASON]',
    summary: 'Site owner: request an account for a member of staff (at most 10 per site).',
    options: { ...personOptions, site: str },
    positionals: [0, 0],
    build({ values, now }) {
      return {
        name: 'site request-account',
        site: parseOds(required(values, 'site', this.usage)),
        person: person(values, now, this.usage),
      };
    },
  },
  {
    name: 'site show',
    usage: 'site show ODS',
    summary: 'A site’s DSPT status, owner, and accounts used of its limit.',
    options: {},
    positionals: [1, 1],
    build: ({ positionals }) => ({ name: 'site show', ods: parseOds(at(positionals, 0)) }),
  },
  {
    name: 'sweep',
    usage: 'sweep [--dry-run]',
    summary:
      'Apply the clocks now: grace, inactivity, retention, restore; queue due warnings (operator only).',
    operatorOnly: true,
    options: { 'dry-run': bool },
    positionals: [0, 0],
    build: ({ values }) => ({ name: 'sweep', dryRun: values['dry-run'] === true }),
  },
  {
    name: 'reminders',
    usage: 'reminders [--dry-run]',
    summary:
      'Remind holders of accounts still pending first login, and list them to their organisations (operator only).',
    operatorOnly: true,
    options: { 'dry-run': bool },
    positionals: [0, 0],
    build: ({ values }) => ({ name: 'reminders', dryRun: values['dry-run'] === true }),
  },
  {
    name: 'import activity',
    usage: 'import activity FILE.csv',
    summary:
      'Record logins and sent mail from NHSmail’s weekly mailbox report; list what disagrees (operator only).',
    operatorOnly: true,
    options: {},
    positionals: [1, 1],
    build: ({ positionals }) => ({ name: 'import activity', file: at(positionals, 0) }),
  },
  {
    name: 'import starters',
    usage: 'import starters FILE.csv [--dry-run]',
    summary:
      'Provision new starters from the HR extract (or schedule them before their start date); report every row (command line).',
    operatorOnly: true,
    options: { 'dry-run': bool },
    positionals: [1, 1],
    build: ({ values, positionals }) => ({
      name: 'import starters',
      file: at(positionals, 0),
      dryRun: values['dry-run'] === true,
    }),
  },
  {
    name: 'import leavers',
    usage: 'import leavers FILE.csv [--dry-run]',
    summary:
      'Mark leavers from the HR extract, now or on their leaving date; report every row (command line).',
    operatorOnly: true,
    options: { 'dry-run': bool },
    positionals: [1, 1],
    build: ({ values, positionals }) => ({
      name: 'import leavers',
      file: at(positionals, 0),
      dryRun: values['dry-run'] === true,
    }),
  },
  {
    name: 'import orgs',
    usage: `import orgs FILE.csv [--kind ${ORG_KINDS.join('|')}] [--dry-run]`,
    summary:
      'Add organisations from an NHS ODS extract (etr.csv, epraccur.csv…) and update their names; closed ones are reported, nothing is deleted (operator only).',
    operatorOnly: true,
    options: { kind: str, 'dry-run': bool },
    positionals: [1, 1],
    build({ values, positionals }) {
      const file = at(positionals, 0);
      const kind = optional(values, 'kind');
      const byName = ODS_FILE_KINDS[(file.split(/[\\/]/).pop() ?? '').toLowerCase().replace(/\.csv$/, '')];
      if (kind === undefined && byName === undefined) {
        throw invalid(
          'MISSING_OPTION',
          `--kind is required: an ODS file does not say what kind of organisation it lists (only ${Object.keys(
            ODS_FILE_KINDS,
          )
            .map((n) => `${n}.csv`)
            .join(', ')} are known by name). Usage: ${this.usage}`,
        );
      }
      return {
        name: 'import orgs',
        file,
        kind: kind === undefined ? (byName as OrgKind) : parseOrgKind(kind),
        dryRun: values['dry-run'] === true,
      };
    },
  },
  {
    name: 'notifications failed',
    usage: 'notifications failed',
    summary: 'Notifications that could not be delivered after their retries (operator only).',
    operatorOnly: true,
    options: {},
    positionals: [0, 0],
    build: () => ({ name: 'notifications failed' }),
  },
  {
    name: 'notifications retry',
    usage: 'notifications retry ID|--all',
    summary:
      'Put a parked notification (its number in "notifications failed"), or all of them, back in the delivery queue (operator only).',
    operatorOnly: true,
    options: { all: bool },
    positionals: [0, 1],
    build({ values, positionals }) {
      const all = values.all === true;
      const id = positionals[0];
      if (all === (id !== undefined)) {
        throw invalid('MISSING_ARGUMENT', `Name one notification or give --all. Usage: ${this.usage}`);
      }
      return { name: 'notifications retry', id: id === undefined ? undefined : parseNotificationId(id), all };
    },
  },
  {
    name: 'link',
    usage: 'link @USER ADDRESS',
    summary:
      'Vouch that a chat user is the holder of an @nhs.net address. Local admins link only their organisation’s addresses holding no role beyond their own (never nas-admin), and change only links they could have made; NAS links anyone.',
    options: {},
    positionals: [2, 2],
    build: ({ positionals }) => ({
      name: 'link',
      user: at(positionals, 0),
      address: parseAddress(at(positionals, 1)),
    }),
  },
  {
    name: 'subscribe',
    usage: 'subscribe --org ODS',
    summary: 'Send an organisation’s alerts to this channel (its managers and local admins).',
    options: { org: str },
    positionals: [0, 0],
    build({ values }) {
      return { name: 'subscribe', org: parseOds(required(values, 'org', this.usage)) };
    },
  },
  {
    name: 'unsubscribe',
    usage: 'unsubscribe --org ODS',
    summary: 'Stop sending an organisation’s alerts to this channel.',
    options: { org: str },
    positionals: [0, 0],
    build({ values }) {
      return { name: 'unsubscribe', org: parseOds(required(values, 'org', this.usage)) };
    },
  },
  {
    name: 'subscriptions',
    usage: 'subscriptions [--org ODS]',
    summary: 'Which organisations’ alerts come to this channel (or, with --org, which channels get them).',
    options: { org: str },
    positionals: [0, 0],
    build: ({ values }) => {
      const org = optional(values, 'org');
      return { name: 'subscriptions', org: org === undefined ? undefined : parseOds(org) };
    },
  },
];

function roleCommand(name: 'grant' | 'revoke', values: Values, positionals: string[]): Command {
  const org = optional(values, 'org');
  return {
    name,
    address: parseAddress(at(positionals, 0)),
    role: parseRole(at(positionals, 1)),
    org: org === undefined ? undefined : parseOds(org),
  };
}

/** Two-word commands ("org add", "site show") are matched before one-word ones. */
function findSpec(words: string[]): { spec: Spec; rest: string[] } | null {
  const two = `${words[0] ?? ''} ${words[1] ?? ''}`.toLowerCase();
  const byTwo = SPECS.find((s) => s.name === two);
  if (byTwo) return { spec: byTwo, rest: words.slice(2) };
  const byOne = SPECS.find((s) => s.name === (words[0] ?? '').toLowerCase());
  return byOne ? { spec: byOne, rest: words.slice(1) } : null;
}

export function specFor(name: string): Spec | undefined {
  return findSpec(name.split(/\s+/))?.spec;
}

/**
 * Turns the words of a command into a Command, or throws an `invalid` DomainError that says
 * what was wrong and shows the usage. `now` is needed to judge dates of birth.
 */
export function parseCommand(words: string[], now: Date): Command {
  if (words.length === 0) {
    throw invalid('EMPTY_COMMAND', 'No command given. Type "help" to see what the bot can do.');
  }
  const found = findSpec(words);
  if (!found) throw unknownCommand(words);
  const { spec, rest } = found;
  let parsed: ReturnType<typeof parseArgs<{ options: Options; tokens: true; allowPositionals: true }>>;
  try {
    parsed = parseArgs({
      args: rest,
      options: spec.options,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (e) {
    throw invalid('BAD_OPTION', `${optionProblem(e)} Usage: ${spec.usage}`);
  }
  // parseArgs keeps the last of a repeated option: `--org RXX --org RYY` would quietly act on RYY.
  const given = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    if (given.has(token.name)) throw invalid('BAD_OPTION', `--${token.name} was given twice: give it once.`);
    given.add(token.name);
  }
  const [min, max] = spec.positionals;
  if (parsed.positionals.length < min) {
    throw invalid('MISSING_ARGUMENT', `Something is missing. Usage: ${spec.usage}`);
  }
  if (parsed.positionals.length > max) {
    const extra = parsed.positionals.slice(max).join(' ');
    throw invalid('TOO_MANY_WORDS', `${quote(extra)} was not expected. Usage: ${spec.usage}`);
  }
  return spec.build({ values: parsed.values as Values, positionals: parsed.positionals, now });
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

function unknownCommand(words: string[]): Error {
  const typed = words.slice(0, 2).join(' ').toLowerCase();
  const first = (words[0] ?? '').toLowerCase();
  const best = SPECS.map((s) => ({
    name: s.name,
    score: Math.max(jaroWinkler(first, s.name), jaroWinkler(typed, s.name)),
  })).sort((a, b) => b.score - a.score)[0];
  const hint = best && best.score > 0.8 ? ` Did you mean "${best.name}"?` : '';
  return invalid(
    'UNKNOWN_COMMAND',
    `${quote(words[0] ?? '')} is not a command.${hint} Type "help" to see the commands.`,
  );
}

/** The grammar as help text; chat adapters hide operator-only commands. */
export function helpText(options: { includeOperator: boolean; topic?: string | undefined }): string {
  if (options.topic) {
    const spec = specFor(options.topic);
    if (!spec) throw unknownCommand(options.topic.split(/\s+/));
    if (spec.operatorOnly && !options.includeOperator) {
      return `${spec.name} is for operators only, on the bot's command line. Type "help" for the commands you can use here.`;
    }
    return `${spec.usage}\n  ${spec.summary}`;
  }
  const lines = SPECS.filter((s) => options.includeOperator || !s.operatorOnly).map(
    (s) => `  ${s.usage}\n      ${s.summary}`,
  );
  return ['Commands:', ...lines].join('\n');
}
