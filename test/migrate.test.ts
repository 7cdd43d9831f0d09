import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate as drizzleMigrate } from 'drizzle-orm/postgres-js/migrator';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { type Database, openDatabase } from '../db/index.js';
import { migrate, migrationsFolder } from '../db/migrate.js';
import { queryRows, schemaTableNames } from './support/engines.js';
import { databaseUrl, withAdminConnection } from './support/postgres-admin.js';

/**
 * Every replica applies migrations at start. Several starting together against one fresh
 * PostgreSQL must all come up, with each migration applied once.
 */
describe('migrations on PostgreSQL', () => {
  const adminUrl = inject('pgAdminUrl');
  const opened: Database[] = [];
  const created: string[] = [];

  /** A new, empty database (not the migrated template) and `connections` separate clients of it. */
  async function freshDatabase(connections: number): Promise<Database[]> {
    const name = `t_${randomBytes(6).toString('hex')}`;
    await withAdminConnection(adminUrl, async (admin) => {
      await admin`CREATE DATABASE ${admin(name)}`;
    });
    created.push(name);
    const clients = Array.from({ length: connections }, () =>
      openDatabase({ engine: 'postgres', url: databaseUrl(adminUrl, name), maxConnections: 2 }),
    );
    opened.push(...clients);
    return clients;
  }

  const applied = (database: Database) =>
    queryRows<{ hash: string; created_at: string }>(
      database.db,
      sql`select hash, created_at from drizzle.__drizzle_migrations order by id`,
    );

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((database) => database.close()));
    await withAdminConnection(adminUrl, async (admin) => {
      for (const name of created.splice(0)) await admin`DROP DATABASE IF EXISTS ${admin(name)} WITH (FORCE)`;
    });
  });

  it('lets three replicas migrate a fresh database at once, applying each migration once', async () => {
    const replicas = await freshDatabase(3);
    const [first] = replicas;
    if (!first) throw new Error('no replica');

    const results = await Promise.allSettled(replicas.map((database) => migrate(database)));
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : r.status))).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);

    const journal = readMigrationFiles({ migrationsFolder });
    expect((await applied(first)).map((row) => row.hash)).toEqual(journal.map((m) => m.hash));
    const tables = await queryRows<{ table_name: string }>(
      first.db,
      sql`select table_name from information_schema.tables
          where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`,
    );
    expect(tables.map((row) => row.table_name)).toEqual([...schemaTableNames].sort());

    // And at the next start, nothing to do.
    await migrate(first);
    expect(await applied(first)).toHaveLength(journal.length);
  });

  it("takes over a database migrated by drizzle's own migrator without applying anything again", async () => {
    const [database] = await freshDatabase(1);
    if (!database) throw new Error('no database');
    await drizzleMigrate(database.db as unknown as PostgresJsDatabase, { migrationsFolder });
    const before = await applied(database);

    await migrate(database);

    expect(await applied(database)).toEqual(before);
  });
});
