import { describe, expect, it } from 'vitest';
import {
  parseAddress,
  parseCqcLocation,
  parseDate,
  parseDateOfBirth,
  parseDirectoryGroup,
  parseDspt,
  parseInstant,
  parseMobile,
  parseName,
  parseOds,
  parseOrgName,
  parseRegistration,
  parseWholeNumber,
  siteCqcLocation,
} from '../../src/domain/validation.js';
import { expectInvalid } from './expect-error.js';

const NOW = new Date('2026-11-23T12:00:00Z');

describe('parseAddress', () => {
  it('lower-cases and trims an @nhs.net address', () => {
    expect(parseAddress('  Jane.Doe@NHS.NET ')).toBe('jane.doe@nhs.net');
    expect(parseAddress('JANE.DOE@nhs.net')).toBe('jane.doe@nhs.net');
  });

  it('accepts hyphens, digits and a mailto: prefix', () => {
    expect(parseAddress('mary-jane.smith-jones2@nhs.net')).toBe('mary-jane.smith-jones2@nhs.net');
    expect(parseAddress('mailto:jane.doe@nhs.net')).toBe('jane.doe@nhs.net');
  });

  it.each(['jane@nhs.uk', 'jane@gmail.com', 'jane@evil.nhs.net', 'jane@nhs.net.evil.com'])(
    'refuses %s as not an NHSmail address',
    (input) => {
      expectInvalid(() => parseAddress(input), 'NOT_NHS_NET', /@nhs\.net address/);
    },
  );

  it.each([
    'jane',
    'jane.doe',
    '@nhs.net',
    '.jane@nhs.net',
    'jane.@nhs.net',
    'jane..doe@nhs.net',
    'jane doe@nhs.net',
    'jane@doe@nhs.net',
    'jane+tag@nhs.net',
  ])('refuses the malformed %j with INVALID_ADDRESS', (input) => {
    expectInvalid(() => parseAddress(input), 'INVALID_ADDRESS', /@nhs\.net/);
  });

  it('shows an example of a good address when there is no @ at all', () => {
    expectInvalid(() => parseAddress('jane'), 'INVALID_ADDRESS', /e\.g\. jane\.doe@nhs\.net/);
  });
});

describe('parseOds', () => {
  it.each([
    ['RXX', 'RXX'],
    ['rj1', 'RJ1'],
    [' A81001 ', 'A81001'],
    ['FA123', 'FA123'],
    ['RXX01', 'RXX01'],
    ['V00123', 'V00123'],
  ])('accepts %j as %s', (input, expected) => {
    expect(parseOds(input)).toBe(expected);
  });

  it.each(['R-X', 'AB', '1234567', '123', 'ABCDEFG', '', 'R X'])('refuses %j', (input) => {
    expectInvalid(() => parseOds(input), 'INVALID_ODS', /3 to 6 letters and digits.*such as RXX/);
  });
});

describe('parseDirectoryGroup', () => {
  it.each([
    ['0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0', '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0'],
    [' 0B1C2D3E-4F50-6172-8394-A5B6C7D8E9F0 ', '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0'],
  ])('accepts the object id %j, stored as %s', (input, expected) => {
    expect(parseDirectoryGroup(input)).toBe(expected);
  });

  it.each([
    '',
    'Northtown Staff',
    '0b1c2d3e4f506172839 4a5b6c7d8e9f0',
    '0b1c2d3e4f5061728394a5b6c7d8e9f0',
    '{0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0}',
    '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f',
    'gb1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
    '00000000-0000-0000-0000-000000000000',
  ])('refuses %j, saying what an object id looks like', (input) => {
    expectInvalid(
      () => parseDirectoryGroup(input),
      'INVALID_GROUP',
      /not a directory group's object id.*Object ID/,
    );
  });
});

describe('parseMobile', () => {
  it.each([
    '07700 900123',
    '07700900123',
    '+44 7700 900123',
    '447700900123',
    '0044 7700 900123',
    '(07700) 900-123',
  ])('reads %j as +447700900123, masked', (input) => {
    expect(parseMobile(input)).toEqual({ e164: '+447700900123', masked: '07*** ***123' });
  });

  it('keeps only the last three digits in the masked form', () => {
    const mobile = parseMobile('07123 456789');
    expect(mobile).toEqual({ e164: '+447123456789', masked: '07*** ***789' });
    expect(mobile.masked).not.toMatch(/456/);
  });

  it.each([
    '0161 496 0000',
    '+44 161 496 0000',
    '07700 90012',
    '07700 9001234',
    '0770',
    '',
    'call me',
    '+1 202 555 0100',
  ])('refuses %j (not a UK mobile)', (input) => {
    expectInvalid(() => parseMobile(input), 'INVALID_MOBILE', /07700 900123/);
  });
});

