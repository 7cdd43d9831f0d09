import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { TestCertificate } from './test-certificate.js';

export const json = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A loopback HTTPS server with the test certificate; subclasses answer the requests. */
export abstract class LoopbackTls {
  private server: https.Server | undefined;
  private port = 0;

  constructor(private readonly tls: TestCertificate) {}

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;

  async start(): Promise<void> {
    this.server = https.createServer({ key: this.tls.key, cert: this.tls.cert }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => json(res, 500, { error: String(err) }));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server?.closeAllConnections();
      this.server?.close(() => resolve());
    });
  }
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Entra ID's token service for one tenant and one app registration: the OpenID metadata MSAL reads
 * first, and the v2.0 token endpoint, which grants client_credentials for the right secret only.
 */
export class FakeEntra extends LoopbackTls {
  /** Every token request's form, as sent. */
  readonly tokenRequests: URLSearchParams[] = [];
  /** Access tokens handed out, newest last. */
  readonly issued: string[] = [];
  /**
   * The application permissions granted to the app with admin consent: the `roles` claim of each
   * token issued from now on (a token already issued keeps its own, as Entra's do).
   */
  roles: string[];

  constructor(
    tls: TestCertificate,
    private readonly app: {
      tenant: string;
      clientId: string;
      clientSecret: string;
      roles?: readonly string[];
    },
  ) {
    super(tls);
    this.roles = [...(app.roles ?? [])];
  }

  /**
   * An app-only access token shaped as Entra's v1.0 tokens for Graph are: header.payload.signature
   * in base64url, the granted permissions in `roles` (left out when none is granted, as Entra
   * does), `idtyp: app`. The signature is random bytes: only Graph verifies its tokens.
   */
  private accessToken(scope: string): string {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5t: 'fake-entra-key', kid: 'fake-entra-key' };
    const payload = {
      aud: (scope.split(' ').find((s) => s.endsWith('/.default')) ?? scope).replace(/\/\.default$/, ''),
      iss: `https://sts.windows.net/${this.app.tenant}/`,
      iat: now,
      nbf: now,
      exp: now + 3599,
      app_displayname: 'nhsmail-bot',
      appid: this.app.clientId,
      appidacr: '1',
      idp: `https://sts.windows.net/${this.app.tenant}/`,
      idtyp: 'app',
      oid: randomUUID(),
      ...(this.roles.length > 0 ? { roles: [...this.roles] } : {}),
      sub: randomUUID(),
      tid: this.app.tenant,
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
    };
    return `${base64url(header)}.${base64url(payload)}.${randomBytes(256).toString('base64url')}`;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', this.url).pathname;
    const tenantRoot = `${this.url}/${this.app.tenant}`;
    if (req.method === 'GET' && path === `/${this.app.tenant}/v2.0/.well-known/openid-configuration`) {
      json(res, 200, {
        issuer: `${tenantRoot}/v2.0`,
        token_endpoint: `${tenantRoot}/oauth2/v2.0/token`,
        authorization_endpoint: `${tenantRoot}/oauth2/v2.0/authorize`,
        end_session_endpoint: `${tenantRoot}/oauth2/v2.0/logout`,
        jwks_uri: `${tenantRoot}/discovery/v2.0/keys`,
      });
      return;
    }
    if (req.method === 'POST' && path === `/${this.app.tenant}/oauth2/v2.0/token`) {
      const form = new URLSearchParams(await readBody(req));
      this.tokenRequests.push(form);
      if (form.get('grant_type') !== 'client_credentials') {
        json(res, 400, { error: 'unsupported_grant_type', error_description: 'AADSTS70003: grant type' });
      } else if (
        form.get('client_id') !== this.app.clientId ||
        form.get('client_secret') !== this.app.clientSecret
      ) {
        json(res, 401, {
          error: 'invalid_client',
          error_description: 'AADSTS7000215: Invalid client secret provided.',
          error_codes: [7000215],
        });
      } else {
        const token = this.accessToken(form.get('scope') ?? '');
        this.issued.push(token);
        json(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
      }
      return;
    }
    json(res, 404, { error: 'not_found', error_description: `no ${req.method} ${path}` });
  }
}

