export const DAY_MS = 24 * 60 * 60 * 1000;

export const addDays = (when: Date, days: number): Date => new Date(when.getTime() + days * DAY_MS);

/** Whole days left until `due`, rounded up: 0.2 days left is "1 day left"; past due is 0 or less. */
export const daysLeft = (now: Date, due: Date): number => Math.ceil((due.getTime() - now.getTime()) / DAY_MS);

export const isoDate = (when: Date): string => when.toISOString().slice(0, 10);
