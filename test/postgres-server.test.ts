import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withAdminConnection } from './support/postgres-admin.js';
import { installedBinaries, startPostgresServer } from './support/postgres-server.js';

/**
 * The suite's own PostgreSQL server as root, which it runs as the user `postgres`: binaries in a
 * directory that user cannot traverse (a checkout under a 0700 home, say) must not stop it.
 */
describe.runIf(process.getuid?.() === 0)('the test PostgreSQL server, started by root', () => {
  const made: string[] = [];
  const privateDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-private-')); // mode 0700, owned by root
    made.push(dir);
    return dir;
  };
  afterAll(async () => {
    await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('starts from binaries in a directory only root can enter', async () => {
    const hidden = path.join(await privateDir(), 'native');
    await cp(installedBinaries(), hidden, { recursive: true, verbatimSymlinks: true });
    const server = await startPostgresServer('secret', { binaries: hidden });
    try {
      const [row] = await withAdminConnection(
        server.url,
        (sql) => sql<{ user: string }[]>`select current_user as user`,
      );
      expect(row?.user).toBe('postgres');
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('says in one line what to do when even the temporary directory is out of its reach', async () => {
    const before = process.env.TMPDIR;
    const hiddenTmp = await privateDir();
    process.env.TMPDIR = hiddenTmp;
    try {
      const started = startPostgresServer('secret', { binaries: installedBinaries() });
      await expect(started).rejects.toThrow(
        `The test suite's PostgreSQL runs as the unprivileged user postgres, which cannot reach ${hiddenTmp}: set TMPDIR to a directory other users can traverse, or set TEST_DATABASE_URL to a server of your own.`,
      );
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
    }
  }, 60_000);
});