/** A user as Graph's `GET /v1.0/users?$select=userPrincipalName,mail,signInActivity` returns one. */
export interface FakeUser {
  userPrincipalName: string;
  mail?: string | null;
  signInActivity?: {
    lastSignInDateTime?: string | null;
    lastNonInteractiveSignInDateTime?: string | null;
    lastSuccessfulSignInDateTime?: string | null;
  } | null;
}

/** An error Graph answers with, in its own body shape, optionally with Retry-After. */
export interface FakeFailure {
  status: number;
  code: string;
  message: string;
  retryAfter?: string;
}

/** One request to the Graph stand-in. */
export interface GraphRequestSeen {
  url: string;
  authorization: string | undefined;
  retryAttempt: string | undefined;
}

/**
 * Microsoft Graph's users list, paged with opaque `$skiptoken`s in `@odata.nextLink` as Graph does,
 * answering only bearer tokens the Entra stand-in issued. `failOn` makes chosen requests fail as
 * Graph fails (a 429 with Retry-After, a 403 Authorization_RequestDenied…).
 */
export class FakeGraph extends LoopbackTls {
  users: FakeUser[] = [];
  /** Users per page: small, so that a handful of users spans several pages. */
  pageSize = 3;
  /** What to answer instead of a page, by request number (1 = the first request to Graph). */
  failOn = new Map<number, FakeFailure>();
  readonly requests: GraphRequestSeen[] = [];

  constructor(
    tls: TestCertificate,
    private readonly validToken: (token: string) => boolean,
  ) {
    super(tls);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const authorization = req.headers.authorization;
    const retryAttempt = req.headers['retry-attempt'];
    this.requests.push({
      url: req.url ?? '/',
      authorization,
      retryAttempt: Array.isArray(retryAttempt) ? retryAttempt[0] : retryAttempt,
    });
    const error = (failure: FakeFailure) =>
      json(
        res,
        failure.status,
        {
          error: {
            code: failure.code,
            message: failure.message,
            innerError: { date: new Date().toISOString(), 'request-id': randomBytes(8).toString('hex') },
          },
        },
        failure.retryAfter === undefined ? {} : { 'retry-after': failure.retryAfter },
      );
    if (req.method !== 'GET' || url.pathname !== '/v1.0/users') {
      error({ status: 404, code: 'Request_ResourceNotFound', message: `no ${req.method} ${url.pathname}` });
      return;
    }
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (!token || !this.validToken(token)) {
      error({
        status: 401,
        code: 'InvalidAuthenticationToken',
        message: 'Access token is empty or invalid.',
      });
      return;
    }
    const failure = this.failOn.get(this.requests.length);
    if (failure) {
      error(failure);
      return;
    }
    const skip = url.searchParams.get('$skiptoken');
    const from = skip ? Number(Buffer.from(skip, 'base64url').toString('utf8').replace('page-from-', '')) : 0;
    const value = this.users.slice(from, from + this.pageSize).map((u) => ({
      userPrincipalName: u.userPrincipalName,
      mail: u.mail ?? null,
      signInActivity: u.signInActivity ?? null,
    }));
    const next = from + this.pageSize;
    const token64 = Buffer.from(`page-from-${next}`).toString('base64url');
    json(res, 200, {
      '@odata.context': `${this.url}/v1.0/$metadata#users(userPrincipalName,mail,signInActivity)`,
      value,
      ...(next < this.users.length
        ? {
            '@odata.nextLink': `${this.url}/v1.0/users?$select=userPrincipalName,mail,signInActivity&$top=500&$skiptoken=${token64}`,
          }
        : {}),
    });
  }
}
