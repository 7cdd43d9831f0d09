import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRuntime, type Runtime } from '../../adapters/runtime.js';
import { type Config, loadConfig } from '../../src/config.js';
import { parseMobile } from '../../src/domain/validation.js';
import { createScratchPostgresDatabase, type ScratchDatabase } from '../support/postgres-scratch.js';
import { everyTableAsText, operator, person } from '../support/service.js';
import { NOTIFY_API_KEY as API_KEY, FakeNotify, NOTIFY_TEMPLATE as TEMPLATE } from './support/fake-notify.js';

describe('temporary passwords by SMS through GOV.UK Notify', () => {
  const notify = new FakeNotify();
  let scratch: ScratchDatabase;
  let dir: string;
  let config: Config;
  let runtime: Runtime;

  beforeAll(async () => {
    await notify.start();
    scratch = await createScratchPostgresDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'nhsmail-notify-'));
    config = loadConfig({
      DATABASE_URL: scratch.url,
      DATA_DIR: dir,
      NOTIFY_API_KEY: API_KEY,
      NOTIFY_SMS_TEMPLATE_ID: TEMPLATE,
      NOTIFY_BASE_URL: notify.url,
    });
    runtime = await openRuntime(config);
    await runtime.lifecycle.addOrganisation(operator(), {
      ods: 'RXX',
      name: 'Northtown Hospitals',
      kind: 'trust',
    });
  });
  afterAll(async () => {
    await runtime.close();
    await notify.stop();
    await scratch.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends the SMS with the template and personalisation, and keeps the password nowhere else', async () => {
    const made = await runtime.lifecycle.provision(operator(), {
      ...person('Sue', 'Mobile', { mobile: parseMobile('07700 900456'), delivery: undefined }),
      org: 'RXX',
    });
    expect(made.delivery).toEqual({ route: 'sms', recipient: '07*** ***456', state: 'sent' });
    expect(notify.sms).toHaveLength(1);
    const sms = notify.sms[0] as {
      path: string;
      template_id: string;
      phone_number: string;
      reference: string;
      personalisation: Record<string, string>;
    };
    expect(sms.path).toBe('/v2/notifications/sms');
    expect(sms.template_id).toBe(TEMPLATE);
    expect(sms.phone_number).toBe('+447700900456');
    expect(sms.reference).toBe('sue.mobile@nhs.net');
    expect(sms.personalisation).toMatchObject({
      given: 'Sue',
      address: 'sue.mobile@nhs.net',
      organisation: 'Northtown Hospitals',
    });
    const password = sms.personalisation.temporary_password ?? '';
    expect(password).toMatch(/^.{16}$/);
    const stored = await everyTableAsText(runtime.database);
    expect(stored).not.toContain(password);
    expect(stored).not.toContain('7700900456');
    // No envelope letter either: SMS was the route.
    await expect(readdir(config.envelopeDir)).rejects.toThrow();
  });

  it('creates nothing when Notify refuses, and says so without the password', async () => {
    notify.failWith = { status: 400, message: 'Can’t send to this recipient using a team-only API key' };
    const before = notify.sms.length;
    const attempt = runtime.lifecycle.provision(operator(), {
      ...person('Tom', 'Refused', { mobile: parseMobile('07700 900789'), delivery: 'sms' }),
      org: 'RXX',
    });
    await expect(attempt).rejects.toThrow(
      /SMS_NOT_SENT|GOV.UK Notify did not send the SMS to 07\*\*\* \*\*\*789 \(400: Can’t send/,
    );
    notify.failWith = null;
    expect(notify.sms.length).toBe(before);
    await expect(runtime.lifecycle.status(operator(), { address: 'tom.refused@nhs.net' })).rejects.toThrow(
      'not an account',
    );
  });
});
