import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../db/index.js';
import { migrate } from '../../db/migrate.js';
import { databaseUrl, withAdminConnection } from './postgres-admin.js';
import { type PostgresServer, startPostgresServer } from './postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL for the test server's maintenance database, for CREATE/DROP DATABASE. */
    pgAdminUrl: string;
    /** A migrated database each test database is created from (`CREATE DATABASE … TEMPLATE`). */
    pgTemplate: string;
  }
}

const TEMPLATE = 'nhsmail_template';

async function createTemplate(adminUrl: string): Promise<void> {
  await withAdminConnection(adminUrl, async (sql) => {
    await sql`DROP DATABASE IF EXISTS ${sql(TEMPLATE)} WITH (FORCE)`;
    await sql`CREATE DATABASE ${sql(TEMPLATE)}`;
  });
  const database = openDatabase({
    engine: 'postgres',
    url: databaseUrl(adminUrl, TEMPLATE),
    maxConnections: 1,
  });
  try {
    await migrate(database);
  } finally {
    // No session may stay connected to a template while it is copied.
    await database.close();
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const externalUrl = process.env.TEST_DATABASE_URL;
  const server: PostgresServer = externalUrl
    ? {
        url: externalUrl,
        stop: () =>
          withAdminConnection(externalUrl, async (sql) => {
            await sql`DROP DATABASE IF EXISTS ${sql(TEMPLATE)} WITH (FORCE)`;
          }),
      }
    : await startPostgresServer(randomBytes(18).toString('hex'));
  try {
    await createTemplate(server.url);
  } catch (error) {
    await server.stop().catch(() => {});
    throw error;
  }
  project.provide('pgAdminUrl', server.url);
  project.provide('pgTemplate', TEMPLATE);
  return () => server.stop();
}
