import { chmodSync, existsSync, rmSync } from 'node:fs';
import http from 'node:http';
import { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { flushed } from '../../src/commands/audit-csv.js';
import type { Reply } from '../../src/commands/execute.js';
import { describeError } from '../../src/safe-errors.js';

/**
 * When the bot runs on the embedded database it owns the only connection to it, so the operator
 * CLI hands its command to the bot over a Unix socket in DATA_DIR (never a network port).
 */
export interface OperatorRequest {
  words: string[];
  as?: string | undefined;
  now?: string | undefined;
}

/**
 * Runs one operator command. A command whose result is a file's worth of data (`export audit`
 * without --out) writes it to `output` as it goes, and answers with a Reply marked `streamed`.
 */
export type OperatorHandler = (request: OperatorRequest, output: Writable) => Promise<Reply>;

/** The answer is the command's output itself (CSV), streamed, rather than a JSON Reply. */
const STREAMED_TYPE = 'text/csv; charset=utf-8';

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
      // Streamed output goes straight into the response, at the pace the CLI reads it; the
      // head is sent with the first bytes, so a refusal before them is still a JSON Reply.
      const output = new Writable({
        write(chunk: Buffer, _encoding, done) {
          if (!res.headersSent) res.writeHead(200, { 'content-type': STREAMED_TYPE });
          if (res.write(chunk)) done();
          else res.once('drain', () => done());
        },
      });
      handle(request, output).then(
        async (reply) => {
          if (reply.streamed) {
            output.end();
            await finished(output);
            if (!res.headersSent) res.writeHead(200, { 'content-type': STREAMED_TYPE });
            res.end();
            return;
          }
          if (res.headersSent) {
            res.destroy(new Error('the command failed after its output had started'));
            return;
          }
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
        },
        (e: unknown) => {
          // Half a CSV must not pass for a whole one: cut the stream, and the CLI reports the failure.
          if (res.headersSent) {
            res.destroy(e instanceof Error ? e : new Error(String(e)));
            return;
          }
          res
            .writeHead(500, { 'content-type': 'application/json' })
            .end(JSON.stringify({ message: describeError(e) }));
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

/**
 * Sends a command to the running bot; null when no bot is listening. Streamed output (a CSV
 * export) is copied to `output` as it arrives; a stream the bot cut short rejects.
 */
export function forwardToBot(
  socketPath: string,
  request: OperatorRequest,
  output?: Writable,
): Promise<Reply | null> {
  if (!existsSync(socketPath)) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath,
        path: '/command',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // One command, one connection: a kept-alive socket to a bot since restarted would fail (EPIPE).
        agent: false,
      },
      (res) => {
        if (res.statusCode === 200 && res.headers['content-type'] === STREAMED_TYPE) {
          if (!output) {
            res.destroy();
            reject(new Error('the running bot streamed output, but there is nowhere to write it'));
            return;
          }
          pipeline(res, output, { end: false })
            .then(() => flushed(output))
            .then(
              () => resolve({ ok: true, exitCode: 0, command: null, text: '', data: null, streamed: true }),
              (e: unknown) =>
                reject(
                  new Error(
                    `the running bot stopped sending the output before its end, so it is incomplete: ${e instanceof Error ? e.message : String(e)}`,
                  ),
                ),
            );
          return;
        }
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