describe('parseDspt', () => {
  it.each([
    ['standards-met', 'standards-met'],
    ['Standards Met', 'standards-met'],
    ['STANDARDS_EXCEEDED', 'standards-exceeded'],
    [' approaching standards ', 'approaching-standards'],
    ['standards-not-met', 'standards-not-met'],
    ['Not Published', 'not-published'],
  ])('reads %j as %s', (input, expected) => {
    expect(parseDspt(input)).toBe(expected);
  });

  it.each(['great', 'met', '', 'standards'])('refuses %j and lists the statuses', (input) => {
    expectInvalid(() => parseDspt(input), 'INVALID_DSPT', /standards-exceeded, standards-met/);
  });
});

describe('parseCqcLocation', () => {
  it.each([
    ['1-101661355', '1-101661355'],
    [' 1-10166135512 ', '1-10166135512'],
    ['1-1', '1-1'],
    [`1-${'9'.repeat(15)}`, `1-${'9'.repeat(15)}`],
  ])('reads %j as %s', (input, expected) => {
    expect(parseCqcLocation(input)).toBe(expected);
  });

  it.each([
    '101661355',
    '1-',
    '1 - 101661355',
    '2-101661355',
    '1-10166A355',
    'RXX',
    '',
    `1-${'9'.repeat(16)}`,
  ])('refuses %j and gives the format', (input) => {
    expectInvalid(
      () => parseCqcLocation(input),
      'INVALID_CQC_LOCATION',
      /is not a CQC location ID\. Write it as "1-" then digits, .*e\.g\. 1-101661355/,
    );
  });
});

describe('siteCqcLocation', () => {
  it('requires one of a care home, naming --cqc-location and the format', () => {
    expect(siteCqcLocation('care-home', ' 1-101661355')).toBe('1-101661355');
    for (const none of [undefined, null, '  ']) {
      expectInvalid(
        () => siteCqcLocation('care-home', none),
        'CQC_LOCATION_REQUIRED',
        /add --cqc-location, "1-" then digits/,
      );
    }
    expectInvalid(() => siteCqcLocation('care-home', '1-X'), 'INVALID_CQC_LOCATION', /"1-" then digits/);
  });

  it.each(['pharmacy', 'dental'] as const)('has none for a %s, and refuses one given', (kind) => {
    expect(siteCqcLocation(kind, undefined)).toBeNull();
    expect(siteCqcLocation(kind, null)).toBeNull();
    expectInvalid(
      () => siteCqcLocation(kind, '1-101661355'),
      'INVALID_CQC_LOCATION',
      new RegExp(`Only care homes have a CQC location ID: leave out --cqc-location for a ${kind} site`),
    );
  });
});

describe('parseRegistration', () => {
  it.each([
    ['GMC:1234567', { body: 'GMC', number: '1234567' }],
    ['gmc:1234567', { body: 'GMC', number: '1234567' }],
    [' GMC : 1234567 ', { body: 'GMC', number: '1234567' }],
    ['GMC 1234567', { body: 'GMC', number: '1234567' }],
    ['NMC:12A3456E', { body: 'NMC', number: '12A3456E' }],
    ['nmc:12a3456e', { body: 'NMC', number: '12A3456E' }],
    ['GPhC:2012345', { body: 'GPHC', number: '2012345' }],
    ['GDC:123456', { body: 'GDC', number: '123456' }],
    ['GDC:42', { body: 'GDC', number: '42' }],
    ['HCPC:PH12345', { body: 'HCPC', number: 'PH12345' }],
    ['hcpc:odp123456', { body: 'HCPC', number: 'ODP123456' }],
  ])('reads %j', (input, expected) => {
    expect(parseRegistration(input)).toEqual(expected);
  });

  it.each([
    ['GMC:123456', /7 digits/],
    ['GMC:12345678', /7 digits/],
    ['GMC:123456A', /7 digits/],
    ['NMC:1234567', /2 digits, a letter, 4 digits, a letter/],
    ['NMC:12A3456', /2 digits, a letter, 4 digits, a letter/],
    ['GPhC:201234', /GPhC:2012345/],
    ['GDC:1234567', /up to 6 digits/],
    ['GDC:A12', /up to 6 digits/],
    ['HCPC:12345', /HCPC:PH12345/],
    ['HCPC:PH1234', /HCPC:PH12345/],
  ])('refuses the wrongly shaped %j with the expected shape', (input, shape) => {
    expectInvalid(() => parseRegistration(input), 'INVALID_REGISTRATION', shape);
  });

  it.each(['1234567', 'XYZ:1234567', 'GMC:', 'GMC1234567', ''])(
    'refuses %j without a known body and shows BODY:NUMBER',
    (input) => {
      expectInvalid(
        () => parseRegistration(input),
        'INVALID_REGISTRATION',
        /BODY:NUMBER.*e\.g\. GMC:1234567/,
      );
    },
  );
});

