import { describe, expect, it } from 'vitest';
import {
  type Command,
  helpText,
  parseCommand,
  COMMANDS as SPECS,
  specFor,
} from '../../src/commands/grammar.js';
import { tokenize } from '../../src/commands/tokenize.js';
import { domainError, expectInvalid } from '../domain/expect-error.js';

const NOW = new Date('2026-11-23T12:00:00Z');
const parse = (text: string): Command => parseCommand(tokenize(text), NOW);

describe('tokenize', () => {
  it('splits on any run of white space', () => {
    expect(tokenize('  leaver \t jane.doe@nhs.net\n')).toEqual(['leaver', 'jane.doe@nhs.net']);
    expect(tokenize('')).toEqual([]);
    expect(tokenize('   ')).toEqual([]);
  });

  it('groups words in double quotes, keeping an apostrophe inside', () => {
    expect(tokenize(`org add --name "St Mary's Pharmacy" --kind pharmacy`)).toEqual([
      'org',
      'add',
      '--name',
      "St Mary's Pharmacy",
      '--kind',
      'pharmacy',
    ]);
  });

  it('groups words in single quotes', () => {
    expect(tokenize(`--name 'St Marys Pharmacy' x`)).toEqual(['--name', 'St Marys Pharmacy', 'x']);
  });

  it('groups words in the curly quotes chat clients substitute', () => {
    expect(tokenize('--name “St Mary’s Pharmacy” --kind pharmacy')).toEqual([
      '--name',
      'St Mary’s Pharmacy',
      '--kind',
      'pharmacy',
    ]);
    expect(tokenize('--name ‘Royal X’')).toEqual(['--name', 'Royal X']);
  });

  it("keeps an apostrophe inside a word: O'Brien is one word", () => {
    expect(tokenize("provision --given Sean --family O'Brien --org RXX")).toEqual([
      'provision',
      '--given',
      'Sean',
      '--family',
      "O'Brien",
      '--org',
      'RXX',
    ]);
    expect(tokenize('--family O’Brien')).toEqual(['--family', 'O’Brien']);
  });

  it('joins a quoted part to the word it is attached to', () => {
    expect(tokenize('--name="St Mary" next')).toEqual(['--name=St Mary', 'next']);
  });

  it('keeps an empty quoted word', () => {
    expect(tokenize('a "" b')).toEqual(['a', '', 'b']);
  });

  it.each([
    ['org add --name "St Mary', '"'],
    ["org add --name 'St Mary", "'"],
    ['org add --name “St Mary', '”'],
  ])('refuses the unclosed quote in %j and names the closing quote', (text, closing) => {
    const error = expectInvalid(() => tokenize(text), 'UNCLOSED_QUOTE', /not closed/);
    expect(error.message).toContain(`closing ${closing}`);
  });
});

const MOBILE = { e164: '+447700900123', masked: '07*** ***123' };

