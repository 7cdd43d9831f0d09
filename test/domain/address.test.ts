import { describe, expect, it } from 'vitest';
import {
  addressBase,
  addressCandidate,
  asciiNamePart,
  sharedMailboxAddress,
} from '../../src/domain/address.js';

describe('addressBase', () => {
  it.each([
    ['Jane', 'Doe', 'jane.doe'],
    ['JANE', 'DOE', 'jane.doe'],
    ['José', 'Núñez', 'jose.nunez'],
    ['Siobhán', 'Ní Bhriain', 'siobhan.ni-bhriain'],
    ['Zoë', 'Brontë', 'zoe.bronte'],
    ['Seán', "O'Brien", 'sean.obrien'],
    ['Seán', 'O’Brien', 'sean.obrien'],
    ['Mary Jane', 'Watson', 'mary-jane.watson'],
    ['Anne-Marie', 'Smith-Jones', 'anne-marie.smith-jones'],
    ['Anne -  Marie', 'Smith', 'anne-marie.smith'],
    ['Jürgen', 'Großmann', 'jurgen.grossmann'],
    ['Søren', 'Kierkegård', 'soren.kierkegard'],
    ['Æsa', 'Łukasiewicz', 'aesa.lukasiewicz'],
    ['  Jane ', ' Doe  ', 'jane.doe'],
  ])('%s %s → %s', (given, family, expected) => {
    expect(addressBase(given, family)).toBe(expected);
  });

  it('gives an empty base for names with no Latin letters', () => {
    expect(addressBase('张', '伟')).toBe('');
    expect(addressBase('Дмитрий', 'Иванов')).toBe('');
    expect(addressBase('محمد', 'علي')).toBe('');
  });

  it('keeps the part that has Latin letters when the other has none', () => {
    expect(addressBase('张', 'Smith')).toBe('smith');
    expect(addressBase('Wei', '张')).toBe('wei');
  });

  it('never yields leading, trailing or doubled hyphens', () => {
    expect(asciiNamePart("-O'Neil-")).toBe('oneil');
    expect(asciiNamePart('Smith - - Jones')).toBe('smith-jones');
  });
});

describe('addressCandidate', () => {
  it('numbers the candidates after the first, from 1', () => {
    expect(addressCandidate('jane.doe', 0)).toBe('jane.doe@nhs.net');
    expect(addressCandidate('jane.doe', 1)).toBe('jane.doe1@nhs.net');
    expect(addressCandidate('jane.doe', 2)).toBe('jane.doe2@nhs.net');
    expect(addressCandidate('jane.doe', 12)).toBe('jane.doe12@nhs.net');
  });

  it('gives distinct addresses for distinct numbers', () => {
    const addresses = Array.from({ length: 20 }, (_, n) => addressCandidate('jane.doe', n));
    expect(new Set(addresses).size).toBe(20);
  });
});

describe('sharedMailboxAddress', () => {
  it('names a site mailbox after its kind and lower-cased ODS code', () => {
    expect(sharedMailboxAddress('pharmacy', 'FA123')).toBe('pharmacy.fa123@nhs.net');
    expect(sharedMailboxAddress('dental', 'V00123')).toBe('dental.v00123@nhs.net');
    expect(sharedMailboxAddress('care-home', 'VM1AB')).toBe('care-home.vm1ab@nhs.net');
  });
});

describe('asciiNamePart on printable ASCII', () => {
  // The rule as written before the ASCII fast path: every name must come out the same.
  const general = (name: string) =>
    name
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .replace(/ß/g, 'ss')
      .replace(/æ/gi, 'ae')
      .replace(/ø/gi, 'o')
      .replace(/ł/gi, 'l')
      .toLowerCase()
      .replace(/['’`]/g, '')
      .replace(/\s+/g, '-')
      .replace(/[^a-z0-9-]/g, '')
      .replace(/-+/g, '-')
      .replace(/^-|-$/g, '');

  it.each([
    'Jane',
    "O'Brien",
    'O`Neill',
    'Mary Jane',
    'Anne -  Marie',
    '  Jane ',
    '-Jane-',
    '--',
    '-',
    ' ',
    '',
    'Smith-Jones',
    'St. John',
    'Jean-Luc  Picard ',
    "D'Arcy - Smythe",
    'ABC123',
    'a.b,c;d:e!f?g',
    '~!@#$%^&*()_+{}|:"<>?[]\\;\',./',
    'Mc Donald -',
    '- O Brien -',
  ])('%j comes out as by the general rule', (name) => {
    expect(asciiNamePart(name)).toBe(general(name));
  });

  it('agrees with the general rule on 20,000 random printable strings', () => {
    let seed = 17;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed;
    };
    // Weighted towards spaces, hyphens, apostrophes and letters, where the steps interact.
    const alphabet = "  --'`aZz09.";
    for (let i = 0; i < 20000; i++) {
      let name = '';
      const length = next() % 12;
      for (let j = 0; j < length; j++) {
        name +=
          next() % 2 === 0 ? alphabet[next() % alphabet.length] : String.fromCharCode(0x20 + (next() % 95));
      }
      expect(asciiNamePart(name), JSON.stringify(name)).toBe(general(name));
    }
  });

  it('still takes the general rule for names outside printable ASCII', () => {
    for (const name of ['Zoë', 'Jane\tDoe', 'Anne\u00a0Marie', 'Łukasz', 'O’Brien', 'Æsa']) {
      expect(asciiNamePart(name)).toBe(general(name));
    }
  });
});
