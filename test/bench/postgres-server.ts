import { type PostgresServer, startPostgresServer } from '../support/postgres-server.js';

/** A PostgreSQL server for a benchmark: TEST_DATABASE_URL/DATABASE_URL when set, else the tests' embedded one. */
export async function server(): Promise<PostgresServer> {
  const given = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (given) return { url: given, stop: async () => {} };
  return startPostgresServer('bench');
}
