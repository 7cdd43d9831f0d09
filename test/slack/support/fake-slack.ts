import { createHmac } from 'node:crypto';
import http from 'node:http';
import { checkMessage, checkView } from '../../support/block-kit.js';

/** One call the bot made to the Slack Web API, or one POST to a response_url. */
export interface Recorded {
  path: string;
  /** Web API method (`chat.postMessage`), or `response_url` for responses. */
  method: string;
  body: Record<string, unknown>;
  authorization: string | undefined;
  /** What the stand-in answered (e.g. the ts of a posted message). */
  response?: Record<string, unknown>;
  /** Set when chaos refused the call, or Slack's limits did (the error Slack answers): it was not accepted. */
  refused?: string;
  /** Which of Block Kit's documented limits the call broke, when it was refused for that. */
  problems?: string[];
}

/** Methods whose arguments are a message (`text`, `blocks`), and those whose `view` is a view. */
const MESSAGE_METHODS = new Set(['chat.postMessage', 'chat.update', 'chat.postEphemeral', 'response_url']);
const VIEW_METHODS = new Set(['views.open', 'views.update', 'views.push', 'views.publish']);

/** What Slack would refuse in a call, and the error it answers with; undefined when it would take it. */
export function blockKitRefusal(
  method: string,
  body: Record<string, unknown>,
): { error: string; problems: string[] } | undefined {
  if (MESSAGE_METHODS.has(method)) {
    const problems = checkMessage(body);
    if (problems.length === 0) return undefined;
    return {
      error: problems.every((p) => p.startsWith('/text ')) ? 'msg_too_long' : 'invalid_blocks',
      problems,
    };
  }
  if (VIEW_METHODS.has(method)) {
    const problems = checkView(body.view);
    return problems.length === 0 ? undefined : { error: 'invalid_arguments', problems };
  }
  return undefined;
}

/**
 * A small stand-in for Slack on loopback: it answers the Web API methods the bot calls
 * (auth.test, users.info from a directory of profiles, chat.*, views.*) and accepts POSTs to
 * response URLs, recording everything so tests can see exactly what the bot sent.
 */
export class FakeSlack {
  readonly calls: Recorded[] = [];
  /**
   * Calls refused because they broke Block Kit's documented limits (also in `calls`). Slack refuses
   * these as the stand-in does; `stop()` fails the test file if any are left here, so every message
   * the suite makes the bot send is checked. A test that sends one on purpose takes it with `takeInvalid()`.
   */
  readonly invalid: Recorded[] = [];
  /** Slack user id → profile e-mail (what users.info returns with users:read.email). */
  readonly emails = new Map<string, string>();
  private server: http.Server | undefined;
  private port = 0;
  private waiters: Array<() => void> = [];
  private seq = 0;
  /**
   * Chaos for chat.postMessage: given the call's number, answer normally, or refuse with 429 and
   * a Retry-After, or fail with 500. Refused calls are recorded with `refused` set.
   */
  postMessageChaos:
    | ((n: number, body: Record<string, unknown>) => 'ok' | '429' | '500' | 'channel_not_found')
    | null = null;
  private postMessages = 0;
  /** While true, chat.postMessage is received but not answered until `releaseHeld()` (a slow Slack). */
  holdPostMessage = false;
  private readonly held: Array<() => void> = [];

  /** How many chat.postMessage calls are waiting for an answer. */
  get heldCount(): number {
    return this.held.length;
  }

