import http from 'node:http';

export interface ConnectorCall {
  method: string;
  path: string;
  conversationId: string;
  /** The activity replied to, or updated, when the path names one. */
  activityId: string | undefined;
  body: Record<string, unknown>;
  authorization: string | undefined;
}

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
  readonly calls: ConnectorCall[] = [];
  readonly members = new Map<string, TeamsMember>();
  private server: http.Server | undefined;
  private port = 0;
  private seq = 0;

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
        this.calls.push({
          method: req.method ?? '',
          path: url.pathname,
          conversationId,
          activityId: item,
          body,
          authorization: req.headers.authorization,
        });
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

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** Activities the bot sent into a conversation (replies and proactive sends). */
  sentTo(conversationId: string): ConnectorCall[] {
    return this.calls.filter((c) => c.method === 'POST' && c.conversationId === conversationId);
  }
}
