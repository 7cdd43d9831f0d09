import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BotUnderTest } from '../../support/bot-process.js';
import { validateAdaptiveCard } from '../../support/schemas.js';
import { FakeConnector } from './fake-connector.js';

export const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'fixtures', name), 'utf8')) as Record<
    string,
    unknown
  >;

/**
 * The real bot process (in-process) on a fresh PostgreSQL database with the Teams adapter on,
 * activities POSTed to /api/messages as the Bot Framework Service would, with a serviceUrl that
 * points at a FakeConnector.
 */
export class TeamsTestBot {
  readonly connector = new FakeConnector();
  private readonly process = new BotUnderTest();
  private seq = 0;

  constructor(private readonly env: Record<string, string> = {}) {}

  get url(): string {
    return `http://127.0.0.1:${this.process.port}/api/messages`;
  }

  get lifecycle() {
    return this.process.lifecycle;
  }

  get database() {
    return this.process.database;
  }

  async start(): Promise<void> {
    await this.connector.start();
    await this.process.start(this.env);
  }

  async stop(): Promise<void> {
    await this.process.stop();
    await this.connector.stop();
  }

  /**
   * POSTs an activity (a fixture with changes) and returns the HTTP response (its status, and its
   * body: an invoke's answer) and what the bot sent meanwhile.
   */
  async send(activity: Record<string, unknown>, headers: Record<string, string> = {}) {
    const before = this.connector.calls.length;
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ ...activity, serviceUrl: this.connector.serviceUrl }),
    });
    const text = await res.text();
    const json = res.headers.get('content-type')?.includes('application/json') && text !== '';
    const body = json ? (JSON.parse(text) as Record<string, unknown>) : null;
    // A Universal Actions answer carries the card that replaces the clicked one: Teams renders it
    // only if it is a valid Adaptive Card, as the Connector takes only valid ones.
    if (body?.type === 'application/vnd.microsoft.card.adaptive') {
      const problems = validateAdaptiveCard(body.value);
      if (problems.length > 0)
        throw new Error(`The invoke answered an invalid Adaptive Card: ${problems.join('; ')}`);
    }
    return { status: res.status, body, sent: this.connector.calls.slice(before) };
  }

  /**
   * An edit of a personal-chat message to these words, as the messageUpdate Teams sends
   * (recorded shape: fixtures/recorded/message-edited.json).
   */
  async edit(userId: string, text: string) {
    this.seq++;
    return this.send({
      ...fixture('recorded/message-edited.json'),
      id: `17000000${String(this.seq).padStart(5, '0')}`,
      text,
      from: { id: userId, name: userId, aadObjectId: `aad-${userId}` },
      conversation: { conversationType: 'personal', tenantId: 'tenant-nhs-0001', id: `a:personal-${userId}` },
    });
  }

  /**
   * A personal-chat message from a Teams user, with a fresh activity id unless one is given, as
   * Teams sends typed words: the plain rendering in `text` and the HTML in a text/html attachment.
   */
  async say(userId: string, text: string, id?: string) {
    this.seq++;
    const base = fixture('message-personal.json');
    return this.send({
      ...base,
      id: id ?? `17000000${String(this.seq).padStart(5, '0')}`,
      ...typedInTeams(text),
      from: { id: userId, name: userId, aadObjectId: `aad-${userId}` },
      conversation: { conversationType: 'personal', tenantId: 'tenant-nhs-0001', id: `a:personal-${userId}` },
    });
  }
}

/**
 * Words typed in Teams' compose box, as Teams delivers them (test/teams/fixtures/recorded/): `text`
 * is the plain rendering, and the message itself is HTML in a `text/html` attachment, where `&`,
 * `<` and `>` are entities.
 */
export function typedInTeams(typed: string) {
  const html = typed.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return {
    text: typed,
    textFormat: 'plain',
    attachments: [{ contentType: 'text/html', content: `<p>${html}</p>` }],
  };
}

/** The text of what the bot sent: message text and the Adaptive Cards' TextBlocks and facts. */
export function sentText(calls: Array<{ body: Record<string, unknown> }>): string {
  return calls.map((c) => JSON.stringify(c.body)).join('\n');
}

/** Where a channel activity happened: the conversation id Teams gives a channel thread, and the tenant. */
export const channelActivity = (channelId: string, messageId: string) => ({
  conversation: {
    isGroup: true,
    conversationType: 'channel',
    tenantId: 'tenant-nhs-0001',
    id: `${channelId};messageid=${messageId}`,
  },
  channelData: { channel: { id: channelId }, tenant: { id: 'tenant-nhs-0001' } },
});

/**
 * Messages typed in a Teams channel (mentioning the bot) and clicks on a card's Action.Submit
 * there, as Teams sends them: a click is a message whose value is the action's data. Each activity
 * gets an id of its own.
 */
export function channelTraffic(bot: TeamsTestBot) {
  let seq = 0;
  return {
    say(userId: string, channelId: string, text: string) {
      seq++;
      return bot.send({
        ...fixture('message-channel-mention.json'),
        id: `1700000800${String(seq).padStart(3, '0')}`,
        text: `<at>NHSmail</at> ${text}`,
        from: { id: userId, name: userId },
        ...channelActivity(channelId, '1'),
      });
    },
    click(userId: string, channelId: string, replyToId: string, value: unknown) {
      seq++;
      return bot.send({
        ...fixture('message-personal.json'),
        id: `1700000900${String(seq).padStart(3, '0')}`,
        text: undefined,
        replyToId,
        value,
        from: { id: userId, name: userId, aadObjectId: `aad-${userId}` },
        ...channelActivity(channelId, replyToId),
      });
    },
  };
}