/** One example of every command, typed as a person would, and the Command it must become. */
const EXAMPLES: Array<[string, Command]> = [
  ['help', { name: 'help', topic: undefined }],
  ['help site show', { name: 'help', topic: 'site show' }],
  ['contact', { name: 'contact', category: undefined }],
  ['contact GP-Locum', { name: 'contact', category: 'gp-locum' }],
  [
    'org add --ods fa123 --name “St Mary’s Pharmacy” --kind Pharmacy --dspt "Standards Met"',
    { name: 'org add', ods: 'FA123', orgName: 'St Mary’s Pharmacy', kind: 'pharmacy', dspt: 'standards-met' },
  ],
  [
    'org add --ods RXX --name "Royal X NHS Trust" --kind trust',
    { name: 'org add', ods: 'RXX', orgName: 'Royal X NHS Trust', kind: 'trust', dspt: undefined },
  ],
  [
    'org dspt --ods VM1AB --dspt approaching-standards',
    { name: 'org dspt', ods: 'VM1AB', dspt: 'approaching-standards' },
  ],
  [
    'org group --ods rxx --group 0B1C2D3E-4F50-6172-8394-A5B6C7D8E9F0',
    { name: 'org group', ods: 'RXX', group: '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0' },
  ],
  [
    'grant Mgr@nhs.net manager --org rxx',
    { name: 'grant', address: 'mgr@nhs.net', role: 'manager', org: 'RXX' },
  ],
  [
    'grant nas@nhs.net NAS-Admin',
    { name: 'grant', address: 'nas@nhs.net', role: 'nas-admin', org: undefined },
  ],
  [
    'revoke la@nhs.net local-admin --org RXX',
    { name: 'revoke', address: 'la@nhs.net', role: 'local-admin', org: 'RXX' },
  ],
  [
    'provision --given Jane --family Doe --org rxx --mobile "07700 900123" --dob 1985-04-23 --reg gmc:1234567 --delivery SMS',
    {
      name: 'provision',
      org: 'RXX',
      person: {
        given: 'Jane',
        family: 'Doe',
        mobile: MOBILE,
        dob: '1985-04-23',
        reg: { body: 'GMC', number: '1234567' },
        delivery: 'sms',
        overrideDuplicate: undefined,
      },
    },
  ],
  [
    "provision --given Seán --family O'Brien --org RXX --delivery envelope --override-duplicate '  Twin sister, confirmed by HR  '",
    {
      name: 'provision',
      org: 'RXX',
      person: {
        given: 'Seán',
        family: "O'Brien",
        mobile: undefined,
        dob: undefined,
        reg: undefined,
        delivery: 'envelope',
        overrideDuplicate: 'Twin sister, confirmed by HR',
      },
    },
  ],
  ['first-login jane.doe@nhs.net', { name: 'first-login', address: 'jane.doe@nhs.net', mfa: false }],
  ['first-login jane.doe@nhs.net --mfa', { name: 'first-login', address: 'jane.doe@nhs.net', mfa: true }],
  ['leaver Jane.Doe@NHS.net', { name: 'leaver', address: 'jane.doe@nhs.net', gpLocum: false }],
  ['leaver jane.doe@nhs.net --gp-locum', { name: 'leaver', address: 'jane.doe@nhs.net', gpLocum: true }],
  ['leaver --gp-locum jane.doe@nhs.net', { name: 'leaver', address: 'jane.doe@nhs.net', gpLocum: true }],
  ['joiner jane.doe@nhs.net --org ryy', { name: 'joiner', address: 'jane.doe@nhs.net', org: 'RYY' }],
  ['transfer --to RXX', { name: 'transfer', address: undefined, to: 'RXX' }],
  ['transfer to rxx', { name: 'transfer', address: undefined, to: 'RXX' }],
  ['transfer jane.doe@nhs.net to RXX', { name: 'transfer', address: 'jane.doe@nhs.net', to: 'RXX' }],
  ['transfer jane.doe@nhs.net --to RXX', { name: 'transfer', address: 'jane.doe@nhs.net', to: 'RXX' }],
  ['transfer jane.doe@nhs.net TO RXX', { name: 'transfer', address: 'jane.doe@nhs.net', to: 'RXX' }],
  ['activity jane.doe@nhs.net', { name: 'activity', address: 'jane.doe@nhs.net', at: undefined }],
  [
    'activity jane.doe@nhs.net --at 2026-11-20T09:30:00+01:00',
    { name: 'activity', address: 'jane.doe@nhs.net', at: new Date('2026-11-20T08:30:00Z') },
  ],
  ['reactivate jane.doe@nhs.net', { name: 'reactivate', address: 'jane.doe@nhs.net' }],
  [
    'disable jane.doe@nhs.net --reason "maternity leave" --until 2027-09-01',
    {
      name: 'disable',
      address: 'jane.doe@nhs.net',
      reason: 'maternity leave',
      until: new Date('2027-09-01T00:00:00Z'),
    },
  ],
  [
    'disable jane.doe@nhs.net --reason sickness',
    { name: 'disable', address: 'jane.doe@nhs.net', reason: 'sickness', until: null },
  ],
  ['enable jane.doe@nhs.net', { name: 'enable', address: 'jane.doe@nhs.net' }],
  ['status', { name: 'status', address: undefined }],
  ['status jane.doe@nhs.net', { name: 'status', address: 'jane.doe@nhs.net' }],
  ['expiring', { name: 'expiring', org: undefined, within: 7 }],
  ['expiring --org rxx --within 14', { name: 'expiring', org: 'RXX', within: 14 }],
  ['expiring --within 0', { name: 'expiring', org: undefined, within: 0 }],
  ['audit', { name: 'audit', address: undefined }],
  ['audit jane.doe@nhs.net', { name: 'audit', address: 'jane.doe@nhs.net' }],
  [
    'export audit --from 2026-04-01 --to 2026-06-30',
    { name: 'export audit', from: '2026-04-01', to: '2026-06-30', out: undefined },
  ],
  [
    'Export Audit --from=2026-04-01 --to=2026-04-01 --out "DSPT evidence/q1.csv"',
    { name: 'export audit', from: '2026-04-01', to: '2026-04-01', out: 'DSPT evidence/q1.csv' },
  ],
  [
    'site register --ods fa123 --kind pharmacy --name “St Mary’s Pharmacy” --dspt standards-met --owner-given Amir --owner-family Khan --owner-mobile +447700900123 --owner-reg GPhC:2012345 --owner-dob 1980-01-31 --owner-delivery sms',
    {
      name: 'site register',
      ods: 'FA123',
      kind: 'pharmacy',
      siteName: 'St Mary’s Pharmacy',
      dspt: 'standards-met',
      cqcLocation: null,
      owner: {
        given: 'Amir',
        family: 'Khan',
        mobile: MOBILE,
        dob: '1980-01-31',
        reg: { body: 'GPHC', number: '2012345' },
        delivery: 'sms',
        overrideDuplicate: undefined,
      },
    },
  ],
  [
    'site register --ods VN4J1 --kind Care-Home --name "Rose Care Home" --dspt "Approaching Standards" --cqc-location " 1-101661355 " --owner-given Rita --owner-family Rowe',
    {
      name: 'site register',
      ods: 'VN4J1',
      kind: 'care-home',
      siteName: 'Rose Care Home',
      dspt: 'approaching-standards',
      cqcLocation: '1-101661355',
      owner: {
        given: 'Rita',
        family: 'Rowe',
        mobile: undefined,
        dob: undefined,
        reg: undefined,
        delivery: undefined,
        overrideDuplicate: undefined,
      },
    },
  ],
  [
    'site request-account --site FA123 --given Priya --family Patel --reg NMC:12A3456E',
    {
      name: 'site request-account',
      site: 'FA123',
      person: {
        given: 'Priya',
        family: 'Patel',
        mobile: undefined,
        dob: undefined,
        reg: { body: 'NMC', number: '12A3456E' },
        delivery: undefined,
        overrideDuplicate: undefined,
      },
    },
  ],
  ['site show fa123', { name: 'site show', ods: 'FA123' }],
  ['site mailbox-done fa123', { name: 'site mailbox-done', ods: 'FA123' }],
  ['sweep', { name: 'sweep', dryRun: false }],
  ['sweep --dry-run', { name: 'sweep', dryRun: true }],
  ['reminders', { name: 'reminders', dryRun: false }],
  ['import starters hr/starters.csv', { name: 'import starters', file: 'hr/starters.csv', dryRun: false }],
  ['import leavers leavers.csv --dry-run', { name: 'import leavers', file: 'leavers.csv', dryRun: true }],
  ['reminders --dry-run', { name: 'reminders', dryRun: true }],
  ['remind jane.doe@nhs.net', { name: 'remind', address: 'jane.doe@nhs.net' }],
  [
    'link <@U012AB3CD|jo> Jo.Bloggs@nhs.net',
    { name: 'link', user: '<@U012AB3CD|jo>', address: 'jo.bloggs@nhs.net' },
  ],
  ['subscribe --org rxx', { name: 'subscribe', org: 'RXX' }],
  ['import activity report.csv', { name: 'import activity', file: 'report.csv' }],
  [
    'import orgs downloads/etr.csv',
    { name: 'import orgs', file: 'downloads/etr.csv', kind: 'trust', dryRun: false },
  ],
  [
    'import orgs EPRACCUR.CSV --dry-run',
    { name: 'import orgs', file: 'EPRACCUR.CSV', kind: 'gp-practice', dryRun: true },
  ],
  [
    'import orgs edispensary.csv',
    { name: 'import orgs', file: 'edispensary.csv', kind: 'pharmacy', dryRun: false },
  ],
  ['import orgs egdpprac.csv', { name: 'import orgs', file: 'egdpprac.csv', kind: 'dental', dryRun: false }],
  [
    'import orgs homes-2026.csv --kind Care-Home',
    { name: 'import orgs', file: 'homes-2026.csv', kind: 'care-home', dryRun: false },
  ],
  ['import orgs etr.csv --kind icb', { name: 'import orgs', file: 'etr.csv', kind: 'icb', dryRun: false }],
  ['notifications failed', { name: 'notifications failed' }],
  ['notifications retry 42', { name: 'notifications retry', id: 42, all: false }],
  ['notifications retry #42', { name: 'notifications retry', id: 42, all: false }],
  ['notifications retry --all', { name: 'notifications retry', id: undefined, all: true }],
  ['directory failed', { name: 'directory failed' }],
  ['directory retry 7', { name: 'directory retry', id: 7, all: false }],
  ['directory retry #7', { name: 'directory retry', id: 7, all: false }],
  ['directory retry --all', { name: 'directory retry', id: undefined, all: true }],
  ['directory retry 7 --adopt', { name: 'directory retry', id: 7, all: false, adopt: true }],
  ['directory import', { name: 'directory import', org: undefined, dryRun: false }],
  ['directory import --org rxx --dry-run', { name: 'directory import', org: 'RXX', dryRun: true }],
  ['directory drift', { name: 'directory drift', org: undefined }],
  ['directory drift --org rxx', { name: 'directory drift', org: 'RXX' }],
  ['directory reapply Jane.Doe@NHS.net', { name: 'directory reapply', address: 'jane.doe@nhs.net' }],
  ['unsubscribe --org RXX', { name: 'unsubscribe', org: 'RXX' }],
  ['subscriptions', { name: 'subscriptions', org: undefined }],
  ['subscriptions --org RXX', { name: 'subscriptions', org: 'RXX' }],
];

