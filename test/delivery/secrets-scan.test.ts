import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { SlackTestBot } from '../slack/support/slack-bot.js';
import { pdfText } from '../support/pdf-text.js';
import { everyTableAsText, operator } from '../support/service.js';
import { FakeNotify, NOTIFY_API_KEY, NOTIFY_TEMPLATE } from './support/fake-notify.js';

/**
 * The one place a temporary password may be seen is where it is delivered: the SMS handed to
 * GOV.UK Notify, or the Day 1 letter. Accounts are made from Slack (slash command, DM and form)
 * by SMS and by envelope, the bot logs at trace level, notifications flow to channels and DMs,
 * and then every log line, every message the bot sent to Slack and every table is scanned.
 */
describe('no temporary password or full mobile number outside its delivery', () => {
  const notify = new FakeNotify();
  const lines: string[] = [];
  const logger = createLogger({ level: 'trace', destination: { write: (line: string) => lines.push(line) } });
  let envelopes = '';
  let bot: SlackTestBot;
  const NAS = 'U0NAS';
  const MOBILES = ['07700 900123', '07700 900456', '07700 900789'];

  beforeAll(async () => {
    await notify.start();
    envelopes = await mkdtemp(path.join(tmpdir(), 'nhsmail-envelopes-'));
    bot = new SlackTestBot(
      {
        NOTIFY_API_KEY,
        NOTIFY_SMS_TEMPLATE_ID: NOTIFY_TEMPLATE,
        NOTIFY_BASE_URL: notify.url,
        ENVELOPE_DIR: envelopes,
      },
      logger,
    );
    await bot.start();
    const l = bot.lifecycle;
    await l.addOrganisation(operator(), { ods: 'RXX', name: 'Northtown Hospitals', kind: 'trust' });
    await l.grantRole(operator(), { address: 'nas.admin@nhs.net', role: 'nas-admin' });
    bot.slack.emails.set(NAS, 'nas.admin@nhs.net');
    await bot.command(NAS, 'subscribe --org RXX', { channel_id: 'C0RXX' });
  });
  afterAll(async () => {
    await bot.stop();
    await notify.stop();
    await rm(envelopes, { recursive: true, force: true });
  });

  it('is found only in the SMS and the letter', async () => {
    expect(
      (await bot.command(NAS, `provision --given Sam --family Sms --org RXX --mobile "${MOBILES[0]}"`)).text,
    ).toContain('Created sam.sms@nhs.net (pending)');
    const dm = bot.slack.of('chat.postMessage').length;
    await bot.directMessage(
      NAS,
      `provision --given Dee --family Dm --org RXX --mobile "${MOBILES[1]}"`,
      'Ev0SECRET1',
    );
    await bot.slack.waitFor((calls) => calls.filter((c) => c.method === 'chat.postMessage').length > dm);
    const form = await bot.submitForm(NAS, 'form_provision', {
      given: 'Fay',
      family: 'Form',
      org: 'RXX',
      mobile: MOBILES[2] ?? '',
    });
    expect(form.status).toBe(200);
    expect(
      (await bot.command(NAS, 'provision --given Eve --family Envelope --org RXX --delivery envelope')).text,
    ).toContain('Created eve.envelope@nhs.net (pending)');
    // Make the accounts' lives move on, so notifications reach channels and holders too.
    for (const address of ['sam.sms@nhs.net', 'dee.dm@nhs.net', 'fay.form@nhs.net', 'eve.envelope@nhs.net']) {
      // Known to Slack before the leaver notice is queued, so the worker finds them to DM.
      bot.slack.emails.set(`U0${address.slice(0, 3).toUpperCase()}`, address);
      await bot.command(NAS, `first-login ${address} --mfa`);
      await bot.command(NAS, `leaver ${address}`);
    }
    await bot.slack.waitFor(
      (calls) =>
        calls.filter((c) => c.method === 'chat.postMessage' && String(c.body.channel).startsWith('U0'))
          .length >= 4,
    );

    const passwords = notify.sms.map(
      (sms) => (sms.personalisation as Record<string, string>).temporary_password ?? '',
    );
    const [letter] = await readdir(envelopes);
    const printed = pdfText(await readFile(path.join(envelopes, letter ?? ''))).text;
    const fromLetter = /Temporary password:\s+(\S+)/.exec(printed)?.[1] ?? '';
    passwords.push(fromLetter);
    expect(passwords).toHaveLength(4);
    for (const password of passwords) expect(password).toMatch(/^\S{16}$/);

    const logs = lines.join('');
    const chat = JSON.stringify(bot.slack.calls);
    const tables = await everyTableAsText(bot.database);
    expect(logs).toContain('"command":"provision"');
    expect(chat).toContain('sam.sms@nhs.net');
    expect(tables).toContain('sam.sms@nhs.net');
    for (const password of passwords) {
      expect(logs).not.toContain(password);
      expect(chat).not.toContain(password);
      expect(tables).not.toContain(password);
    }
    for (const mobile of MOBILES) {
      const digits = mobile.replace(/\D/g, '').slice(1);
      for (const haystack of [logs, chat, tables]) {
        expect(haystack).not.toContain(digits);
        expect(haystack).not.toContain(mobile);
      }
    }
  });
});
