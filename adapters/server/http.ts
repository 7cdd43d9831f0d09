import { createHash, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from '../../src/logger.js';
import { settledWithin } from '../../src/service/telemetry.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * The bot's one HTTP server. Adapters register their routes (`POST /slack/events`,
 * `POST /api/messages` in later work) next to the health checks.
 */
export class HttpServer {
  private readonly routes = new Map<string, Handler>();
  readonly server: http.Server;
  /** Requests being answered; a closing server waits for them. */
  private readonly active = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {
    this.server = http.createServer((req, res) => {
      const done = new Promise<void>((resolve) => res.once('close', resolve));
      this.active.add(done);
      void done.then(() => this.active.delete(done));
      this.dispatch(req, res);
    });
  }

  route(method: 'GET' | 'POST', path: string, handler: Handler): this {
    this.routes.set(`${method} ${path}`, handler);
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
   * Stops accepting connections, lets requests already being answered finish for up to
   * `timeoutMs`, then drops whatever is left. Resolves true when every request finished.
   */
  async close(timeoutMs: number): Promise<boolean> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const finished = await settledWithin([...this.active], timeoutMs);
    this.server.closeAllConnections();
    await closed;
    return finished;
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const handler = this.routes.get(`${req.method} ${path}`);
    if (!handler) {
      const known = [...this.routes.keys()].some((k) => k.endsWith(` ${path}`));
      sendJson(res, known ? 405 : 404, { error: known ? 'method not allowed' : 'not found' });
      return;
    }
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: unknown) => {
        this.logger.error({ err, path }, 'request failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.end();
      });
  }
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
  sendJson(res, 401, { error: 'the shared secret (Authorization: Bearer …) is missing or wrong' });
}
