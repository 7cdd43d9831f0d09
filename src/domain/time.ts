export const DAY_MS = 24 * 60 * 60 * 1000;

export const addDays = (when: Date, days: number): Date => new Date(when.getTime() + days * DAY_MS);

/** Whole days left until `due`, rounded up: 0.2 days left is "1 day left"; past due is 0 or less. */
export const daysLeft = (now: Date, due: Date): number => Math.ceil((due.getTime() - now.getTime()) / DAY_MS);

export const isoDate = (when: Date): string => when.toISOString().slice(0, 10);

/** A YYYY-MM-DD day `n` days later (or earlier, for negative `n`). */
export function shiftDay(day: string, n: number): string {
  const key = `${day}|${n}`;
  let shifted = SHIFTED.get(key);
  if (shifted === undefined) {
    shifted = isoDate(addDays(new Date(`${day}T12:00:00Z`), n));
    if (SHIFTED.size >= 10_000) SHIFTED.clear();
    SHIFTED.set(key, shifted);
  }
  return shifted;
}

/** shiftDay's answers: an import shifts the same few start dates on every row. */
const SHIFTED = new Map<string, string>();

const LONDON_WALL_CLOCK = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** How far London's clocks are ahead of UTC at `when`: 0 in GMT, one hour in BST. */
function londonOffsetMs(when: Date): number {
  const parts = londonWallClock(when);
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts[type] ?? 0);
  const wall = Date.UTC(
    part('year'),
    part('month') - 1,
    part('day'),
    part('hour'),
    part('minute'),
    part('second'),
  );
  return wall - Math.floor(when.getTime() / 1000) * 1000;
}

/**
 * The instant a calendar day (YYYY-MM-DD, already validated) begins in London. The UK changes
 * its clocks at 01:00 UTC, never at midnight, so every London day has exactly one midnight, and
 * the offset at that day's 00:00 UTC is the offset at its London midnight.
 */
export function londonDayStart(date: string): Date {
  const [y = 0, m = 1, d = 1] = date.split('-').map(Number);
  const utcMidnight = new Date(Date.UTC(y, m - 1, d));
  return new Date(utcMidnight.getTime() - londonOffsetMs(utcMidnight));
}

/** The calendar day (YYYY-MM-DD) it is in London at `when`. */
export function londonDate(when: Date): string {
  const time = when.getTime();
  if (time !== lastLondonDate.time) {
    const parts = londonWallClock(when);
    lastLondonDate.time = time;
    lastLondonDate.date = `${parts.year ?? ''}-${parts.month ?? ''}-${parts.day ?? ''}`;
  }
  return lastLondonDate.date;
}

/** The last answer of londonDate: an import asks it for the same instant on every row. */
const lastLondonDate = { time: Number.NaN, date: '' };

/** London's wall clock at `when`, read once (formatToParts is the costly part). */
function londonWallClock(when: Date): Partial<Record<Intl.DateTimeFormatPartTypes, string>> {
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const p of LONDON_WALL_CLOCK.formatToParts(when)) parts[p.type] = p.value;
  return parts;
}

/** The calendar day after `date` (YYYY-MM-DD). */
export const nextDay = (date: string): string => shiftDay(date, 1);
