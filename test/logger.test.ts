import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { boltLogger } from '../adapters/slack/logger.js';
import type { Db } from '../db/index.js';
import { accounts } from '../db/schema.js';
import { createLogger, maskMobiles, routeConsoleToLogger } from '../src/logger.js';
import { describeError, safeText } from '../src/safe-errors.js';
import { describeEachEngine } from './support/engines.js';

function capture() {
  const lines: string[] = [];
  const logger = createLogger({ level: 'trace', destination: { write: (line: string) => lines.push(line) } });
  return { logger, text: () => lines.join('') };
}

describe('logs keep personal data and secrets out', () => {
  it('masks UK mobile numbers wherever they appear', () => {
    expect(maskMobiles('SMS to 07700 900123 failed')).toBe('SMS to 07*** ***123 failed');
    expect(maskMobiles('+447700900456 and +44 7700 900789')).toBe('07*** ***456 and 07*** ***789');
    expect(maskMobiles('ODS RXX1 07/11/2026 0161 496 0000')).toBe('ODS RXX1 07/11/2026 0161 496 0000');
    const { logger, text } = capture();
    logger.warn(
      { reason: 'Notify refused 07700900123', nested: { note: 'call +447700900456' } },
      'to 07700 900789',
    );
    expect(text()).not.toMatch(/7700\s?900(123|456|789)/);
    expect(text()).toContain('07*** ***123');
  });

  it('redacts passwords, tokens, secrets, headers, bodies and payloads by name', () => {
    const { logger, text } = capture();
    logger.info(
      {
        temporaryPassword: 'Pw-very-secret-1',
        request: { temporary_password: 'Pw-very-secret-2', headers: { authorization: 'Bearer tok-3' } },
        token: 'xoxb-secret-4',
        secret: 'shh-5',
        body: { text: 'provision --given Sam' },
        payload: { address: 'sam@nhs.net' },
      },
      'something',
    );
    for (const secret of [
      'Pw-very-secret-1',
      'Pw-very-secret-2',
      'tok-3',
      'xoxb-secret-4',
      'shh-5',
      'provision --given',
    ]) {
      expect(text()).not.toContain(secret);
    }
    expect(text()).toContain('[redacted]');
  });

  it('logs an error as its message and code, never the HTTP request or response hung on it', () => {
    const { logger, text } = capture();
    const err = Object.assign(new Error('Request failed with status 500'), {
      statusCode: 500,
      code: 'slack_webapi_platform_error',
      request: { headers: { Authorization: 'Bearer xoxb-leaky-token' }, body: 'token=xoxb-leaky-token' },
      config: { headers: { Authorization: 'Bearer xoxb-leaky-token' } },
      response: { data: { echo: 'password Pw-leak' } },
    });
    logger.error({ err }, 'delivery failed');
    const line = JSON.parse(text()) as { err: Record<string, unknown> };
    expect(line.err).toMatchObject({
      type: 'Error',
      message: 'Request failed with status 500',
      statusCode: 500,
    });
    expect(text()).not.toContain('xoxb-leaky-token');
    expect(text()).not.toContain('Pw-leak');
  });
});

/** A person's row as the service writes it: each value is personal data. */
const ROW = {
  address: 'zebedee.quartermaine@nhs.net',
  given: 'Zebedee',
  family: 'Quartermaine',
  dob: '1987-03-14',
  mobileHash: 'a3f1c9e07b5d4e2f8a6c1b9d0e7f3a5c2b8d4e6f0a1c3e5b7d9f1a3c5e7b9d1f',
  mobileMasked: '07*** ***461',
  regBody: 'GMC',
  regNumber: '7654329',
};
const PERSONAL = ['zebedee', 'quartermaine', '1987-03-14', 'a3f1c9e07b5d', '***461', '7654329'];

/** The error drizzle throws when the database refuses the row: here, for want of its organisation. */
async function failedInsert(db: Db): Promise<unknown> {
  const now = new Date('2026-11-23T09:00:00Z');
  return db
    .insert(accounts)
    .values({
      ...ROW,
      kind: 'person',
      status: 'pending',
      homeOrg: 'RZZ',
      createdAt: now,
      statusChangedAt: now,
    })
    .then(
      () => {
        throw new Error('the insert was expected to fail');
      },
      (e: unknown) => e,
    );
}

