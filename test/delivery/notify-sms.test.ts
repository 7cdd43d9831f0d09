import { mkdtemp, readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRuntime, type Runtime } from '../../adapters/runtime.js';
import { type Config, loadConfig } from '../../src/config.js';
import { parseMobile } from '../../src/domain/validation.js';
import { createScratchPostgresDatabase, type ScratchDatabase } from '../support/postgres-scratch.js';
import { everyTableAsText, operator, person } from '../support/service.js';

const SERVICE_ID = '26785a09-ab16-4eb0-8407-a37497a57506';
const SECRET = '3d844edf-8d35-48ac-975b-e847b4f122b0';
const API_KEY = `nhsmail_test-${SERVICE_ID}-${SECRET}`;
const TEMPLATE = 'f33517ff-2a88-4f6e-b855-c550268ce08a';

/** A stand-in for GOV.UK Notify's API: checks the JWT the client signs and records each SMS. */
class FakeNotify {
  readonly sms: Array<Record<string, unknown>> = [];
  failWith: { status: number; message: string } | null = null;
  private server: http.Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
        try {
          const claims = jwt.verify(token, SECRET, { algorithms: ['HS256'] }) as { iss: string };
          if (claims.iss !== SERVICE_ID) throw new Error('wrong service');
        } catch {
          res.writeHead(403, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({ status_code: 403, errors: [{ error: 'AuthError', message: 'Invalid token' }] }),
          );
          return;
        }
        if (this.failWith) {
          res.writeHead(this.failWith.status, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              status_code: this.failWith.status,
              errors: [{ error: 'BadRequestError', message: this.failWith.message }],
            }),
          );
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        this.sms.push({ path: req.url, ...body });
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: '740e5834-3a29-46b4-9a6f-16142fde533a',
            reference: body.reference,
            content: { body: 'Your NHSmail account…', from_number: 'NHSmail' },
            uri: `${this.url}/v2/notifications/740e5834-3a29-46b4-9a6f-16142fde533a`,
            template: { id: TEMPLATE, version: 1, uri: `${this.url}/v2/templates/${TEMPLATE}` },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

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
    expect(made.delivery).toEqual({ route: 'sms', recipient: '07*** ***456' });
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
