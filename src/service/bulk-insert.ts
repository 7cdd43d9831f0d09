import { type Column, getTableColumns, type SQL, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { rowsOf } from '../../db/index.js';
import type { Executor } from './store.js';

/**
 * Inserts many rows in one statement with one parameter: the rows as a JSON array, read back by
 * `jsonb_populate_recordset` with the table's own column types. Drizzle's multi-row `values()`
 * binds a parameter per column per row, and building and binding those cost more than the writes
 * (issue 15's and 17's benchmarks); the JSON travels and parses as one value. Every row must name
 * the same fields (an omitted field would otherwise become NULL instead of its column's default).
 * Rows are inserted in the order given (identity columns count up in that order), and the
 * `returning` column of each inserted row is answered in that order, when one is named.
 */
export async function insertMany<T extends PgTable, K extends keyof T['$inferSelect'] & string>(
  tx: Executor,
  table: T,
  rows: ReadonlyArray<T['$inferInsert']>,
  options: { returning?: K; onConflictDoNothing?: boolean } = {},
): Promise<Array<T['$inferSelect'][K]>> {
  const [first] = rows;
  if (first === undefined) return [];
  const columns = getTableColumns(table);
  const fields = Object.keys(first).filter(
    (field) => (first as Record<string, unknown>)[field] !== undefined,
  );
  const names = fields.map((field) => {
    const column = columns[field];
    if (!column) throw new Error(`insertMany: ${field} is not a column`);
    return column.name;
  });
  const json = JSON.stringify(
    rows.map((row) => {
      const values = row as Record<string, unknown>;
      const named = Object.keys(values).filter((f) => values[f] !== undefined);
      if (named.length !== fields.length || !fields.every((field) => values[field] !== undefined)) {
        throw new Error('insertMany: every row must name the same fields');
      }
      return Object.fromEntries(fields.map((field, i) => [names[i], values[field] ?? null]));
    }),
  );
  const list = sql.join(
    names.map((name) => sql.identifier(name)),
    sql`, `,
  );
  const conflict: SQL = options.onConflictDoNothing ? sql` on conflict do nothing` : sql``;
  const returningColumn = options.returning ? columns[options.returning] : undefined;
  const returning: SQL = returningColumn
    ? sql` returning ${sql.identifier(returningColumn.name)} as value`
    : sql``;
  const result = await tx.execute(
    sql`insert into ${table} (${list}) select ${list} from jsonb_populate_recordset(null::${table}, ${json}::jsonb) with ordinality as given order by given.ordinality${conflict}${returning}`,
  );
  if (!returningColumn) return [];
  return rowsOf<{ value: unknown }>(result).map(
    (row) => returningColumn.mapFromDriverValue(row.value) as T['$inferSelect'][K],
  );
}

/**
 * `column = ANY(ids)` with the ids as one array parameter: drizzle's `inArray` binds one
 * parameter per id, which at thousands of ids costs more than the lookup. An array, unlike a
 * subquery, is one value to the planner: it looks each id up in the column's index, even on a
 * table never analysed (where an `IN (SELECT …)` was planned as a nested loop, 80 s for 5,000).
 */
export const inIdList = (column: Column, ids: readonly number[]): SQL => {
  if (!ids.every(Number.isSafeInteger)) throw new Error('inIdList: ids must be integers');
  return sql`${column} = any(${`{${ids.join(',')}}`}::${sql.raw(column.getSQLType())}[])`;
};
