import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackTestBot } from '../slack/support/slack-bot.js';
import { queryRows } from '../support/engines.js';
import { expectHttpError } from '../support/http-errors.js';
import { activeAccount, operator, person } from '../support/service.js';

const SECRET = 'hr-feed-secret-0123456789abcdef-xyz';
const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'hr', name));

/** HR systems push their extract over HTTP: the same import, the same rules, the same report. */
describe('POST /hr/starters and /hr/leavers', () => {
  const bot = new SlackTestBot({ HR_FEED_SECRET: SECRET });
  const post = (route: string, body: Buffer | string, secret = SECRET) =>
    fetch(bot.url.replace('/slack/events', route), {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'text/csv' },
      body,
    });
  const starters = async () =>
    (await queryRows<{ n: number }>(bot.database.db, sql`select count(*)::int as n from hr_starters`))[0]?.n;

  beforeAll(async () => {
    await bot.start();
    const l = bot.lifecycle;
    await l.addOrganisation(operator(), { ods: 'RXX', name: 'Northtown', kind: 'trust' });
    await l.addOrganisation(operator(), { ods: 'RYY', name: 'Southville', kind: 'trust' });
    await l.grantRole(operator(), { address: 'la@nhs.net', role: 'local-admin', org: 'RXX' });
    bot.slack.emails.set('U0LA', 'la@nhs.net');
    await bot.command('U0LA', 'subscribe --org RXX', { channel_id: 'C0RXX' });
    await activeAccount(l, 'RYY', person('Devendra', 'Patel', { reg: { body: 'GMC', number: '7654321' } }));
  });
  afterAll(async () => {
    await bot.stop();
  });

  it('refuses a request without the shared secret, and one not in the documented layout, changing nothing', async () => {
    expect((await post('/hr/starters', fixture('starters-messy.csv'), 'wrong-secret')).status).toBe(401);
    const wrong = await post('/hr/starters', fixture('starters-wrong-layout.csv'));
    expect(wrong.status).toBe(400);
    expect(JSON.stringify(await wrong.json())).toContain('FILE_LAYOUT');
    expect(await starters()).toBe(0);
    // An empty ?as= must not quietly run as the operator (issue 12).
    const empty = await post('/hr/starters?as=', fixture('starters-messy.csv'));
    expect(empty.status).toBe(400);
    expect(JSON.stringify(await empty.json())).toContain('is not an email address');
    expect(await starters()).toBe(0);
  });

  it('answers every refusal, and Slack a malformed request, in the one error shape (issue 13)', async () => {
    await expectHttpError(
      await post('/hr/starters', fixture('starters-messy.csv'), 'wrong-secret'),
      'UNAUTHORISED',
    );
    await expectHttpError(await post('/hr/starters', fixture('starters-wrong-layout.csv')), 'FILE_LAYOUT');
    await expectHttpError(await post('/hr/leavers', ''), 'FILE_EMPTY');
    await expectHttpError(await post('/hr/starters?as=', fixture('starters-messy.csv')), 'INVALID_ADDRESS');
    await expectHttpError(await post('/hr/nothing', ''), 'NOT_FOUND');
    await expectHttpError(
      await fetch(bot.url.replace('/slack/events', '/hr/starters')),
      'METHOD_NOT_ALLOWED',
    );
    const slack = await fetch(bot.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'null',
    });
    await expectHttpError(slack, 'MALFORMED_REQUEST');
    expect(await starters()).toBe(0);
  });

  it('bounds the body, each row and what it echoes of bad input (issue 12)', async () => {
    const header =
      'Employee_Number,Family_Name,Given_Name,Date_of_Birth,Mobile,Org_ODS,Start_Date,Delivery\n';
    // A bad name of 20,000 characters with a terminal escape: quoted short and escaped, not whole.
    const longName = `\u001b[31m${'x'.repeat(20_000)}`;
    const bad = await post(
      '/hr/starters?dry-run=true',
      `${header}E9001,Doe,${longName},1990-01-01,,RXX,2026-11-30,envelope\n`,
    );
    expect(bad.status).toBe(200);
    const report = await bad.text();
    expect(report.length).toBeLessThan(2_000);
    // The escape is written out (JSON of the message's `\u001b`), never sent as the character.
    expect(report).not.toContain(String.fromCharCode(27));
    expect(report).toContain('\\\\u001b[31m');
    // One row of 1 MiB is not an HR extract: refused as the layout, not held or echoed.
    const huge = await post(
      '/hr/starters',
      `${header}E9002,Doe,${'y'.repeat(1024 * 1024)},1990-01-01,,RXX,2026-11-30,envelope\n`,
    );
    expect(huge.status).toBe(400);
    expect((await huge.text()).length).toBeLessThan(2_000);
    // A body over the limit is refused before it is read, and the connection is closed.
    // (On a connection of its own: the bot closes it, as it should, under the rest of the upload.)
    const over = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      const req = http.request(
        bot.url.replace('/slack/events', '/hr/starters'),
        {
          method: 'POST',
          agent: false,
          headers: {
            authorization: `Bearer ${SECRET}`,
            'content-type': 'text/csv',
            'content-length': String(65 * 1024 * 1024),
          },
        },
        (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
        },
      );
      req.on('error', reject);
      req.write(Buffer.alloc(1024, 0x61));
    });
    expect(over).toEqual({ status: 413, connection: 'close' });
    expect(await starters()).toBe(0);
  });

  it('refuses an empty body as empty, and a body that stops being CSV part-way whole (issue 12)', async () => {
    for (const route of ['/hr/starters', '/hr/leavers']) {
      for (const body of ['', '\r\n\r\n']) {
        const empty = await post(route, body);
        expect(empty.status).toBe(400);
        const { error } = (await empty.json()) as { error: { code: string; message: string } };
        expect(error.code).toBe('FILE_EMPTY');
        expect(error.message).toMatch(
          /^The request body is empty: expected a header line naming the columns/,
        );
      }
    }
    // The right header and nothing else is an extract with no rows.
    const headerOnly = await post('/hr/leavers', 'employee_number,leaving_date\r\n');
    expect(headerOnly.status).toBe(200);
    expect(await headerOnly.json()).toMatchObject({ rows: 0, errors: [] });
    // Two good rows (they would be scheduled), then a quote never closed: nothing is applied.
    const header =
      'Employee_Number,Given_Name,Family_Name,Date_of_Birth,Mobile,Org_ODS,Start_Date,Delivery\n';
    const good = (n: number) => `E700${n},Tess,Tail${'x'.repeat(n)},1990-01-0${n},,RXX,2027-06-01,envelope\n`;
    const broken = await post('/hr/starters', `${header}${good(1)}${good(2)}"E7003,Una,Closed\n`);
    expect(broken.status).toBe(400);
    const { error } = (await broken.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('FILE_LAYOUT');
    expect(error.message).toMatch(/at line 4\).*Nothing was imported\.$/);
    expect(await starters()).toBe(0);
  });

  it('imports a starters extract as the named person, reports per row, and tells the organisation’s channel', async () => {
    const res = await post('/hr/starters?as=la@nhs.net', fixture('starters-messy.csv'));
    expect(res.status).toBe(200);
    const report = (await res.json()) as Record<string, unknown>;
    expect(report).toMatchObject({ rows: 7, created: 1, scheduled: 1, existing: 1 });
    expect(report.duplicates).toEqual([
      { row: 5, employeeNumber: 'E1004', address: 'devendra.patel@nhs.net' },
    ]);
    // RYY's row is not this local administrator's to import.
    expect((report.errors as Array<{ row: number }>).map((e) => e.row)).toEqual([4, 7, 8]);
    await bot.slack.waitFor((calls) =>
      calls.some((c) => c.method === 'chat.postMessage' && c.body.channel === 'C0RXX'),
    );
    const summary = bot.slack.of('chat.postMessage').find((c) => c.body.channel === 'C0RXX');
    expect(String(summary?.body.text)).toBe(
      'HR starters file imported for RXX: 1 account created, 1 scheduled for their provisioning day; 1 skipped as people who already have an account (devendra.patel@nhs.net): mark them as joiners instead; 2 rows rejected (the importer has the reasons).',
    );
    const again = (await (
      await post('/hr/starters?as=la@nhs.net', fixture('starters-messy.csv'))
    ).json()) as {
      created: number;
      existing: number;
    };
    expect(again).toMatchObject({ created: 0, existing: 3 });
  });

  it('imports leavers by employee number', async () => {
    const res = await post('/hr/leavers', 'employee_number,leaving_date\r\nE1001,2020-01-01\r\n');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ rows: 1, marked: 1, errors: [] });
    expect((await bot.lifecycle.status(operator(), { address: 'ada.okafor@nhs.net' })).account.status).toBe(
      'leaver',
    );
  });
});
