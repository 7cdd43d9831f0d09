import { describe, expect, it } from 'vitest';
import { londonDayStart, nextDay } from '../../src/domain/time.js';

describe('London days', () => {
  it.each([
    ['2026-01-15', '2026-01-15T00:00:00.000Z'], // GMT
    ['2026-07-01', '2026-06-30T23:00:00.000Z'], // BST
    ['2026-03-29', '2026-03-29T00:00:00.000Z'], // clocks go forward at 01:00 GMT: midnight is still GMT
    ['2026-03-30', '2026-03-29T23:00:00.000Z'], // the first whole day of BST
    ['2026-10-25', '2026-10-24T23:00:00.000Z'], // clocks go back at 02:00 BST: midnight is still BST
    ['2026-10-26', '2026-10-26T00:00:00.000Z'], // the first whole day of GMT again
  ])('%s begins at %s', (date, instant) => {
    expect(londonDayStart(date).toISOString()).toBe(instant);
  });

  it('makes the clock-change days 23 and 25 hours long', () => {
    const hours = (date: string) =>
      (londonDayStart(nextDay(date)).getTime() - londonDayStart(date).getTime()) / 3_600_000;
    expect(hours('2026-03-29')).toBe(23);
    expect(hours('2026-10-25')).toBe(25);
    expect(hours('2026-06-01')).toBe(24);
  });

  it('steps over month and year ends and leap days', () => {
    expect(nextDay('2026-12-31')).toBe('2027-01-01');
    expect(nextDay('2028-02-28')).toBe('2028-02-29');
    expect(nextDay('2026-02-28')).toBe('2026-03-01');
  });
});
