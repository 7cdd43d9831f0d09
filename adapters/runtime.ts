import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { type Database, openDatabase, redactUrl } from '../db/index.js';
import { migrate } from '../db/migrate.js';
import { errnoOf, isErrnoObject, storageFailure } from '../db/storage-errors.js';
import type { Config } from '../src/config.js';
import { InfrastructureError } from '../src/domain/errors.js';
import type { Logger } from '../src/logger.js';
import { createLifecycle, type Lifecycle } from '../src/service/lifecycle.js';
import type { AddressDirectory, CredentialDelivery } from '../src/service/ports.js';
import type { Telemetry } from '../src/service/telemetry.js';
import { EnvelopeLetters } from './delivery/envelope.js';
import { NotifySms } from './delivery/notify-sms.js';
import { RoutedDelivery } from './delivery/routes.js';
import { describeFailure } from './failure.js';

/** The composition root shared by the bot process and the operator CLI. */
export interface Runtime {
  database: Database;
  lifecycle: Lifecycle;
  close(): Promise<void>;
}

export class DatabaseBusyError extends Error {
  override readonly name = 'DatabaseBusyError';
}

/** The embedded database could not use DATA_DIR: the disk full or read-only, a file where a directory belongs… */
export class DataDirError extends InfrastructureError {
  override readonly name = 'DataDirError';
}

/** Why the database could not be opened, said as one: DATA_DIR's own failure first, else which database and what to check. */
const openFailure = (config: Config, e: unknown): unknown =>
  dataDirError(config, e) ?? databaseUnavailable(config, e);

/**
 * A failure of DATA_DIR said as one: PGlite throws its file system's errors as bare objects
 * (`{ name: 'ErrnoError', errno: 51 }`) and a full disk as a failed query, neither of which says
 * where. Null when the failure is not DATA_DIR's.
 */
function dataDirError(config: Config, e: unknown): DataDirError | null {
  if (config.database.engine !== 'pglite') return null;
  const storage = storageFailure(e);
  const where = (e as { path?: unknown } | null)?.path;
  const within = typeof where === 'string' ? path.relative(config.dataDir, path.resolve(where)) : null;
  const inDataDir =
    isErrnoObject(e) || (within !== null && !within.startsWith('..') && !path.isAbsolute(within));
  const errno = storage ?? (inDataDir ? errnoOf(e) : null);
  if (!errno) return null;
  return new DataDirError(
    errno.code,
    `The embedded database could not ${storage ? 'write to' : 'use'} DATA_DIR ${config.dataDir} (${errno.code}: ${errno.text}).${errno.code === 'ENOSPC' ? ' Free some space on that disk, or set DATA_DIR to a larger one.' : ' Check that DATA_DIR is a directory this user may write to (or set DATABASE_URL to use PostgreSQL).'}`,
    { cause: e },
  );
}

/** Where the running bot listens for operator commands when it owns the embedded database. */
export const operatorSocketPath = (config: Config) => path.join(config.dataDir, 'nhsmail.sock');

/** Envelope letters always; SMS through GOV.UK Notify when configured (otherwise refused, never faked). */
export function defaultDelivery(config: Config): CredentialDelivery {
  return new RoutedDelivery({
    envelope: new EnvelopeLetters(config.envelopeDir),
    ...(config.notify ? { sms: new NotifySms(config.notify) } : {}),
  });
}

/**
 * Opens the database (PostgreSQL, or PGlite in DATA_DIR), applies migrations and builds the
 * lifecycle service. PGlite can be opened by one process only: a lock in DATA_DIR guards it.
 *
 * When `signal` aborts (the bot told to stop while starting), it closes what it opened, cutting
 * short a migration on PostgreSQL (its transaction rolls back; PGlite finishes it first),
 * releases the lock, and rejects with the signal's reason.
 */
