import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Activity, TurnContext } from 'botbuilder';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTeamsAdapter } from '../../adapters/teams/app.js';
import { notificationCard } from '../../adapters/teams/format/cards.js';
import type { TeamsNotifier } from '../../adapters/teams/notifier.js';
import { runText } from '../../src/commands/execute.js';
import { holderText } from '../../src/commands/holder-messages.js';
import { decodeNotification } from '../../src/domain/notification-decoding.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { runDelivery } from '../../src/jobs/delivery.js';
import { createLogger } from '../../src/logger.js';
import { createLifecycle, type Lifecycle } from '../../src/service/lifecycle.js';
import { failedDeliveries } from '../../src/service/notifications.js';
import { createTestDatabase, queryRows, type TestDatabase } from '../support/engines.js';
import { activeAccount, CapturingDelivery, operator, outboxRows, person, T0 } from '../support/service.js';
import { type ConnectorCall, type ConnectorVerdict, FakeConnector } from '../teams/support/fake-connector.js';

const fixture = (name: string): Partial<Activity> =>
  JSON.parse(
    readFileSync(path.join(import.meta.dirname, '..', 'teams', 'fixtures', name), 'utf8'),
  ) as Partial<Activity>;

/**
 * The outbox worker against the Bot Connector stand-in answering proactive posts 429 (Retry-After:
 * 3) and 500 at random, on a virtual clock, with two workers (two bot processes) at once: every
 * notification reaches every subscribed channel, and each holder's personal chat, exactly once, in
 * queue order per conversation, never faster than one a second per conversation, and never before
 * a Retry-After. What the stand-in saw is the evidence, so a retry hidden inside the client shows.
 */