describe('parseCommand', () => {
  it.each(EXAMPLES)('%s', (text, expected) => {
    expect(parse(text)).toStrictEqual(expected);
  });

  it('has an example above for every command of the grammar', () => {
    const covered = new Set(EXAMPLES.map(([, command]) => command.name));
    expect([...covered].sort()).toEqual(SPECS.map((s) => s.name).sort());
  });

  it('reads command names in any case', () => {
    expect(parse('LEAVER jane.doe@nhs.net')).toStrictEqual({
      name: 'leaver',
      address: 'jane.doe@nhs.net',
      gpLocum: false,
    });
    expect(parse('Site Show FA123')).toStrictEqual({ name: 'site show', ods: 'FA123' });
  });

  it('finds a spec by its one- or two-word name', () => {
    expect(specFor('site show')?.name).toBe('site show');
    expect(specFor('leaver')?.name).toBe('leaver');
    expect(specFor('site')).toBeUndefined();
  });
});

describe('parseCommand errors', () => {
  it('refuses an empty command and points to help', () => {
    expectInvalid(() => parseCommand([], NOW), 'EMPTY_COMMAND', /Type "help"/);
  });

  it('refuses an unknown command and suggests the nearest one', () => {
    expectInvalid(
      () => parse('levaer jane.doe@nhs.net'),
      'UNKNOWN_COMMAND',
      /"levaer" is not a command\. Did you mean "leaver"\?/,
    );
    expectInvalid(() => parse('sit show FA123'), 'UNKNOWN_COMMAND', /Did you mean "site show"\?/);
  });

  it('offers no guess when nothing is close', () => {
    const error = expectInvalid(
      () => parse('frobnicate'),
      'UNKNOWN_COMMAND',
      /Type "help" to see the commands/,
    );
    expect(error.message).not.toMatch(/Did you mean/);
  });

  it('refuses an option the command does not have, with the usage', () => {
    expectInvalid(
      () => parse('leaver jane.doe@nhs.net --force'),
      'BAD_OPTION',
      /--force is not an option of this command\. Usage: leaver ADDRESS/,
    );
  });

  it.each(['--as nas@nhs.net', '--now 2026-12-01', '--json'])(
    'explains that %s is only for operators on the command line',
    (flag) => {
      expectInvalid(
        () => parse(`leaver jane.doe@nhs.net ${flag}`),
        'BAD_OPTION',
        /is only for operators on the command line/,
      );
    },
  );

  it('refuses an option given without its value', () => {
    expectInvalid(
      () => parse('joiner jane.doe@nhs.net --org'),
      'BAD_OPTION',
      /missing its value.*Usage: joiner/,
    );
  });

  it('refuses an option given twice rather than acting on the last (issue 12)', () => {
    expectInvalid(
      () => parse('subscribe --org RXX --org RYY'),
      'BAD_OPTION',
      /^--org was given twice: give it once\.$/,
    );
    // Even the same value, or written the other way (--org=…): one option, given once.
    expectInvalid(() => parse('expiring --org RXX --org=RXX'), 'BAD_OPTION', /--org was given twice/);
    expectInvalid(
      () => parse('provision --given Ann --family Lee --given Bea --org RXX'),
      'BAD_OPTION',
      /--given was given twice/,
    );
    expectInvalid(() => parse('sweep --dry-run --dry-run'), 'BAD_OPTION', /--dry-run was given twice/);
    expectInvalid(
      () => parse('transfer jane.doe@nhs.net --to RXX --to RYY'),
      'BAD_OPTION',
      /--to was given twice/,
    );
    // Every option of every command: none may be repeated.
    for (const spec of SPECS) {
      for (const [name, option] of Object.entries(spec.options)) {
        const words = [...spec.name.split(' '), `--${name}`, ...(option.type === 'string' ? ['x'] : [])];
        expectInvalid(
          () => parseCommand([...words, ...words.slice(spec.name.split(' ').length)], NOW),
          'BAD_OPTION',
          new RegExp(`^--${name} was given twice`),
        );
      }
    }
  });

  it('refuses a value given to a yes/no option', () => {
    expectInvalid(() => parse('first-login jane.doe@nhs.net --mfa=yes'), 'BAD_OPTION', /yes\/no option/);
  });

  it('names a missing required option and shows the usage', () => {
    expectInvalid(
      () => parse('joiner jane.doe@nhs.net'),
      'MISSING_OPTION',
      /--org is required\. Usage: joiner ADDRESS --org ODS/,
    );
    expectInvalid(
      () => parse('provision --given Jane --family Doe'),
      'MISSING_OPTION',
      /--org is required\. Usage: provision/,
    );
    expectInvalid(() => parse('provision --org RXX --family Doe'), 'MISSING_OPTION', /--given is required/);
    expectInvalid(
      () => parse('provision --org RXX --given Jane --family "  "'),
      'MISSING_OPTION',
      /--family is required/,
    );
    expectInvalid(
      () =>
        parse('site register --ods FA123 --kind pharmacy --name X --dspt standards-met --owner-given Amir'),
      'MISSING_OPTION',
      /--owner-family is required\. Usage: site register/,
    );
  });

  it('asks org group for both the organisation and the group, with the usage', () => {
    const usage = /Usage: org group --ods ODS --group OBJECT_ID$/;
    expectInvalid(() => parse('org group --ods RXX'), 'MISSING_OPTION', /--group is required/);
    expectInvalid(() => parse('org group --ods RXX'), 'MISSING_OPTION', usage);
    expectInvalid(
      () => parse('org group --group 0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0'),
      'MISSING_OPTION',
      /--ods is required/,
    );
    expectInvalid(() => parse('org group --ods RXX --group "Northtown staff"'), 'INVALID_GROUP', /object id/);
  });

  it('asks where to when a transfer names no destination', () => {
    expectInvalid(() => parse('transfer'), 'MISSING_OPTION', /Say where to: transfer \[ADDRESS\] --to ODS/);
    expectInvalid(() => parse('transfer jane.doe@nhs.net'), 'MISSING_OPTION', /Say where to/);
  });

  it('refuses a missing positional argument with the usage', () => {
    expectInvalid(() => parse('leaver'), 'MISSING_ARGUMENT', /Usage: leaver ADDRESS/);
    expectInvalid(() => parse('grant mgr@nhs.net'), 'MISSING_ARGUMENT', /Usage: grant ADDRESS/);
  });

  it('refuses extra words and quotes them back', () => {
    expectInvalid(
      () => parse('leaver jane.doe@nhs.net john.doe@nhs.net'),
      'TOO_MANY_WORDS',
      /"john\.doe@nhs\.net" was not expected\. Usage: leaver ADDRESS/,
    );
    expectInvalid(() => parse('sweep now'), 'TOO_MANY_WORDS', /"now" was not expected/);
    expectInvalid(() => parse('transfer a@nhs.net b@nhs.net to RXX'), 'TOO_MANY_WORDS', /Usage: transfer/);
    expectInvalid(() => parse('transfer a@nhs.net to RXX now'), 'TOO_MANY_WORDS', /Usage: transfer/);
  });

  it('refuses an override without a reason an auditor can follow', () => {
    const base = 'provision --given Jane --family Doe --org RXX --override-duplicate';
    expectInvalid(() => parse(`${base} "too short"`), 'REASON_REQUIRED', /at least 10 characters/);
    expectInvalid(() => parse(`${base} "   short     "`), 'REASON_REQUIRED', /at least 10 characters/);
    expectInvalid(
      () =>
        parse(
          'site register --ods FA123 --kind pharmacy --name X --dspt standards-met --owner-given A --owner-family B --owner-override-duplicate dup',
        ),
      'REASON_REQUIRED',
      /reason/,
    );
    const ok = parse(`${base} "ten chars!"`);
    expect(ok.name === 'provision' && ok.person.overrideDuplicate).toBe('ten chars!');
  });

  it('passes on the validation errors of the values', () => {
    expectInvalid(() => parse('leaver jane@gmail.com'), 'NOT_NHS_NET', /@nhs\.net/);
    expectInvalid(() => parse('joiner jane.doe@nhs.net --org R-X'), 'INVALID_ODS', /ODS/);
    expectInvalid(
      () => parse('grant x@nhs.net superuser --org RXX'),
      'INVALID_ROLE',
      /nas-admin, local-admin, site-owner, manager/,
    );
    expectInvalid(() => parse('contact spaceship'), 'INVALID_CATEGORY', /gp-locum/);
    expectInvalid(
      () => parse('provision --given Jane --family Doe --org RXX --delivery pigeon'),
      'INVALID_DELIVERY',
      /--delivery sms or --delivery envelope/,
    );
    expectInvalid(
      () => parse('provision --given Jane --family Doe --org RXX --dob 2020-01-01'),
      'INVALID_DATE',
      /age 16 to 100/,
    );
    expectInvalid(() => parse('provision --given J4ne --family Doe --org RXX'), 'INVALID_NAME', /given name/);
    expectInvalid(() => parse('expiring --within lots'), 'INVALID_NUMBER', /whole number of days/);
    expectInvalid(() => parse('activity jane.doe@nhs.net --at 2026-11-20T09:30'), 'INVALID_TIME', /offset/);
    expectInvalid(
      () =>
        parse(
          'site register --ods RXX --kind trust --name X --dspt standards-met --owner-given A --owner-family B',
        ),
      'INVALID_KIND',
      /pharmacy, dental, care-home/,
    );
  });

  it('asks a care home for its CQC location ID in CQC’s format, and no other site for one', () => {
    const home =
      'site register --ods VN4J1 --kind care-home --name "Rose Care Home" --dspt approaching-standards --owner-given R --owner-family Rowe';
    expectInvalid(
      () => parse(home),
      'CQC_LOCATION_REQUIRED',
      /--cqc-location.*"1-" then digits.*1-101661355/,
    );
    expectInvalid(() => parse(`${home} --cqc-location " "`), 'CQC_LOCATION_REQUIRED', /--cqc-location/);
    for (const bad of ['101661355', '1-', '2-101661355', '1-10166135X', 'RXX', `1-${'1'.repeat(16)}`]) {
      expectInvalid(
        () => parse(`${home} --cqc-location ${bad}`),
        'INVALID_CQC_LOCATION',
        /not a CQC location ID\. Write it as "1-" then digits/,
      );
    }
    const longest = parse(`${home} --cqc-location 1-${'9'.repeat(15)}`);
    expect(longest.name === 'site register' && longest.cqcLocation).toBe(`1-${'9'.repeat(15)}`);
    for (const kind of ['pharmacy', 'dental']) {
      expectInvalid(
        () =>
          parse(
            `site register --ods FA123 --kind ${kind} --name X --dspt standards-met --cqc-location 1-101661355 --owner-given A --owner-family B`,
          ),
        'INVALID_CQC_LOCATION',
        new RegExp(`Only care homes have a CQC location ID: leave out --cqc-location for a ${kind} site`),
      );
    }
  });

  it('asks for one notification number or --all', () => {
    expectInvalid(() => parse('notifications retry'), 'MISSING_ARGUMENT', /one notification or give --all/);
    expectInvalid(
      () => parse('notifications retry 4 --all'),
      'MISSING_ARGUMENT',
      /Usage: notifications retry/,
    );
    expectInvalid(() => parse('notifications retry 0'), 'INVALID_ID', /notifications failed/);
    expectInvalid(() => parse('notifications retry slack:C0X'), 'INVALID_ID', /notification number/);
  });

  it('asks for one directory change number or --all', () => {
    expectInvalid(() => parse('directory retry'), 'MISSING_ARGUMENT', /one directory change or give --all/);
    expectInvalid(() => parse('directory retry 4 --all'), 'MISSING_ARGUMENT', /Usage: directory retry/);
    expectInvalid(() => parse('directory retry 0'), 'INVALID_ID', /directory failed/);
    expectInvalid(() => parse('directory retry jane.doe@nhs.net'), 'INVALID_ID', /directory change number/);
    expectInvalid(() => parse('directory retry --all --adopt'), 'MISSING_ARGUMENT', /one change at a time/);
    expectInvalid(
      () => parse('directory retry --adopt'),
      'MISSING_ARGUMENT',
      /one directory change or give --all/,
    );
  });

  it('reads the export range as real days, the first no later than the last', () => {
    const base = 'export audit --from 2026-04-01 --to';
    expectInvalid(
      () => parse('export audit --from 2026-02-30 --to 2026-03-01'),
      'INVALID_DATE',
      /2026-02-30 is not a real --from date/,
    );
    expectInvalid(
      () => parse(`${base} 30/06/2026`),
      'INVALID_DATE',
      /not a --to date\. Write it as YYYY-MM-DD/,
    );
    expectInvalid(
      () => parse(`${base} 2026-03-31`),
      'INVALID_RANGE',
      /--from 2026-04-01 is after --to 2026-03-31/,
    );
    expectInvalid(() => parse(`${base} 9999-12-31`), 'INVALID_DATE', /--to date from 2000 to 2999/);
    expectInvalid(() => parse(`${base.replace('2026', '1999')} 2026-04-30`), 'INVALID_DATE', /--from date/);
    expectInvalid(() => parse('export audit --from 2026-04-01'), 'MISSING_OPTION', /--to is required/);
    expectInvalid(() => parse(`${base} 2026-04-30 --out " "`), 'MISSING_OPTION', /--out needs a file name/);
    expectInvalid(() => parse(`${base} 2026-04-30 report.csv`), 'TOO_MANY_WORDS', /Usage: export audit/);
  });

  it('needs the kind of an ODS file it does not know by name', () => {
    expectInvalid(
      () => parse('import orgs ecarehome.csv'),
      'MISSING_OPTION',
      /--kind is required.*etr\.csv, epraccur\.csv/,
    );
    expectInvalid(() => parse('import orgs etr.csv --kind hospital'), 'INVALID_KIND', /trust, icb/);
    expectInvalid(() => parse('import orgs'), 'MISSING_ARGUMENT', /Usage: import orgs FILE\.csv/);
  });

  it('refuses an organisation name with neither letters nor digits', () => {
    expectInvalid(
      () => parse('org add --ods RXX --name "* * *" --kind trust'),
      'INVALID_NAME',
      /organisation name/,
    );
  });

  it('reports every error as invalid input, never as a refusal', () => {
    for (const text of ['', 'levaer', 'leaver', 'leaver a@nhs.net --force', 'joiner a@nhs.net']) {
      expect(domainError(() => parse(text)).kind).toBe('invalid');
    }
  });
});

