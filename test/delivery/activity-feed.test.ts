import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotUnderTest } from '../support/bot-process.js';
import { expectHttpError } from '../support/http-errors.js';
import { operator, person } from '../support/service.js';

const SECRET = 'feed-secret-0123456789-abcdefghijklmnop';

describe('POST /activity, the sign-in feed', () => {
  const bot = new BotUnderTest();
  let jane = '';
  const post = (body: unknown, secret = SECRET) =>
    fetch(`http://127.0.0.1:${bot.port}/activity`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(secret ? { authorization: `Bearer ${secret}` } : {}),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  beforeAll(async () => {
    await bot.start({ ACTIVITY_FEED_SECRET: SECRET });
    await bot.lifecycle.addOrganisation(operator(), {
      ods: 'RXX',
      name: 'Northtown Hospitals',
      kind: 'trust',
    });
    const past = new Date(Date.now() - 10 * 24 * 3600 * 1000);
    const made = await bot.lifecycle.provision(operator(past), { ...person('Jane', 'Doe'), org: 'RXX' });
    jane = made.account.address;
    await bot.lifecycle.firstLogin(operator(past), { address: jane, mfa: true });
  });
  afterAll(async () => {
    await bot.stop();
  });

  it('records reported sign-ins with the shared secret, and reports what it could not use', async () => {
    const at = new Date(Date.now() - 3600 * 1000).toISOString();
    const res = await post({
      events: [
        { address: jane, at },
        { address: 'who@gmail.com', at },
        { address: 'ghost@nhs.net', at },
      ],
    });
    expect(res.status).toBe(200);
    const report = (await res.json()) as {
      recorded: number;
      unknown: string[];
      invalid: Array<{ row: number }>;
    };
    expect(report).toMatchObject({ recorded: 1, unknown: ['ghost@nhs.net'] });
    expect(report.invalid.map((i) => i.row)).toEqual([1]);
    expect((await bot.lifecycle.status(operator(), { address: jane })).account.lastActivityAt).toBe(at);
    const trail = await bot.lifecycle.auditTrail(operator(), { address: jane });
    expect(trail.at(-1)).toMatchObject({ action: 'activity', platform: 'import' });
  });

  it('refuses a wrong or missing secret and a malformed body, with no effect', async () => {
    const before = await bot.lifecycle.auditTrail(operator(), { address: jane });
    const at = new Date().toISOString();
    expect((await post({ events: [{ address: jane, at }] }, 'not-the-secret')).status).toBe(401);
    expect((await post({ events: [{ address: jane, at }] }, '')).status).toBe(401);
    expect((await post('{"events": ')).status).toBe(400);
    // An empty body, or one without events, is not a report of none (issue 12).
    expect((await post('')).status).toBe(400);
    expect((await post({})).status).toBe(400);
    expect((await post({ events: 'nope' })).status).toBe(400);
    // Events of the wrong shape are refused whole, with the rows, never a TypeError (issue 12).
    const misshapen = await post({ events: [{ address: jane, at }, null, { address: { x: 1 }, at }, 7] });
    expect(misshapen.status).toBe(400);
    const body = await misshapen.text();
    expect(body).toContain('"rows":[1,2,3]');
    expect(body).not.toContain('TypeError');
    expect(await bot.lifecycle.auditTrail(operator(), { address: jane })).toEqual(before);
  });

  it('answers its refusals in the one error shape, the misshapen rows as details (issue 13)', async () => {
    const at = new Date().toISOString();
    await expectHttpError(await post({ events: [{ address: jane, at }] }, 'not-the-secret'), 'UNAUTHORISED');
    await expectHttpError(await post(''), 'INVALID_BODY');
    await expectHttpError(await post({ events: 'nope' }), 'INVALID_BODY');
    const misshapen = await expectHttpError(
      await post({ events: [{ address: jane, at }, null] }),
      'INVALID_EVENTS',
    );
    expect(misshapen.details).toEqual({ rows: [1] });
  });
});
