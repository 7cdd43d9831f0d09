import { chmodSync, existsSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { Reply } from '../../src/commands/execute.js';

/**
 * When the bot runs on the embedded database it owns the only connection to it, so the operator
 * CLI hands its command to the bot over a Unix socket in DATA_DIR (never a network port).
 */
export interface OperatorRequest {
  words: string[];
  as?: string | undefined;
  now?: string | undefined;
}

export type OperatorHandler = (request: OperatorRequest) => Promise<Reply>;

export function serveOperatorChannel(socketPath: string, handle: OperatorHandler): Promise<http.Server> {
  if (existsSync(socketPath)) rmSync(socketPath);
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/command') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let request: OperatorRequest;
      try {
        request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OperatorRequest;
      } catch {
        res.writeHead(400).end();
        return;
      }
      handle(request).then(
        (reply) => {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
        },
        (e: unknown) => {
          res
            .writeHead(500, { 'content-type': 'application/json' })
            .end(JSON.stringify({ message: String(e) }));
        },
      );
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      // Whoever can connect acts as the operator: only the bot's own user may.
      chmodSync(socketPath, 0o600);
      resolve(server);
    });
  });
}

/** Sends a command to the running bot; null when no bot is listening. */
export function forwardToBot(socketPath: string, request: OperatorRequest): Promise<Reply | null> {
  if (!existsSync(socketPath)) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, path: '/command', method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            reject(new Error(`the running bot could not run the command: ${body}`));
            return;
          }
          resolve(JSON.parse(body) as Reply);
        });
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => {
      // A socket file left by a bot that died: nobody is listening, so open the database directly.
      if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') resolve(null);
      else reject(e);
    });
    req.end(JSON.stringify(request));
  });
}
