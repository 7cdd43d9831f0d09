export const DAY_MS = 24 * 60 * 60 * 1000;

export const addDays = (when: Date, days: number): Date => new Date(when.getTime() + days * DAY_MS);

/** Whole days left until `due`, rounded up: 0.2 days left is "1 day left"; past due is 0 or less. */
export const daysLeft = (now: Date, due: Date): number => Math.ceil((due.getTime() - now.getTime()) / DAY_MS);

export const isoDate = (when: Date): string => when.toISOString().slice(0, 10);

const LONDON_DAY = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/London',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The calendar day it is in England at `when`, as YYYY-MM-DD: HR dates are English days. */
export const londonDate = (when: Date): string => LONDON_DAY.format(when);

/** The moment an English calendar day (YYYY-MM-DD) begins: midnight in London, GMT or BST. */
export function londonMidnight(day: string): Date {
  const utcMidnight = new Date(`${day}T00:00:00Z`);
  // London is UTC+0 or UTC+1: at UTC midnight, London's day has begun an hour early in summer.
  const hour = Number(
    new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', hourCycle: 'h23' }).format(
      utcMidnight,
    ),
  );
  return new Date(utcMidnight.getTime() - hour * 3_600_000);
}

/** A YYYY-MM-DD day `n` days later (or earlier, for negative `n`). */
export const shiftDay = (day: string, n: number): string => isoDate(addDays(new Date(`${day}T12:00:00Z`), n));
