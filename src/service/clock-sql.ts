import { and, eq, gt, isNull, lte, type SQL } from 'drizzle-orm';
import { accounts } from '../../db/schema.js';
import { type Clock, latestStart } from '../domain/clocks.js';
import type { Policy } from '../domain/policy.js';

/**
 * The clocks of `src/domain/clocks.ts` as SQL predicates over `accounts`. Nothing here knows a
 * clock by name: each predicate is read off the clock's definition, so a deadline computed for one
 * account and the rows the sweep or `expiring` selects cannot disagree. Each predicate has the
 * shape of its clock's partial index (db/schema.ts), so it reads only the rows the clock runs on.
 */
/** The column a clock counts from: a clock's field is named as the accounts table's column is. */
const column = (clock: Clock) => accounts[clock.field];

/** Accounts the clock runs on. */
export const runsOnSql = (clock: Clock): SQL | undefined =>
  and(
    eq(accounts.status, clock.status),
    clock.personsOnly ? eq(accounts.kind, 'person') : undefined,
    clock.unpurgedOnly ? isNull(accounts.purgedAt) : undefined,
  );

/** Accounts whose deadline on this clock falls at or before `by` (overdue ones included). */
export const dueBySql = (clock: Clock, policy: Policy, by: Date): SQL | undefined =>
  and(runsOnSql(clock), lte(column(clock), latestStart(clock, policy, by)));

/** Accounts whose deadline on this clock falls after `after` and at or before `by`. */
export const dueBetweenSql = (clock: Clock, policy: Policy, after: Date, by: Date): SQL | undefined =>
  and(
    runsOnSql(clock),
    gt(column(clock), latestStart(clock, policy, after)),
    lte(column(clock), latestStart(clock, policy, by)),
  );

/** The column the clock counts from, to select it with the rows. */
export const clockColumn = column;
