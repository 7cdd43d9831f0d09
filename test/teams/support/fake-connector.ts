import http from 'node:http';
import { validateAdaptiveCard } from '../../support/schemas.js';

export interface ConnectorCall {
  method: string;
  path: string;
  conversationId: string;
  /** The activity replied to, or updated, when the path names one. */
  activityId: string | undefined;
  body: Record<string, unknown>;
  authorization: string | undefined;
  /** When it arrived, on the stand-in's `clock` (a test's virtual clock, or the real one). */
  at: number;
  /** Arrival order among all calls and refusals, so tests can order attempts that share a time. */
  seq: number;
  /** Set when chaos refused a proactive post: it was not accepted (kept in `refused`, not `calls`). */
  refused?: Exclude<ConnectorVerdict, 'ok'>;
  /** Why an activity was refused as Teams would (its card fails the 1.5 schema, or it is too big); kept in `invalid`. */
  problems?: string[];
}

const ADAPTIVE_CARD = 'application/vnd.microsoft.card.adaptive';

/**
 * "Format your bot messages": a bot message may be about 100 KB, counted as UTF-16 (images as
 * links); past it the Connector answers 413 MessageSizeTooBig.
 */
export const MESSAGE_SIZE_LIMIT = 100 * 1024;

/** What is wrong with the Adaptive Cards an activity carries, attachment by attachment. */
export function cardProblems(activity: Record<string, unknown>): string[] {
  const attachments = Array.isArray(activity.attachments) ? (activity.attachments as unknown[]) : [];
  return attachments.flatMap((a, i) => {
    const attachment = (a ?? {}) as { contentType?: unknown; content?: unknown };
    if (attachment.contentType !== ADAPTIVE_CARD) return [];
    return validateAdaptiveCard(attachment.content).map((p) => `attachments/${i}: ${p}`);
  });
}

/** The size of an activity as Teams counts it: two bytes a UTF-16 code unit. */
export const messageSize = (activity: Record<string, unknown>) => JSON.stringify(activity).length * 2;

/** How chaos answers one proactive post: accept it, throttle it (429), fail it (500) or refuse it for good. */
export type ConnectorVerdict = 'ok' | '429' | '500' | '403' | '404';

export interface TeamsMember {
  id: string;
  name: string;
  aadObjectId: string;
  email?: string;
  userPrincipalName?: string;
}

/**
 * A stand-in for the Bot Connector service on loopback: the bot's serviceUrl points here. It
 * records replies (POST v3/conversations/{id}/activities/{activityId}), proactive sends (POST
 * v3/conversations/{id}/activities) and updates (PUT …/activities/{id}), and answers member look-ups.
 */
export class FakeConnector {
  /** What the Connector accepted, in order of arrival. */
  readonly calls: ConnectorCall[] = [];
  /** Proactive posts that chaos refused, with what they were answered. */
  readonly refused: ConnectorCall[] = [];
  /**
   * Activities (replies, proactive posts, updates) refused with 400 because an Adaptive Card in
   * them fails the Adaptive Cards 1.5 schema, or with 413 because they are over Teams' size limit. `stop()` fails the test file if any are left here, so
   * every card the suite makes the bot send is checked; a test that sends one on purpose takes it
   * with `takeInvalid()`.
   */
  readonly invalid: ConnectorCall[] = [];
  readonly members = new Map<string, TeamsMember>();
  /**
   * Chaos for proactive posts (POST v3/conversations/{id}/activities), as FakeSlack's
   * postMessageChaos: given the post's number and conversation, accept it, or answer 429 with a
   * `Retry-After` of `retryAfterSeconds`, 500, or 403/404 (bot removed, conversation gone).
   */
  activitiesChaos:
    | ((n: number, conversationId: string, body: Record<string, unknown>) => ConnectorVerdict)
    | null = null;
  retryAfterSeconds = 2;
  /** Stamps each call's `at`: set it to a test's virtual clock. */
  clock: () => number = () => Date.now();
  private server: http.Server | undefined;
  private port = 0;
  private seq = 0;
  private arrivals = 0;
  private proactivePosts = 0;

