import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { databaseUrl, withAdminConnection } from './postgres-admin.js';

/** A fresh, migrated PostgreSQL database for a child process to connect to by URL. */
export interface ScratchDatabase {
  /** `postgres://…` with credentials, on the loopback test server: give it to a child as DATABASE_URL. */
  readonly url: string;
  readonly name: string;
  /** Drops the database, disconnecting whoever is still connected. */
  drop(): Promise<void>;
}

/**
 * Clones the migrated template (as `createTestDatabase('postgres')` does) but hands back only the
 * URL, for tests that run the real CLI or bot in another process. Call inside hooks and tests.
 */
export async function createScratchPostgresDatabase(): Promise<ScratchDatabase> {
  const adminUrl = inject('pgAdminUrl');
  const name = `t_${randomBytes(6).toString('hex')}`;
  await withAdminConnection(adminUrl, async (admin) => {
    await admin`CREATE DATABASE ${admin(name)} TEMPLATE ${admin(inject('pgTemplate'))}`;
  });
  return {
    url: databaseUrl(adminUrl, name),
    name,
    drop: () =>
      withAdminConnection(adminUrl, async (admin) => {
        await admin`DROP DATABASE IF EXISTS ${admin(name)} WITH (FORCE)`;
      }),
  };
}