  /** Answers (and records) every held chat.postMessage. */
  releaseHeld(): void {
    for (const answer of this.held.splice(0)) answer();
  }
  /** What apps.connections.open hands out: the Socket Mode WebSocket to connect to. */
  socketUrl = '';

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  /** A fresh response_url, as Slack puts in each slash command and interaction. */
  responseUrl(): string {
    this.seq++;
    return `http://127.0.0.1:${this.port}/commands/T0001/${this.seq}/resp${this.seq}`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '/';
        const body = parseBody(raw, req.headers['content-type'] ?? '');
        const method = path.startsWith('/api/') ? (path.slice(5).split('?')[0] ?? '') : 'response_url';
        if (method === 'chat.postMessage' && this.postMessageChaos) {
          const verdict = this.postMessageChaos(++this.postMessages, body);
          if (verdict !== 'ok') {
            this.calls.push({
              path,
              method,
              body,
              authorization: req.headers.authorization,
              refused: verdict,
            });
            if (verdict === '429')
              res
                .writeHead(429, { 'retry-after': '2', 'content-type': 'application/json' })
                .end('{"ok":false,"error":"ratelimited"}');
            else if (verdict === '500')
              res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream connect error');
            else
              res
                .writeHead(200, { 'content-type': 'application/json' })
                .end(JSON.stringify({ ok: false, error: verdict }));
            return;
          }
        }
        const broken = blockKitRefusal(method, body);
        if (broken) {
          const answer = {
            ok: false,
            error: broken.error,
            errors: broken.problems,
            response_metadata: { messages: broken.problems.map((p) => `[ERROR] ${p}`) },
          };
          const call = { path, method, body, authorization: req.headers.authorization, response: answer };
          const refused = { ...call, refused: broken.error, problems: broken.problems };
          this.calls.push(refused);
          this.invalid.push(refused);
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
          for (const wake of this.waiters.splice(0)) wake();
          return;
        }
        const respond = () => {
          const answer = this.answer(method, body);
          this.calls.push({ path, method, body, authorization: req.headers.authorization, response: answer });
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
          for (const wake of this.waiters.splice(0)) wake();
        };
        if (method === 'chat.postMessage' && this.holdPostMessage) this.held.push(respond);
        else respond();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  /** Stops; throws if the bot sent anything Slack would have refused for its blocks and no test took it. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
    const left = this.takeInvalid();
    if (left.length > 0) {
      throw new Error(
        `Slack would have refused ${left.length} call(s) for breaking Block Kit's limits:\n${left
          .map((c) => `${c.method}: ${(c.problems ?? []).join('; ')}`)
          .join('\n')}`,
      );
    }
  }

  /** The calls refused for breaking Block Kit's limits so far, taken out of `invalid`. */
  takeInvalid(): Recorded[] {
    return this.invalid.splice(0);
  }

  private answer(method: string, body: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://nhs-test.slack.com/',
          team: 'NHS Test',
          user: 'nhsmail',
          team_id: 'T0001',
          user_id: 'UBOT',
          bot_id: 'BBOT',
        };
      case 'users.info': {
        const id = String(body.user ?? '');
        const email = this.emails.get(id);
        if (!email) return { ok: false, error: 'user_not_found' };
        return {
          ok: true,
          user: {
            id,
            team_id: 'T0001',
            name: id.toLowerCase(),
            is_bot: false,
            profile: { email, real_name: id },
          },
        };
      }
      case 'apps.connections.open':
        return this.socketUrl
          ? { ok: true, url: this.socketUrl }
          : { ok: false, error: 'not_allowed_token_type' };
      case 'users.lookupByEmail': {
        const email = String(body.email ?? '').toLowerCase();
        const id = [...this.emails].find(([, e]) => e.toLowerCase() === email)?.[0];
        return id
          ? { ok: true, user: { id, team_id: 'T0001', profile: { email } } }
          : { ok: false, error: 'users_not_found' };
      }
      case 'chat.postMessage':
        return {
          ok: true,
          channel: body.channel,
          ts: `1700000000.${String(this.calls.length).padStart(6, '0')}`,
          message: body,
        };
      case 'chat.update':
        return { ok: true, channel: body.channel, ts: body.ts };
      case 'views.open':
      case 'views.publish':
      case 'views.update':
        return { ok: true, view: { id: `V${this.calls.length}`, ...body } };
      case 'response_url':
        return { ok: true };
      default:
        return { ok: true };
    }
  }

  /** Calls of one method (or `response_url`), in order. */
  of(method: string): Recorded[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Waits until `predicate` holds over the recorded calls (the bot answers after its ack). */
  async waitFor(predicate: (calls: Recorded[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.calls)) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for Slack calls; saw: ${this.calls.map((c) => c.method).join(', ') || 'none'}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

function parseBody(raw: string, contentType: string): Record<string, unknown> {
  if (raw === '') return {};
  if (contentType.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    // The Web API client sends nested arguments (blocks, view) as JSON strings in form fields.
    out[k] = /^[[{]/.test(v) ? (JSON.parse(v) as unknown) : v;
  }
  return out;
}

/** Slack's request signature: v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}"). */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** POSTs a body to the bot as Slack would, signed unless told otherwise. */
export async function postToBot(
  url: string,
  body: string,
  options: {
    secret: string;
    contentType: string;
    timestamp?: number;
    signature?: string;
    headers?: Record<string, string>;
  },
): Promise<Response> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': options.contentType,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': options.signature ?? slackSignature(options.secret, timestamp, body),
      ...options.headers,
    },
    body,
  });
}
