import { mkdirSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema.js';
import { type Errno, storageFailure } from './storage-errors.js';

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
  /**
   * Round-trips a trivial query; used by /readyz. On PGlite in a data directory, once a query has
   * failed for want of disk (ENOSPC, EIO, EROFS…), it also writes a little to the directory, and
   * rejects with `StorageUnavailable` until that succeeds: reads may still work on a full disk.
   */
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

/** The disk under the database refuses writes: why, and where. */
export class StorageUnavailable extends Error {
  override readonly name = 'StorageUnavailable';
  constructor(
    readonly failure: Errno,
    readonly where: string,
  ) {
    super(`the database cannot write to ${where}: ${failure.code} (${failure.text})`);
  }
}

export interface DatabaseOptions {
  /** Called when a query first fails for want of disk (and again after writes have worked since). */
  onStorageFailure?: (failure: Errno) => void;
}

export function openDatabase(target: DatabaseTarget, options: DatabaseOptions = {}): Database {
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
  if ('instance' in target) {
    const client = target.instance;
    return {
      db: drizzlePglite(client, { schema }) as unknown as Db,
      engine: 'pglite',
      description: 'PGlite (in memory)',
      ping: async () => {
        await client.query('select 1');
      },
      close: once(() => client.close()),
    };
  }
  const { dataDir } = target;
  mkdirSync(dataDir, { recursive: true });
  const client = new PGlite(dataDir);
  let failing: Errno | null = null;
  onFailure(client, (e) => {
    const failure = storageFailure(e);
    if (!failure) return;
    if (!failing) options.onStorageFailure?.(failure);
    failing = failure;
  });
  return {
    db: drizzlePglite(client, { schema }) as unknown as Db,
    engine: 'pglite',
    description: `PGlite in ${dataDir}`,
    ping: async () => {
      await client.query('select 1');
      const failed = failing;
      if (!failed) return;
      try {
        await writeProbe(dataDir);
        failing = null;
      } catch (e) {
        throw new StorageUnavailable(storageFailure(e) ?? failed, dataDir);
      }
    },
    close: once(() => client.close()),
  };
}

/**
 * Calls `seen` with whatever a query, statement or transaction of this client rejects with (and
 * rejects with it still): PGlite has no hook of its own, and a full disk shows only there.
 */
function onFailure(client: PGlite, seen: (e: unknown) => void): void {
  for (const name of ['query', 'exec', 'transaction'] as const) {
    const original = client[name] as unknown as (...args: unknown[]) => Promise<unknown>;
    Object.defineProperty(client, name, {
      configurable: true,
      value: (...args: unknown[]) =>
        original.apply(client, args).catch((e: unknown) => {
          seen(e);
          throw e;
        }),
    });
  }
}

/** Writes 64 KiB to the directory, synced, and removes it: rejects as the disk does. */
async function writeProbe(dir: string): Promise<void> {
  const file = path.join(dir, '.write-probe');
  try {
    const handle = await open(file, 'w');
    try {
      await handle.write(Buffer.alloc(64 * 1024));
      await handle.sync();
    } finally {
      await handle.close();
    }
  } finally {
    await rm(file, { force: true });
  }
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
