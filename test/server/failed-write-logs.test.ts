import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRuntime } from '../../adapters/runtime.js';
import { loadConfig } from '../../src/config.js';
import { BotProcess, get, until } from '../support/bot-child.js';
import { createScratchPostgresDatabase, type ScratchDatabase } from '../support/postgres-scratch.js';
import { killLeftoverChildren } from '../support/processes.js';
import { operator } from '../support/service.js';

const SECRET = 'hr-feed-secret-0123456789abcdef-xyz';
const today = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date());

/** One HR starter: every value here is personal data that must not reach the log. */
const PERSON = {
  employeeNumber: 'E70419',
  given: 'Zebedee',
  family: 'Quartermaine',
  dob: '1987-03-14',
  mobile: '07700 900461',
  reg: 'GMC:7654329',
};
const LEAKS = [
  PERSON.given,
  PERSON.family,
  PERSON.dob,
  '900461',
  '***461',
  '7654329',
  // Drizzle's message quotes the parameters comma-separated: the surname next to the date, say.
  `${PERSON.family},${PERSON.dob}`,
];

/**
 * A database write that fails (issue 12, item 5): the real bot process imports an HR starter over
 * HTTP, and the database fails the new account's insert. Drizzle's error
 * says "Failed query: … params: <name>,<date of birth>,<mobile hash>,…" and PostgreSQL's detail
 * "Failing row contains (…)": the log must say what failed (the SQLSTATE, the constraint, the
 * table) and nothing of the person.
 */
describe.each(['pglite', 'postgres'] as const)('a failed database write, on %s', (engine) => {
  let dir = '';
  let scratch: ScratchDatabase | undefined;
  let bot: BotProcess;
  let port = 0;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-failed-write-'));
    scratch = engine === 'postgres' ? await createScratchPostgresDatabase() : undefined;
    const env = { DATA_DIR: dir, ...(scratch ? { DATABASE_URL: scratch.url } : {}) };
    const seed = await openRuntime(loadConfig(env));
    await seed.lifecycle.addOrganisation(operator(), { ods: 'RXX', name: 'Northtown', kind: 'trust' });
    // A failure of the database, not of the row (SQLSTATE class 53, insufficient resources): an
    // import rejects a row the database refuses (a check constraint, class 23) alone and goes on,
    // so only a failure like this one fails the request.
    await seed.database.db.execute(
      sql.raw(`create function accounts_refused_in_test() returns trigger language plpgsql as $$
        begin
          raise exception 'the disk is full (in test)'
            using errcode = '53100', table = 'accounts', constraint = 'accounts_refused_in_test';
        end $$`),
    );
    await seed.database.db.execute(
      sql.raw(
        'create trigger accounts_refused_in_test before insert on accounts for each row execute function accounts_refused_in_test()',
      ),
    );
    await seed.close();
    bot = new BotProcess({ ...env, HR_FEED_SECRET: SECRET, SWEEP_CATCH_UP: 'false' });
    port = await bot.port();
    await until(async () => (await get(port, '/readyz')).status === 200, 60_000);
  }, 120_000);
  afterAll(async () => {
    bot?.child.kill('SIGTERM');
    await bot?.exited;
    killLeftoverChildren();
    await scratch?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('logs the PostgreSQL cause and none of the personal data the row carried', async () => {
    const csv = [
      'employee_number,given_name,family_name,date_of_birth,mobile,org_ods,start_date,registration,delivery',
      `${PERSON.employeeNumber},${PERSON.given},${PERSON.family},${PERSON.dob},${PERSON.mobile},RXX,${today()},${PERSON.reg},envelope`,
    ].join('\n');
    const res = await fetch(`http://127.0.0.1:${port}/hr/starters`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'text/csv' },
      body: csv,
    });
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain(PERSON.family);
    await until(() => bot.output.includes('request failed'), 10_000);
    for (const leak of LEAKS) expect(bot.output.toLowerCase()).not.toContain(leak.toLowerCase());
    // The mobile's hash (64 hex digits) and the address made from the name are personal data too.
    expect(bot.output).not.toMatch(/[0-9a-f]{64}/);
    expect(bot.output).not.toMatch(/zebedee/i);
    expect(bot.output).not.toContain('params');
    expect(bot.output).not.toContain('Failing row contains');
    const failed = bot.output
      .split('\n')
      .filter((l) => l.includes('request failed'))
      .map((l) => JSON.parse(l) as { err: { message: string; cause: { message: string } } })[0];
    if (!failed) throw new Error(`no "request failed" line:\n${bot.output}`);
    // What happened, for whoever reads the log: the statement, and the database's own cause.
    expect(failed.err).toMatchObject({
      type: 'DrizzleQueryError',
      cause: { code: '53100', constraint: 'accounts_refused_in_test', table: 'accounts' },
    });
    expect(failed.err.message).toContain('insert into "accounts"');
    expect(failed.err.cause.message).toContain('the disk is full (in test)');
  });
});