export async function openRuntime(
  config: Config,
  options: {
    delivery?: CredentialDelivery;
    /** The directory asked which new addresses it already holds (DIRECTORY=entra, in the bot). */
    addressDirectory?: AddressDirectory;
    lockRetries?: number;
    telemetry?: Telemetry;
    logger?: Logger;
    signal?: AbortSignal;
  } = {},
): Promise<Runtime> {
  const { signal } = options;
  signal?.throwIfAborted();
  let release: (() => Promise<void>) | null = null;
  if (config.database.engine === 'pglite') {
    try {
      mkdirSync(config.dataDir, { recursive: true });
      // Told at once: the lock below would retry a DATA_DIR it cannot write for seconds.
      accessSync(config.dataDir, constants.W_OK);
    } catch (e) {
      throw openFailure(config, e);
    }
    try {
      release = await lockfile.lock(config.dataDir, {
        lockfilePath: path.join(config.dataDir, 'pglite.lock'),
        stale: 15_000,
        update: 5_000,
        retries: { retries: options.lockRetries ?? 0, minTimeout: 200, maxTimeout: 1_000 },
      });
    } catch (e) {
      if ((e as { code?: string }).code === 'ELOCKED') {
        throw new DatabaseBusyError(
          `The embedded database in ${config.dataDir} is in use by another process (the bot starting up, or another command). Try again in a moment, or set DATABASE_URL to use PostgreSQL.`,
        );
      }
      throw openFailure(config, e);
    }
  }
  let database: Database | null = null;
  const interrupt = () => void database?.close({ interrupt: true }).catch(() => {});
  signal?.addEventListener('abort', interrupt, { once: true });
  try {
    signal?.throwIfAborted();
    const opened = openDatabase(config.database, {
      onStorageFailure: (failure) =>
        options.logger?.error(
          { storage: failure.code, dataDir: config.dataDir },
          `the embedded database could not write to DATA_DIR: ${failure.code} (${failure.text}); /readyz answers 503 until it can`,
        ),
    });
    database = opened;
    await migrate(opened);
    const lifecycle = await createLifecycle({
      db: opened.db,
      policy: config.policy,
      delivery: options.delivery ?? defaultDelivery(config),
      ...(options.telemetry ? { telemetry: options.telemetry } : {}),
      hrDataKey: config.hrDataKey,
      logger: options.logger,
      // Every process that changes accounts (the bot, the CLI on PostgreSQL) queues the effects
      // the bot's directory worker applies; with DIRECTORY unset none are queued (ledger mode).
      directoryEffects: config.directory !== null,
      addressDirectory: options.addressDirectory,
    });
    signal?.throwIfAborted();
    return {
      database: opened,
      lifecycle,
      close: async () => {
        await opened.close();
        await release?.();
      },
    };
  } catch (e) {
    await database?.close().catch(() => {});
    await release?.();
    // Once aborted, the error is whatever closing the database did to the query running.
    throw signal?.aborted ? signal.reason : openFailure(config, e);
  } finally {
    signal?.removeEventListener('abort', interrupt);
  }
}

/**
 * A database that could not be opened for a reason outside the bot (PostgreSQL not reachable,
 * DATA_DIR not writable) as an InfrastructureError saying which database and what to check; a
 * bug is left as it is.
 */
function databaseUnavailable(config: Config, e: unknown): unknown {
  const failure = describeFailure(e);
  if (failure.kind !== 'infrastructure' || e instanceof InfrastructureError) return e;
  const { database } = config;
  const [which, check] =
    database.engine === 'postgres'
      ? [
          `The database ${redactUrl(database.url)}`,
          'Check that PostgreSQL is running and reachable from here, and that DATABASE_URL is right.',
        ]
      : [
          `The embedded database in ${config.dataDir}`,
          'Check that DATA_DIR is a directory this user may write to, on a disk with space (or set DATABASE_URL to use PostgreSQL).',
        ];
  return new InfrastructureError(
    failure.cause ?? 'DATABASE_UNAVAILABLE',
    `${which} could not be opened (${failure.message}). ${check}`,
    { cause: e },
  );
}