describe('parseDate', () => {
  it('accepts a real date, including 29 February in a leap year', () => {
    expect(parseDate('2024-02-29')).toBe('2024-02-29');
    expect(parseDate(' 1985-04-23 ')).toBe('1985-04-23');
    expect(parseDate('2026-12-31')).toBe('2026-12-31');
  });

  it.each(['2025-02-29', '2025-02-30', '2026-04-31', '2026-13-01', '2026-00-10', '2026-01-00', '1900-02-29'])(
    'refuses the impossible day %s',
    (input) => {
      expectInvalid(() => parseDate(input), 'INVALID_DATE', /does not exist/);
    },
  );

  it.each(['23/11/2026', '2026-2-3', '20261123', '2026-11-23T09:00:00Z', 'yesterday', ''])(
    'refuses %j, which is not YYYY-MM-DD',
    (input) => {
      expectInvalid(() => parseDate(input), 'INVALID_DATE', /YYYY-MM-DD, e\.g\. 1985-04-23/);
    },
  );

  it('names what was being read', () => {
    expectInvalid(() => parseDate('2025-02-30', 'start date'), 'INVALID_DATE', /not a real start date/);
  });
});

describe('parseDateOfBirth', () => {
  it('accepts someone of working age', () => {
    expect(parseDateOfBirth('1985-04-23', NOW)).toBe('1985-04-23');
    expect(parseDateOfBirth('1930-01-01', NOW)).toBe('1930-01-01');
  });

  it('accepts a 16th birthday today and refuses one tomorrow', () => {
    expect(parseDateOfBirth('2010-11-23', NOW)).toBe('2010-11-23');
    expectInvalid(() => parseDateOfBirth('2010-11-24', NOW), 'INVALID_DATE', /age 16 to 100/);
  });

  it.each(['2015-06-01', '2026-11-23', '2030-01-01', '1900-01-01', '1920-06-01'])(
    'refuses %s as implausible for a member of staff',
    (input) => {
      expectInvalid(
        () => parseDateOfBirth(input, NOW),
        'INVALID_DATE',
        /plausible date of birth.*age 16 to 100/,
      );
    },
  );

  it('refuses an impossible day and says it is a date of birth', () => {
    expectInvalid(() => parseDateOfBirth('1985-02-29', NOW), 'INVALID_DATE', /not a real date of birth/);
    expectInvalid(() => parseDateOfBirth('23/04/1985', NOW), 'INVALID_DATE', /date of birth.*YYYY-MM-DD/);
  });
});

describe('parseInstant', () => {
  it('refuses a time outside the years 2000 to 2999, whose clocks would overflow (issue 12)', () => {
    for (const input of ['9999-12-31T00:00:00Z', '3000-01-01T00:00:00Z', '2999-12-31T23:00:00-05:00']) {
      expectInvalid(() => parseInstant(input, '--now time'), 'INVALID_TIME', /from 2000 to 2999/);
    }
    for (const input of ['9999-12-31', '1999-12-31']) {
      expectInvalid(() => parseInstant(input, '--now time'), 'INVALID_DATE', /--now time from 2000 to 2999/);
    }
    expect(parseInstant('2999-12-31T23:59:59Z').toISOString()).toBe('2999-12-31T23:59:59.000Z');
    expect(parseInstant('2000-01-01').toISOString()).toBe('2000-01-01T00:00:00.000Z');
  });

  it('reads a bare date as midnight UTC', () => {
    expect(parseInstant('2026-11-23').toISOString()).toBe('2026-11-23T00:00:00.000Z');
  });

  it('reads a time in UTC', () => {
    expect(parseInstant('2026-11-23T09:30:00Z').toISOString()).toBe('2026-11-23T09:30:00.000Z');
    expect(parseInstant('2026-11-23T09:30Z').toISOString()).toBe('2026-11-23T09:30:00.000Z');
    expect(parseInstant(' 2026-11-23T09:30:15.250Z ').toISOString()).toBe('2026-11-23T09:30:15.250Z');
  });

  it('applies an offset', () => {
    expect(parseInstant('2026-06-01T09:30:00+01:00').toISOString()).toBe('2026-06-01T08:30:00.000Z');
    expect(parseInstant('2026-06-01T09:30:00-05:00').toISOString()).toBe('2026-06-01T14:30:00.000Z');
  });

  it.each(['2026-11-23T09:30:00', '2026-11-23 09:30:00', '2026-11-23T09:30'])(
    'refuses %j, a time without a zone, as ambiguous',
    (input) => {
      expectInvalid(() => parseInstant(input), 'INVALID_TIME', /with Z or an offset/);
    },
  );

  it.each(['next tuesday', '', '23/11/2026', '2026-11-23T25:00:00Z', '2026-11-23T09:61:00Z'])(
    'refuses %j with an example',
    (input) => {
      expectInvalid(() => parseInstant(input), 'INVALID_TIME', /e\.g\. 2026-11-23 or 2026-11-23T09:30:00Z/);
    },
  );

  it('refuses an impossible day, with or without a time', () => {
    expectInvalid(() => parseInstant('2026-02-30'), 'INVALID_DATE', /does not exist/);
    expectInvalid(() => parseInstant('2026-02-30T09:00:00Z'), 'INVALID_DATE', /does not exist/);
    expectInvalid(() => parseInstant('2025-02-29T09:00:00+01:00'), 'INVALID_DATE', /does not exist/);
  });
});

