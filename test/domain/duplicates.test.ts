import { describe, expect, it } from 'vitest';
import {
  type ExistingPerson,
  jaroWinkler,
  matchReasons,
  type PersonFacts,
  similarNames,
} from '../../src/domain/duplicates.js';

describe('jaroWinkler', () => {
  it('is 1 for identical strings and 0 when nothing matches or a side is empty', () => {
    expect(jaroWinkler('jane', 'jane')).toBe(1);
    expect(jaroWinkler('', '')).toBe(1);
    expect(jaroWinkler('abc', 'xyz')).toBe(0);
    expect(jaroWinkler('jane', '')).toBe(0);
    expect(jaroWinkler('', 'jane')).toBe(0);
  });

  it('gives the textbook values', () => {
    expect(jaroWinkler('martha', 'marhta')).toBeCloseTo(0.9611, 4);
    expect(jaroWinkler('dwayne', 'duane')).toBeCloseTo(0.84, 4);
    expect(jaroWinkler('dixon', 'dicksonx')).toBeCloseTo(0.8133, 4);
  });

  it('is symmetric and stays within [0, 1]', () => {
    const pairs: Array<[string, string]> = [
      ['katherine', 'kathryn'],
      ['smith', 'smyth'],
      ['jon', 'jonathan'],
      ['a', 'abcdefghij'],
    ];
    for (const [a, b] of pairs) {
      const ab = jaroWinkler(a, b);
      expect(ab).toBeCloseTo(jaroWinkler(b, a), 12);
      expect(ab).toBeGreaterThan(0);
      expect(ab).toBeLessThan(1);
    }
  });

  it('rewards a shared prefix', () => {
    expect(jaroWinkler('smith', 'smiht')).toBeGreaterThan(jaroWinkler('msith', 'smith'));
  });
});

describe('similarNames', () => {
  const name = (given: string, family: string) => ({ given, family });

  it.each([
    ['Jon', 'Smith', 'Jonathan', 'Smith'],
    ['Katherine', 'Smith', 'Kathryn', 'Smith'],
    ['Kate', 'Smith', 'Katherine', 'Smith'],
    ['Jane', 'Smith', 'Jane', 'Smyth'],
    ['Jane', 'Richards', 'Jane', 'Richadrs'],
    ['Jane', 'Thompson', 'Jane', 'Thomson'],
    ['José', 'Núñez', 'Jose', 'Nunez'],
    ['Jane', 'Doe', 'Doe', 'Jane'],
    ['Jane', 'Smith-Jones', 'Jane', 'Jones'],
    ['Jane', 'SMITH', 'jane', 'smith'],
  ])('%s %s and %s %s may be one person', (ag, af, bg, bf) => {
    expect(similarNames(name(ag, af), name(bg, bf))).toBe(true);
    expect(similarNames(name(bg, bf), name(ag, af))).toBe(true);
  });

  it.each([
    ['Jane', 'Doe', 'Peter', 'Smith'],
    ['Oliver', 'Smith', 'Harry', 'Smith'],
    ['Jane', 'Doe', 'Jane', 'Richardson'],
    ['Jo', 'Smith', 'Jonathan', 'Smith'],
    ['Amir', 'Khan', 'Priya', 'Patel'],
  ])('%s %s and %s %s are different people', (ag, af, bg, bf) => {
    expect(similarNames(name(ag, af), name(bg, bf))).toBe(false);
    expect(similarNames(name(bg, bf), name(ag, af))).toBe(false);
  });
});

describe('matchReasons', () => {
  const existing = (over: Partial<ExistingPerson> = {}): ExistingPerson => ({
    address: 'jane.doe@nhs.net',
    given: 'Jane',
    family: 'Doe',
    dob: '1985-04-23',
    mobileHash: 'hash-of-07700900123',
    regBody: 'GMC',
    regNumber: '1234567',
    ...over,
  });
  const candidate = (over: Partial<PersonFacts> = {}): PersonFacts => ({
    given: 'Someone',
    family: 'Else',
    ...over,
  });

  it('matches on the same registration number', () => {
    expect(matchReasons(candidate({ reg: { body: 'GMC', number: '1234567' } }), existing())).toEqual([
      'registration',
    ]);
  });

  it('does not match the same number with another body, or another number', () => {
    expect(matchReasons(candidate({ reg: { body: 'GPHC', number: '1234567' } }), existing())).toEqual([]);
    expect(matchReasons(candidate({ reg: { body: 'GMC', number: '7654321' } }), existing())).toEqual([]);
  });

  it('matches on date of birth with a similar name', () => {
    expect(
      matchReasons(
        candidate({ given: 'Jane', family: 'Thompson', dob: '1985-04-23' }),
        existing({ family: 'Thomson' }),
      ),
    ).toEqual(['dob-and-name']);
  });

  it('does not match on date of birth when the names differ', () => {
    expect(
      matchReasons(candidate({ given: 'Peter', family: 'Smith', dob: '1985-04-23' }), existing()),
    ).toEqual([]);
  });

  it('does not match a similar name born on another day', () => {
    expect(matchReasons(candidate({ given: 'Jane', family: 'Doe', dob: '1985-04-24' }), existing())).toEqual(
      [],
    );
    expect(matchReasons(candidate({ given: 'Jane', family: 'Doe' }), existing())).toEqual([]);
  });

  it('matches on the same mobile number hash', () => {
    expect(matchReasons(candidate({ mobileHash: 'hash-of-07700900123' }), existing())).toEqual(['mobile']);
    expect(matchReasons(candidate({ mobileHash: 'hash-of-07700900999' }), existing())).toEqual([]);
  });

  it('lists every reason, strongest first', () => {
    const same = candidate({
      given: 'Jane',
      family: 'Doe',
      dob: '1985-04-23',
      mobileHash: 'hash-of-07700900123',
      reg: { body: 'GMC', number: '1234567' },
    });
    expect(matchReasons(same, existing())).toEqual(['registration', 'dob-and-name', 'mobile']);
  });

  it('finds nothing against a purged record, whose facts are gone', () => {
    const purged = existing({
      given: null,
      family: null,
      dob: null,
      mobileHash: null,
      regBody: null,
      regNumber: null,
    });
    const same = candidate({
      given: 'Jane',
      family: 'Doe',
      dob: '1985-04-23',
      mobileHash: 'hash-of-07700900123',
      reg: { body: 'GMC', number: '1234567' },
    });
    expect(matchReasons(same, purged)).toEqual([]);
  });

  it('finds nothing when the candidate gives no facts to compare', () => {
    expect(matchReasons(candidate({ given: 'Jane', family: 'Doe' }), existing({ dob: null }))).toEqual([]);
  });
});
