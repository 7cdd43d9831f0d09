import { fileURLToPath } from 'node:url';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import type { Database } from './index.js';
import type * as schema from './schema.js';

/** The committed SQL migrations and journal, produced by `npm run db:generate`. */
export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/** Applies every committed migration not yet applied. Safe to call on every start. */
export async function migrate(database: Database): Promise<void> {
  if (database.engine === 'postgres') {
    await migratePostgres(database.db as unknown as PostgresJsDatabase<typeof schema>, { migrationsFolder });
  } else {
    await migratePglite(database.db as unknown as PgliteDatabase<typeof schema>, { migrationsFolder });
  }
}