  get serviceUrl(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const url = new URL(req.url ?? '/', 'http://x');
        const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
        // v3 / conversations / {id} / (activities|members) / {id}
        const conversationId = parts[2] ?? '';
        const collection = parts[3];
        const item = parts[4];
        const send = (status: number, body: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (req.method === 'GET' && collection === 'members' && item) {
          const member = this.members.get(item);
          if (!member)
            return send(404, { error: { code: 'MemberNotFoundInConversation', message: 'not found' } });
          return send(200, { ...member, tenantId: 'tenant-nhs-0001', userRole: 'user' });
        }
        const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
        const call: ConnectorCall = {
          method: req.method ?? '',
          path: url.pathname,
          conversationId,
          activityId: item,
          body,
          authorization: req.headers.authorization,
          at: this.clock(),
          seq: ++this.arrivals,
        };
        const problems = collection === 'activities' ? cardProblems(body) : [];
        if (problems.length > 0) {
          this.invalid.push({ ...call, problems });
          return send(400, {
            error: { code: 'BadArgument', message: `The Adaptive Card is not valid: ${problems.join('; ')}` },
          });
        }
        const size = collection === 'activities' ? messageSize(body) : 0;
        if (size > MESSAGE_SIZE_LIMIT) {
          this.invalid.push({
            ...call,
            problems: [`${size} bytes as UTF-16; the limit is ${MESSAGE_SIZE_LIMIT}`],
          });
          return send(413, { error: { code: 'MessageSizeTooBig', message: 'Message size too big.' } });
        }
        if (req.method === 'POST' && collection === 'activities' && !item && this.activitiesChaos) {
          const verdict = this.activitiesChaos(++this.proactivePosts, conversationId, body);
          if (verdict !== 'ok') {
            this.refused.push({ ...call, refused: verdict });
            return refuse(res, verdict, this.retryAfterSeconds);
          }
        }
        this.calls.push(call);
        this.seq++;
        return send(200, {
          id: item && req.method === 'PUT' ? item : `1700000100${String(this.seq).padStart(3, '0')}`,
        });
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  /** Stops; throws if the bot sent a card that fails the schema and no test took it. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
    const left = this.takeInvalid();
    if (left.length > 0) {
      throw new Error(
        `The Connector refused ${left.length} activit${left.length === 1 ? 'y' : 'ies'} (an Adaptive Card that fails the 1.5 schema, or too big):\n${left
          .map((c) => `${c.method} ${c.path}: ${(c.problems ?? []).join('; ')}`)
          .join('\n')}`,
      );
    }
  }

  /** The activities refused for an invalid card so far, taken out of `invalid`. */
  takeInvalid(): ConnectorCall[] {
    return this.invalid.splice(0);
  }

  /** Every proactive post to a conversation, accepted or refused, in order of arrival. */
  attemptsTo(conversationId: string): ConnectorCall[] {
    return [...this.calls, ...this.refused]
      .filter((c) => c.method === 'POST' && !c.activityId && c.conversationId === conversationId)
      .sort((a, b) => a.seq - b.seq);
  }

  /** Activities the bot sent into a conversation (replies and proactive sends). */
  sentTo(conversationId: string): ConnectorCall[] {
    return this.calls.filter((c) => c.method === 'POST' && c.conversationId === conversationId);
  }
}

/** The Connector's answers to a refused post, with the error bodies it sends. */
function refuse(
  res: http.ServerResponse,
  verdict: Exclude<ConnectorVerdict, 'ok'>,
  retryAfter: number,
): void {
  const json = { 'content-type': 'application/json' };
  const error = (code: string, message: string) => JSON.stringify({ error: { code, message } });
  switch (verdict) {
    case '429':
      res
        .writeHead(429, { ...json, 'retry-after': String(retryAfter) })
        .end(error('TooManyRequests', 'Too many requests'));
      return;
    case '500':
      res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream connect error');
      return;
    case '403':
      res
        .writeHead(403, json)
        .end(error('BotNotInConversationRoster', 'The bot is not part of the conversation roster.'));
      return;
    case '404':
      res.writeHead(404, json).end(error('ConversationNotFound', 'Conversation not found.'));
      return;
  }
}