describe('parseName', () => {
  it.each([
    ['Jane', 'Jane'],
    ["O'Brien", "O'Brien"],
    ['O’Brien', 'O’Brien'],
    ['Smith-Jones', 'Smith-Jones'],
    ['José', 'José'],
    ['  Mary   Jane ', 'Mary Jane'],
    ['Łukasz', 'Łukasz'],
    ['张伟', '张伟'],
  ])('accepts %j as %j', (input, expected) => {
    expect(parseName(input, 'given name')).toBe(expected);
  });

  it.each(['', '   ', 'J0hn', 'Jane!', '-Jane', "'Jane", 'jane@nhs.net', 'x'.repeat(65)])(
    'refuses %j and states the rule',
    (input) => {
      expectInvalid(
        () => parseName(input, 'family name'),
        'INVALID_NAME',
        /usable family name: use letters, spaces, hyphens and apostrophes \(1 to 64 characters\)/,
      );
    },
  );

  it('accepts exactly 64 characters', () => {
    expect(parseName('a'.repeat(64), 'given name')).toHaveLength(64);
  });
});

describe('parseOrgName', () => {
  it.each([
    ['  Northtown   Hospitals NHS Trust ', 'Northtown Hospitals NHS Trust'],
    ['EASTBY, WESTBY AND DISTRICT NHS FOUNDATION TRUST', 'EASTBY, WESTBY AND DISTRICT NHS FOUNDATION TRUST'],
    ['ST MARY\'S "HEART OF THE CITY" NHS TRUST', 'ST MARY\'S "HEART OF THE CITY" NHS TRUST'],
    ['Boots UK Ltd (Store 1234)', 'Boots UK Ltd (Store 1234)'],
  ])('tidies %j', (input, expected) => {
    expect(parseOrgName(input)).toBe(expected);
  });

  it.each(['', '   ', '---', 'x'.repeat(201), 'Two\u0000Parts'])('refuses %j', (input) => {
    expectInvalid(() => parseOrgName(input), 'INVALID_NAME', /organisation name/);
  });
});

describe('parseWholeNumber', () => {
  it('reads whole numbers within the range, bounds included', () => {
    expect(parseWholeNumber('7', 'days', 0, 3650)).toBe(7);
    expect(parseWholeNumber(' 14 ', 'days', 0, 3650)).toBe(14);
    expect(parseWholeNumber('0', 'days', 0, 3650)).toBe(0);
    expect(parseWholeNumber('3650', 'days', 0, 3650)).toBe(3650);
  });

  it.each(['-1', '1.5', 'seven', '', '1e3', '0x10'])('refuses %j as not a whole number', (input) => {
    expectInvalid(
      () => parseWholeNumber(input, 'days', 0, 3650),
      'INVALID_NUMBER',
      /not a whole number of days/,
    );
  });

  it('refuses a number outside the range and gives the range', () => {
    expectInvalid(
      () => parseWholeNumber('3651', 'days', 0, 3650),
      'INVALID_NUMBER',
      /days must be between 0 and 3650; got 3651/,
    );
    expectInvalid(() => parseWholeNumber('0', 'days', 1, 10), 'INVALID_NUMBER', /between 1 and 10/);
  });
});
