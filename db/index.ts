import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema.js';

export { schema };

/** The drizzle database both engines share: the service is written once against this type. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** A transaction handle, as passed to `db.transaction(async (tx) => …)`. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export type DatabaseTarget =
  | { engine: 'postgres'; url: string; maxConnections?: number }
  | { engine: 'pglite'; dataDir: string }
  | { engine: 'pglite'; instance: PGlite };

export interface Database {
  db: Db;
  engine: 'postgres' | 'pglite';
  /** Where the data lives, safe to log: the URL without its password, or the data directory. */
  description: string;
  /** Round-trips a trivial query; used by /readyz. */
  ping(): Promise<void>;
  /**
   * Closes the connections once the queries running finish (PostgreSQL gives them 5 s). With
   * `interrupt`, PostgreSQL's connections are cut at once: queries in flight fail, and the server
   * rolls back their transaction (a session waiting for a lock notices only once it gets it).
   * PGlite cannot be interrupted: it finishes the transaction running first. Calling it again
   * returns the first call's promise.
   */
  close(options?: { interrupt?: boolean }): Promise<void>;
}

export function openDatabase(target: DatabaseTarget): Database {
  if (target.engine === 'postgres') {
    const client = postgres(target.url, {
      max: target.maxConnections ?? 10,
      onnotice: () => {},
      // Dates and timestamps stay as drizzle expects them; postgres.js otherwise parses dates.
    });
    const db = drizzlePostgres(client, { schema }) as unknown as Db;
    return {
      db,
      engine: 'postgres',
      description: redactUrl(target.url),
      ping: async () => {
        await client`select 1`;
      },
      close: once((options) => client.end({ timeout: options?.interrupt ? 0 : 5 })),
    };
  }
  let client: PGlite;
  let description: string;
  if ('instance' in target) {
    client = target.instance;
    description = 'PGlite (in memory)';
  } else {
    mkdirSync(target.dataDir, { recursive: true });
    client = new PGlite(target.dataDir);
    description = `PGlite in ${target.dataDir}`;
  }
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    db,
    engine: 'pglite',
    description,
    ping: async () => {
      await client.query('select 1');
    },
    close: once(() => client.close()),
  };
}

/** A close that runs once: later calls get the first call's promise. */
function once(close: Database['close']): Database['close'] {
  let closing: Promise<void> | null = null;
  return (options) => {
    closing ??= close(options);
    return closing;
  };
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres (unparseable URL)';
  }
}

/** Rows of `db.execute`, whichever driver ran it (postgres.js gives an array, PGlite `{ rows }`). */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  const rows = (result as { rows?: unknown }).rows;
  return Array.isArray(rows) ? (rows as T[]) : [];
}