describeEachEngine('a failed query in the log', (ctx) => {
  it('shows the statement and PostgreSQL’s cause, never the parameters or the row, however it is logged', async () => {
    const err = await failedInsert(ctx.db.db);
    // The leak being closed: drizzle's own message carries every value.
    expect(String((err as Error).message)).toContain('Quartermaine');
    const { logger, text } = capture();
    logger.error({ err }, 'request failed');
    logger.error(err);
    logger.error({ err });
    logger.warn({ error: err }, 'as error');
    logger.child({ component: 'teams' }).error({ cause: err }, 'as cause, in a child');
    logger.info({ nested: { failures: [err] } }, 'deep in an object');
    logger.error('interpolated: %s', err);
    logger.error(`by hand: ${(err as Error).message}`);
    logger.error(String(err));
    for (const value of PERSONAL) expect(text().toLowerCase()).not.toContain(value);
    expect(text()).not.toContain('params');
    expect(text()).not.toContain('is not present in table');

    const first = JSON.parse(text().split('\n')[0] ?? '') as { err: Record<string, unknown> };
    expect(first.err).toMatchObject({
      type: 'DrizzleQueryError',
      message: expect.stringContaining('insert into "accounts"'),
      cause: {
        type: 'DatabaseError',
        code: '23503',
        constraint: 'accounts_home_org_organisations_ods_fk',
        table: 'accounts',
        message:
          'insert or update on table "accounts" violates foreign key constraint "accounts_home_org_organisations_ods_fk"',
      },
    });
    expect(first.err.stack).toMatch(/^DrizzleQueryError: Failed query: insert into "accounts"[^\n]*\n\s+at /);
    expect(describeError(err)).toMatch(
      /^DrizzleQueryError: Failed query: insert into "accounts" .*; caused by DatabaseError 23503: insert or update on table "accounts" violates foreign key constraint "accounts_home_org_organisations_ods_fk"$/,
    );
  });

  it('blanks a value PostgreSQL quotes in its message, and a literal in the statement', async () => {
    const err = await ctx.db.db
      .execute(sql`select ${'1987-02-30'}::date, ${sql.raw("'Zebedee'")} as given`)
      .then(
        () => null,
        (e: unknown) => e,
      );
    const { logger, text } = capture();
    logger.error({ err }, 'failed');
    expect(text()).not.toContain('1987-02-30');
    expect(text()).not.toContain('Zebedee');
    const line = JSON.parse(text()) as { err: { message: string; cause: { code: string; message: string } } };
    expect(line.err.message).toBe("Failed query: select $1::date, '…' as given");
    expect(line.err.cause).toMatchObject({
      code: '22008',
      message: 'date/time field value out of range: "…"',
    });
  });
});

describe('errors elsewhere in the log', () => {
  it('drops drizzle’s parameters from any text, even when they span lines', () => {
    const message =
      'Failed query: insert into "accounts" ("given") values ($1)\nparams: Zebedee,14 Acacia Road\nNorthtown';
    expect(safeText(message)).toBe('Failed query: insert into "accounts" ("given") values ($1)');
    expect(safeText(`Error: ${message}\n    at insert (session.js:1:1)\n    at run (x.js:2:2)`)).toBe(
      'Error: Failed query: insert into "accounts" ("given") values ($1)\n    at insert (session.js:1:1)\n    at run (x.js:2:2)',
    );
  });

  it('names the errno of PGlite’s bare ErrnoError instead of printing [object Object]', () => {
    // What PGlite throws when its file system fails: not an Error, and no message.
    const errno = { name: 'ErrnoError', errno: 51 };
    expect(describeError(errno)).toBe('ErrnoError: ENOSPC: no space left on device');
    const { logger, text } = capture();
    logger.error({ err: errno }, 'start failed');
    expect(JSON.parse(text())).toMatchObject({
      err: { type: 'ErrnoError', code: 'ENOSPC', errno: 51, storage: 'ENOSPC' },
    });
  });

  it('Bolt’s logger bridge logs an error as `err`, its text in one line and without parameters', () => {
    const { logger, text } = capture();
    const err = Object.assign(new Error('Failed query: select $1\nparams: Quartermaine'), {
      query: 'select $1',
      params: ['Quartermaine'],
    });
    boltLogger(logger).error('An unhandled error occurred while Bolt processed an event', err);
    expect(text()).not.toContain('Quartermaine');
    expect(JSON.parse(text())).toMatchObject({
      component: 'slack',
      msg: 'An unhandled error occurred while Bolt processed an event DrizzleQueryError: Failed query: select $1',
      err: { type: 'DrizzleQueryError', message: 'Failed query: select $1' },
    });
  });

  it('routes the console into the log: one JSON line each, objects redacted, errors reduced', () => {
    const { logger, text } = capture();
    const restore = routeConsoleToLogger(logger);
    try {
      const err = Object.assign(new Error('Request failed'), {
        request: { headers: { authorization: 'Bearer leaky-token' } },
      });
      console.error(err);
      console.warn('BadRequest: %s', 'Missing activity');
      console.log('Activity Log:', {
        type: 'message',
        text: 'provision --given Zebedee',
        from: { id: '29:x' },
      });
    } finally {
      restore();
    }
    const lines = text().trim().split('\n');
    expect(lines).toHaveLength(3);
    const [error, warning, log] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(error).toMatchObject({
      source: 'console',
      level: 50,
      msg: 'Error: Request failed',
      err: { type: 'Error' },
    });
    expect(warning).toMatchObject({ source: 'console', level: 40, msg: 'BadRequest: Missing activity' });
    expect(log).toMatchObject({ source: 'console', level: 30 });
    expect(text()).not.toContain('leaky-token');
    expect(text()).not.toContain('Zebedee');
    expect(String(log?.msg)).toContain("type: 'message'");
  });
});
