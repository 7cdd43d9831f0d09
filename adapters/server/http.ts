import { createHash, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { finished } from 'node:stream/promises';
import type { Logger } from '../../src/logger.js';
import { InFlight } from '../../src/service/telemetry.js';
import { httpError, sendError } from '../http-error.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Where the bot is in its life: only a ready bot serves the routes that need its database. */
export type Phase = 'starting' | 'ready' | 'stopping';

/** Seconds a client is asked to wait before retrying a route the bot cannot serve yet (or any more). */
const RETRY_AFTER_SECONDS = 5;

/**
 * The bot's one HTTP server: the health checks, and the routes of the adapters and feeds.
 */
export class HttpServer {
  private readonly routes = new Map<string, Handler>();
  /** Routes that need the database: declared before it is open, served only while the bot is ready. */
  private readonly readyOnly = new Set<string>();
  readonly server: http.Server;
  /** Requests being answered; a closing server waits for them, and for any that arrive meanwhile. */
  private readonly active = new InFlight();

  constructor(
    private readonly logger: Logger,
    private readonly phase: () => Phase = () => 'ready',
  ) {
    this.server = http.createServer((req, res) => {
      void this.active.track(new Promise<void>((resolve) => res.once('close', resolve)));
      this.dispatch(req, res);
    });
  }

  route(method: 'GET' | 'POST', path: string, handler: Handler): this {
    this.routes.set(`${method} ${path}`, handler);
    return this;
  }

  /**
   * Declares a route this configuration will serve once the bot is ready; `route` gives its
   * handler when the database is open. While the bot is starting or stopping it answers 503 with
   * Retry-After, which Slack and the Bot Framework retry, rather than 404 (which they take as
   * "no such bot") or a refused connection.
   */
  whenReady(method: 'POST', path: string): this {
    this.readyOnly.add(`${method} ${path}`);
    return this;
  }

  listen(port: number, host?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /**
   * Stops accepting connections, lets requests being answered finish for up to `timeoutMs`
   * (including those that still arrive on open keep-alive connections), then drops whatever is
   * left. Resolves true when every request finished.
   */
  async close(timeoutMs: number): Promise<boolean> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const finished = await this.active.drain(timeoutMs);
    this.server.closeAllConnections();
    await closed;
    return finished;
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const key = `${req.method} ${path}`;
    const phase = this.phase();
    const handler = this.readyOnly.has(key) && phase !== 'ready' ? unavailable(phase) : this.routes.get(key);
    if (!handler) {
      const known = [...this.routes.keys(), ...this.readyOnly].some((k) => k.endsWith(` ${path}`));
      sendError(
        res,
        known
          ? httpError('METHOD_NOT_ALLOWED', `${req.method} is not served at ${path}.`)
          : httpError('NOT_FOUND', `Nothing is served at ${path}.`),
      );
      return;
    }
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: unknown) => {
        this.logger.error({ err, path }, 'request failed');
        if (!res.headersSent) {
          sendError(
            res,
            httpError('INTERNAL_ERROR', 'The bot failed to answer this request; the log says why.'),
          );
        } else res.end();
      });
  }
}

/**
 * 503 with Retry-After, once the request body is read (a client still sending it would otherwise
 * see its connection closed under it). A stopping bot also closes the connection, so that a load
 * balancer's next request opens one to another replica.
 */
function unavailable(phase: Exclude<Phase, 'ready'>): Handler {
  return async (req, res) => {
    req.resume();
    await finished(req).catch(() => {});
    res.writeHead(503, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'retry-after': String(RETRY_AFTER_SECONDS),
      ...(phase === 'stopping' ? { connection: 'close' } : {}),
    });
    res.end(JSON.stringify({ status: phase }));
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * A check of the shared secret a feed sends as `Authorization: Bearer …`, compared in constant
 * time (digests of equal length, whatever was sent).
 */
export function bearerSecret(secret: string): (req: IncomingMessage) => boolean {
  const expected = digest(secret);
  return (req) =>
    timingSafeEqual(digest(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? ''), expected);
}

/** The answer to a feed request without the right secret. */
export function refuseSecret(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  sendError(
    res,
    httpError('UNAUTHORISED', 'The shared secret (Authorization: Bearer …) is missing or wrong.'),
  );
}
