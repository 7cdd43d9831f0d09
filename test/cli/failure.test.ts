import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { describeFailure, failureDetail } from '../../adapters/failure.js';
import { openDatabase } from '../../db/index.js';
import { organisations } from '../../db/schema.js';
import { InfrastructureError } from '../../src/domain/errors.js';
import { closedPort } from '../support/closed-port.js';
import { describeEachEngine } from '../support/engines.js';

/**
 * What the CLI prints for a failure no rule expected (issue 12): real errors from both engines
 * and from Node, never mocks of them. The line must tell the machine's failures (exit 3) from the
 * bot's bugs (exit 70), and never carry a query's SQL or parameters, which drizzle puts in its
 * "Failed query: … params: …" message.
 */

const SECRET = 'Jane Secret-Doe 07700 900123';

describeEachEngine('a failed query, described', (ctx) => {
  it('is a bug, told by the driver’s message, without the SQL or its parameters', async () => {
    const row = { ods: 'RXX', name: SECRET, kind: 'trust' as const, createdAt: new Date() };
    await ctx.db.db.insert(organisations).values(row);
    const error = await ctx.db.db
      .insert(organisations)
      .values(row)
      .then(
        () => null,
        (e: unknown) => e,
      );
    // drizzle's own message holds the parameters: what the CLI prints must not.
    expect(String(error)).toContain(SECRET);
    const failure = describeFailure(error);
    expect(failure).toMatchObject({ kind: 'internal', cause: '23505' });
    expect(failure.message).toMatch(/duplicate key value violates unique constraint/);
    for (const text of [failure.message, failureDetail(error)]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toMatch(/Failed query|params:|insert into/i);
    }
    expect(failureDetail(error)).toMatch(/^DrizzleQueryError: a query failed.*\n\s+at /);
  });

  it('leaves out a value the server quotes back from a parameter', async () => {
    const error = await ctx.db.db.execute(sql`select ${SECRET}::integer`).then(
      () => null,
      (e: unknown) => e,
    );
    const failure = describeFailure(error);
    expect(failure).toMatchObject({ kind: 'internal', cause: '22P02' });
    expect(failure.message).toMatch(/invalid input syntax for type integer \(SQLSTATE 22P02\)$/);
    expect(`${failure.message}\n${failureDetail(error)}`).not.toContain(SECRET);
  });

  it.skipIf(ctx.engine === 'pglite')(
    'is the machine’s failure when the server ends the connection (PostgreSQL only: PGlite is one backend in this process, with no server to end it)',
    async () => {
      const error = await ctx.db.db.execute(sql`select pg_terminate_backend(pg_backend_pid())`).then(
        () => null,
        (e: unknown) => e,
      );
      // postgres.js reports the server's 57P01 as the connection it closed.
      expect(describeFailure(error)).toMatchObject({ kind: 'infrastructure', cause: 'CONNECTION_CLOSED' });
    },
  );
});

describe('describeFailure', () => {
  it('tells a database that cannot be reached as the machine’s failure, in one line', async () => {
    const port = await closedPort();
    const database = openDatabase({ engine: 'postgres', url: `postgres://u:pw@127.0.0.1:${port}/x` });
    const error = await database.db.execute(sql`select ${SECRET}`).then(
      () => null,
      (e: unknown) => e,
    );
    await database.close();
    const failure = describeFailure(error);
    expect(failure).toMatchObject({ kind: 'infrastructure', cause: 'ECONNREFUSED' });
    expect(failure.message).toMatch(/ECONNREFUSED 127\.0\.0\.1/);
    expect(failure.message).not.toContain(SECRET);
    expect(failure.message).not.toContain('\n');
  });

  it('tells a file system failure as the machine’s, and an InfrastructureError by its own message', async () => {
    const { mkdir } = await import('node:fs/promises');
    const error = await mkdir('/proc/no/such/place').then(
      () => null,
      (e: unknown) => e,
    );
    expect(describeFailure(error)).toMatchObject({ kind: 'infrastructure', cause: 'ENOENT' });
    const wrapped = new InfrastructureError('EISDIR', 'x.csv could not be written.', { cause: error });
    expect(describeFailure(wrapped)).toEqual({
      kind: 'infrastructure',
      message: 'x.csv could not be written.',
      cause: 'EISDIR',
    });
  });

  it('tells anything else as a bug, by its first line', () => {
    expect(describeFailure(new TypeError('x is not a function\nsecond line'))).toEqual({
      kind: 'internal',
      message: 'TypeError: x is not a function second line',
      cause: undefined,
    });
    expect(describeFailure('thrown text')).toMatchObject({
      kind: 'internal',
      message: 'string: thrown text',
    });
  });
});
