import http from 'node:http';
import jwt from 'jsonwebtoken';

const SERVICE_ID = '26785a09-ab16-4eb0-8407-a37497a57506';
const SECRET = '3d844edf-8d35-48ac-975b-e847b4f122b0';
export const NOTIFY_API_KEY = `nhsmail_test-${SERVICE_ID}-${SECRET}`;
export const NOTIFY_TEMPLATE = 'f33517ff-2a88-4f6e-b855-c550268ce08a';

/** A stand-in for GOV.UK Notify's API: checks the JWT the client signs and records each SMS. */
export class FakeNotify {
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
            template: { id: NOTIFY_TEMPLATE, version: 1, uri: `${this.url}/v2/templates/${NOTIFY_TEMPLATE}` },
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
