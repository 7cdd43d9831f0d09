import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { type Database, rowsOf } from './index.js';

/** The committed SQL migrations and journal, produced by `npm run db:generate`. */
export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/** The advisory lock key's text (`hashtext(…)`): whoever holds this lock holds back every migration. */
export const MIGRATION_LOCK = 'nhsmail-bot migrations';

/**
 * Applies every committed migration not yet applied. Safe to call on every start, and from several
 * replicas starting at once against one PostgreSQL.
 *
 * drizzle's own migrator takes no lock and reads what is applied before its transaction begins,
 * so two processes migrating a fresh database both run 0000 and one fails ("already exists").
 * This runs drizzle's steps, in its bookkeeping table (`drizzle.__drizzle_migrations`, so
 * databases migrated before stay valid), inside one transaction that first takes an advisory lock:
 * the second process waits, then finds the migrations applied and does nothing. The lock ends
 * with the transaction, even if the process dies. (PGlite has one process; the lock costs nothing.)
 */
export async function migrate(database: Database): Promise<void> {
  const migrations = readMigrationFiles({ migrationsFolder });
  await database.db.transaction(async (tx) => {
    // A literal, not a parameter: postgres.js runs a statement's first use with parameters in two
    // steps, and if its connection is cut meanwhile (a bot told to stop while it waits here), the
    // rollback waits for the server, which answers only once the lock is granted.
    await tx.execute(sql.raw(`select pg_advisory_xact_lock(hashtext('${MIGRATION_LOCK}'))`));
    await tx.execute(sql`CREATE SCHEMA IF NOT EXISTS drizzle`);
    await tx.execute(sql`CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations (
      id SERIAL PRIMARY KEY,
      hash text NOT NULL,
      created_at bigint
    )`);
    const [last] = rowsOf<{ created_at: string | number | null }>(
      await tx.execute(
        sql`select created_at from drizzle.__drizzle_migrations order by created_at desc limit 1`,
      ),
    );
    const appliedUpTo = last ? Number(last.created_at) : Number.NEGATIVE_INFINITY;
    for (const migration of migrations) {
      if (migration.folderMillis <= appliedUpTo) continue;
      for (const statement of migration.sql) await tx.execute(sql.raw(statement));
      await tx.execute(
        sql`insert into drizzle.__drizzle_migrations (hash, created_at) values (${migration.hash}, ${migration.folderMillis})`,
      );
    }
  });
}
