import http from 'node:http';

/** One answer caught at a response_url: when it arrived (performance.now()) and its text. */
export interface Arrival {
  at: number;
  text: string;
}

/**
 * A minimal, strict stand-in for Slack under load (test/slack/support/fake-slack.ts checks every
 * message against Block Kit's limits, too costly here): response URLs `/r/<id>` record when each
 * answer arrives; the Web API answers the few methods the bot and Bolt call, and anything else is
 * refused and counted so the bench can say so.
 */
export class LoadSlack {
  /** Response URL id → first answer's arrival. */
  readonly arrivals = new Map<string, Arrival>();
  /** Web API calls by method, and those refused as unknown. */
  readonly methods = new Map<string, number>();
  readonly unknown = new Map<string, number>();
  /** Slack user id → profile e-mail (users.info). */
  readonly emails = new Map<string, string>();
  private server: http.Server | undefined;
  private port = 0;

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  responseUrl(id: string): string {
    return `http://127.0.0.1:${this.port}/r/${id}`;
  }

  async start(): Promise<void> {
    this.server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = performance.now();
        const path = req.url ?? '/';
        const raw = Buffer.concat(chunks).toString('utf8');
        if (path.startsWith('/r/')) {
          const id = path.slice(3);
          if (!this.arrivals.has(id)) this.arrivals.set(id, { at, text: answerText(raw) });
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
          return;
        }
        const method = path.startsWith('/api/') ? (path.slice(5).split('?')[0] ?? '') : path;
        this.methods.set(method, (this.methods.get(method) ?? 0) + 1);
        const answer = this.answer(method, new URLSearchParams(raw));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    this.server.maxConnections = 10_000;
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private answer(method: string, form: URLSearchParams): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          team_id: 'T0001',
          user_id: 'UBOT',
          bot_id: 'BBOT',
          url: 'https://nhs-test.slack.com/',
        };
      case 'users.info': {
        const id = form.get('user') ?? '';
        const email = this.emails.get(id);
        return email
          ? { ok: true, user: { id, team_id: 'T0001', is_bot: false, profile: { email, real_name: id } } }
          : { ok: false, error: 'user_not_found' };
      }
      case 'users.lookupByEmail':
        return { ok: false, error: 'users_not_found' };
      case 'chat.postMessage':
        return { ok: true, channel: form.get('channel'), ts: `${Date.now() / 1000}` };
      default:
        this.unknown.set(method, (this.unknown.get(method) ?? 0) + 1);
        return { ok: false, error: 'unknown_method' };
    }
  }
}

/** The text and section texts of a response_url answer (JSON, as Bolt's respond sends it). */
function answerText(raw: string): string {
  try {
    const body = JSON.parse(raw) as { text?: string; blocks?: Array<{ text?: { text?: string } }> };
    return [body.text ?? '', ...(body.blocks ?? []).map((b) => b.text?.text ?? '')].join('\n');
  } catch {
    return raw;
  }
}
