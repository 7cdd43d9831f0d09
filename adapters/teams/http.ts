import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'botbuilder';

const MAX_BODY = 1024 * 1024;

/** Reads and parses a JSON request body; null when it is not JSON (botbuilder then answers 400). */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk as Buffer);
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** Node's request, in the shape CloudAdapter.process reads (Express/Restify-like). */
export const botRequest = (req: IncomingMessage, body: Record<string, unknown> | null): Request => ({
  body: body ?? undefined,
  headers: req.headers,
  method: req.method,
});

/** Node's response, with the status/header/send/end methods CloudAdapter.process calls. */
export function botResponse(res: ServerResponse): Response {
  return {
    socket: res.socket,
    status(code: number) {
      res.statusCode = code;
      return this;
    },
    header(name: string, value: unknown) {
      res.setHeader(name, String(value));
      return this;
    },
    send(body?: unknown) {
      if (body === undefined) return this;
      if (typeof body === 'object' && !Buffer.isBuffer(body)) {
        res.setHeader('content-type', 'application/json');
        res.write(JSON.stringify(body));
      } else res.write(String(body));
      return this;
    },
    end(...args: unknown[]) {
      res.end(...(args as []));
      return this;
    },
  };
}
