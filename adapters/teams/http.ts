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

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * What is wrong with a posted activity, or null when botbuilder can take it: a type, a
 * conversation id and a serviceUrl to answer at (without them botbuilder fails with a 500 and its
 * own words). Without authentication (the Emulator, outside production) nothing vouches for the
 * serviceUrl, so the bot answers only one on this machine: it never calls out to an address a
 * stranger named.
 */
export function activityProblem(body: Record<string, unknown>, authenticated: boolean): string | null {
  if (typeof body.type !== 'string') return 'not a Bot Framework activity';
  const conversation = body.conversation as { id?: unknown } | null | undefined;
  if (typeof conversation !== 'object' || conversation === null || typeof conversation.id !== 'string') {
    return 'the activity has no conversation id';
  }
  if (typeof body.serviceUrl !== 'string') return 'the activity has no serviceUrl';
  let url: URL;
  try {
    url = new URL(body.serviceUrl);
  } catch {
    return 'the activity’s serviceUrl is not a URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return 'the activity’s serviceUrl is not http(s)';
  if (!authenticated && !LOOPBACK.has(url.hostname)) {
    return 'without authentication (no MicrosoftAppId) the bot answers only a serviceUrl on this machine, as the Bot Framework Emulator sends';
  }
  return null;
}