describe('Teams delivery that loses nothing', () => {
  const connector = new FakeConnector();
  const logger = createLogger({ level: 'silent' });
  const TENANT = 'tenant-nhs-0001';
  const CHANNELS_X = ['19:alertsX1@thread.tacv2', '19:alertsX2@thread.tacv2', '19:alertsX3@thread.tacv2'];
  const CHANNELS_Y = ['19:alertsY1@thread.tacv2', '19:alertsY2@thread.tacv2'];
  /** Teams allows a bot about 7 messages a second and 60 in 30 s per conversation; one a second keeps well inside. */
  const TEAMS_MIN_INTERVAL_MS = 1000;
  let test: TestDatabase;
  let lifecycle: Lifecycle;
  let virtual = T0.getTime();
  const now = () => new Date(virtual);

  /** A bot process's Teams notifier, built as the server builds it (no app id, as outside production). */
  const teamsNotifier = (): TeamsNotifier => {
    const made = createTeamsAdapter({ production: false }, { lifecycle, logger });
    if (!made.ok) throw new Error(made.reason);
    return made.teams.notifier;
  };

  /** Keeps a conversation reference as the bot does on install or a first message, pointing at the stand-in. */
  const remember = async (
    fixtureName: string,
    conversationId: string,
    conversationType: 'channel' | 'personal',
    address: string | null = null,
  ) => {
    const activity = fixture(fixtureName);
    const { activityId: _message, ...reference } = TurnContext.getConversationReference({
      ...activity,
      serviceUrl: connector.serviceUrl,
      conversation: { ...activity.conversation, conversationType, id: conversationId },
    } as Partial<Activity>);
    await lifecycle.rememberConversation(
      {
        conversationId,
        tenant: TENANT,
        conversationType,
        address,
        reference: reference as unknown as Record<string, unknown>,
      },
      T0,
    );
  };

  /** Subscribes a channel the app is installed in to an organisation's alerts. */
  const subscribe = async (org: string, channelId: string) => {
    await remember('installation-update.json', channelId, 'channel');
    await lifecycle.subscribe(
      {
        ...operator(),
        platform: 'teams',
        chat: {
          platform: 'teams',
          tenant: TENANT,
          userId: '29:1Operator',
          channelId,
          parseMention: () => null,
        },
      },
      { org },
    );
  };

  beforeAll(async () => {
    await connector.start();
    connector.clock = () => virtual;
    test = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await test.close();
    await connector.stop();
  });
  beforeEach(async () => {
    await test.reset();
    connector.calls.length = 0;
    connector.refused.length = 0;
    connector.activitiesChaos = null;
    connector.retryAfterSeconds = 2;
    virtual = T0.getTime();
    lifecycle = await createLifecycle({
      db: test.database.db,
      policy: DEFAULT_POLICY,
      delivery: new CapturingDelivery(),
    });
    await lifecycle.addOrganisation(operator(), { ods: 'RXX', name: 'X', kind: 'trust' });
    await lifecycle.addOrganisation(operator(), { ods: 'RYY', name: 'Y', kind: 'trust' });
    for (const channelId of CHANNELS_X) await subscribe('RXX', channelId);
    for (const channelId of CHANNELS_Y) await subscribe('RYY', channelId);
  });

  /** Transfer requests from RXX to RYY; the first `holders` movers also leave and join, told in their personal chat. */
  async function queue(movers: number, holders: number): Promise<Array<{ chat: string; address: string }>> {
    const personal: Array<{ chat: string; address: string }> = [];
    for (let i = 0; i < movers; i++) {
      const address = await activeAccount(
        lifecycle,
        'RXX',
        person(`Locum${String.fromCharCode(97 + i)}`, `Mover${i}`),
      );
      await lifecycle.requestTransfer(operator(), { address, to: 'RYY' });
      if (i < holders) {
        const chat = `a:personal-mover${i}`;
        await remember('message-personal.json', chat, 'personal', address);
        personal.push({ chat, address });
        await lifecycle.leaver(operator(), { address });
        await lifecycle.joiner(operator(), { address, org: 'RYY' });
      }
    }
    return personal;
  }

  /** What each conversation should have received, in queue order: the rendered card or holder text. */
  async function expectedPosts(): Promise<Map<string, unknown[]>> {
    const expected = new Map<string, unknown[]>();
    const add = (conversation: string, post: unknown) =>
      expected.set(conversation, [...(expected.get(conversation) ?? []), post]);
    const subscribed = { RXX: CHANNELS_X, RYY: CHANNELS_Y } as Record<string, string[]>;
    for (const row of await outboxRows(test.database)) {
      const n = { id: 0, ...decodeNotification(row.kind, row.payload_version, row.payload), part: 0 };
      if (row.audience.type === 'org') {
        for (const channel of subscribed[row.audience.ods ?? ''] ?? [])
          add(channel, notificationCard(n).content);
      } else if (row.audience.type === 'holder') {
        const chat = await lifecycle.personalConversation(row.audience.address ?? '');
        if (chat) add(chat.conversationId, holderText(n));
      }
    }
    return expected;
  }

  const posted = (c: ConnectorCall) =>
    (c.body.attachments as Array<{ content: unknown }> | undefined)?.[0]?.content ?? c.body.text;

  async function pending(): Promise<number> {
    const [row] = await queryRows<{ n: number }>(
      test.database.db,
      sql`select (select count(*) from outbox where state = 'pending')
               + (select count(*) from deliveries where state = 'pending') as n`,
    );
    return Number(row?.n ?? 0);
  }

  it('delivers each notification to each conversation exactly once under 429s and 500s, within the rate limit', async () => {
    const personal = await queue(8, 3);
    // Longer than the worker's first backoff (2 s), so treating a 429 as a plain failure shows.
    connector.retryAfterSeconds = 3;
    let random = 7;
    connector.activitiesChaos = () => {
      random = (random * 1103515245 + 12345) % 2 ** 31;
      const r = random / 2 ** 31;
      return r < 0.2 ? '429' : r < 0.35 ? '500' : 'ok';
    };
    const workers = [teamsNotifier(), teamsNotifier()];
    let passes = 0;
    for (; passes < 400 && (await pending()) > 0; passes++) {
      // Two workers at once, as two bot processes would run them.
      await Promise.all(workers.map((w) => runDelivery(test.database.db, [w], logger, now)));
      virtual += 250;
    }
    connector.activitiesChaos = null;

    expect(await pending()).toBe(0);
    expect(await failedDeliveries(test.database.db)).toEqual([]);
    expect(connector.refused.some((c) => c.refused === '429')).toBe(true);
    expect(connector.refused.some((c) => c.refused === '500')).toBe(true);
    expect(workers[0]?.minIntervalMs).toBeGreaterThanOrEqual(TEAMS_MIN_INTERVAL_MS);

    const expected = await expectedPosts();
    expect([...expected.keys()].sort()).toEqual(
      [...CHANNELS_X, ...CHANNELS_Y, ...personal.map((p) => p.chat)].sort(),
    );
    // Nothing else was posted anywhere (no error text from a failed turn, no stray conversation).
    expect(connector.calls).toHaveLength(
      [...expected.values()].reduce((sum, posts) => sum + posts.length, 0),
    );
    for (const [conversation, posts] of expected) {
      const attempts = connector.attemptsTo(conversation);
      const accepted = attempts.filter((a) => !a.refused);
      // Exactly once each, in queue order.
      expect(accepted.map(posted), conversation).toEqual(posts);
      // One a second at most.
      for (let i = 1; i < accepted.length; i++) {
        const gap = (accepted[i]?.at ?? 0) - (accepted[i - 1]?.at ?? 0);
        expect(gap, `${conversation} posts ${i - 1} and ${i}`).toBeGreaterThanOrEqual(TEAMS_MIN_INTERVAL_MS);
      }
      // Nothing is sent to a conversation before a Retry-After it was given has passed.
      for (const throttled of attempts.filter((a) => a.refused === '429')) {
        const next = attempts.find((a) => a.seq > throttled.seq);
        if (next) {
          expect(next.at - throttled.at, `${conversation} after a 429`).toBeGreaterThanOrEqual(
            connector.retryAfterSeconds * 1000,
          );
        }
      }
    }
  });

  it('parks a delivery to a conversation that answers 403 or 404 at once, and one past its retry budget', async () => {
    const [holder] = await queue(1, 1);
    const chat = holder?.chat ?? '';
    const [gone, removed, failing] = [CHANNELS_X[0] ?? '', CHANNELS_Y[0] ?? '', CHANNELS_X[1] ?? ''];
    const answers = new Map<string, ConnectorVerdict>([
      [gone, '404'],
      [removed, '403'],
      [chat, '403'],
      [failing, '500'],
    ]);
    connector.activitiesChaos = (_n, conversationId) => answers.get(conversationId) ?? 'ok';
    const worker = teamsNotifier();
    for (let pass = 0; pass < 20; pass++) {
      await runDelivery(test.database.db, [worker], logger, now, {
        retryBudget: 3,
        leaseMs: 60_000,
        batch: 50,
      });
      virtual += 60_000;
    }
    connector.activitiesChaos = null;

    const failed = await failedDeliveries(test.database.db);
    expect(failed.map((f) => [f.target, f.kind, f.attempts, f.lastError]).sort()).toEqual(
      [
        [`teams:${TENANT}:${gone}`, 'transfer-leaver', 1, 'HTTP 404'],
        [`teams:${TENANT}:${removed}`, 'transfer-joiner', 1, 'HTTP 403'],
        [`teams:dm:${holder?.address}`, 'leaver', 1, 'HTTP 403'],
        [`teams:dm:${holder?.address}`, 'joiner', 1, 'HTTP 403'],
        [`teams:${TENANT}:${failing}`, 'transfer-leaver', 3, 'HTTP 500'],
      ].sort(),
    );
    // Refused for good: tried once. Failing: tried exactly as often as the budget, no retries of the client's own.
    expect(connector.refused.map((c) => c.conversationId).sort()).toEqual(
      [chat, chat, gone, removed, failing, failing, failing].sort(),
    );
    expect(connector.calls.map((c) => c.conversationId).sort()).toEqual(
      [CHANNELS_X[2], CHANNELS_Y[1]].sort(),
    );
    const listed = await runText(lifecycle, operator(), ['notifications', 'failed']);
    expect(listed.text).toContain('5 notification(s) could not be delivered');
    expect(listed.text).toContain(`teams:${TENANT}:${gone}  after 1 attempt(s): HTTP 404`);
    expect(listed.text).toContain(`teams:${TENANT}:${failing}  after 3 attempt(s): HTTP 500`);
  });
});