describe('helpText', () => {
  const usageLines = (text: string) =>
    text
      .split('\n')
      .filter((line) => /^ {2}\S/.test(line))
      .map((line) => line.trim());

  it('hides operator-only commands from chat', () => {
    const lines = usageLines(helpText({ includeOperator: false }));
    expect(lines.some((l) => l.startsWith('org add'))).toBe(false);
    expect(lines.some((l) => l.startsWith('sweep'))).toBe(false);
    expect(lines.some((l) => l.startsWith('import activity'))).toBe(false);
    expect(lines.some((l) => l.startsWith('reminders'))).toBe(false);
    expect(lines).toContain('remind ADDRESS');
    expect(lines).toContain('leaver ADDRESS [--gp-locum]');
    expect(lines).toContain('transfer [ADDRESS] --to ODS');
    expect(lines.some((l) => l.startsWith('import starters'))).toBe(false);
    expect(lines.some((l) => l.startsWith('notifications retry'))).toBe(false);
    expect(lines.some((l) => l.startsWith('directory failed'))).toBe(false);
    expect(lines.some((l) => l.startsWith('directory import'))).toBe(false);
    // NAS may adopt a directory account in conflict from chat; a plain retry stays the operator's.
    expect(lines).toContain('directory retry ID|--all [--adopt]');
    expect(lines.some((l) => l.startsWith('export audit'))).toBe(false);
    expect(lines.some((l) => l.startsWith('import orgs'))).toBe(false);
    expect(lines).toHaveLength(SPECS.length - 12);
  });

  it('shows every command to operators', () => {
    const lines = usageLines(helpText({ includeOperator: true }));
    expect(lines).toHaveLength(SPECS.length);
    expect(lines.some((l) => l.startsWith('org add --ods ODS'))).toBe(true);
    expect(lines).toContain('sweep [--dry-run]');
  });

  it('names every option a command takes in its usage, so help and the grammar cannot drift', () => {
    const unnamed = SPECS.flatMap((spec) =>
      Object.keys(spec.options)
        .filter((option) => !new RegExp(`--${option}\\b(?!-)`).test(spec.usage))
        .map((option) => `${spec.name}: --${option}`),
    );
    expect(unnamed).toEqual([]);
  });

  it('explains one command by name', () => {
    expect(helpText({ includeOperator: false, topic: 'joiner' })).toBe(
      'joiner ADDRESS --org ODS\n  Accept a leaver into your organisation: same address, same mailbox. An account whose first login is still due stays pending.',
    );
  });

  it('suggests a command for an unknown topic', () => {
    expectInvalid(
      () => helpText({ includeOperator: false, topic: 'levaer' }),
      'UNKNOWN_COMMAND',
      /Did you mean "leaver"/,
    );
  });
});
