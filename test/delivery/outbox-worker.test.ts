import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SlackNotifier } from '../../adapters/slack/notifier.js';
import { runText } from '../../src/commands/execute.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { runDelivery } from '../../src/jobs/delivery.js';
import { createLogger } from '../../src/logger.js';
import { createLifecycle, type Lifecycle } from '../../src/service/lifecycle.js';
import { failedDeliveries } from '../../src/service/notifications.js';
import type { ChannelNotifier, SendOutcome } from '../../src/service/ports.js';
import { FakeSlack } from '../slack/support/fake-slack.js';
import { createTestDatabase, type TestDatabase } from '../support/engines.js';
import { activeAccount, CapturingDelivery, operator, person, T0 } from '../support/service.js';

/**
 * The outbox worker against the Slack stand-in answering 429 (Retry-After: 2) and 500 at random,
 * on a virtual clock: every notification reaches every subscribed channel exactly once, in order
 * per channel, never faster than one a second per channel, and never before a Retry-After.
 */
describe('delivery that loses nothing', () => {
  const slack = new FakeSlack();
  let test: TestDatabase;
  let lifecycle: Lifecycle;
  const logger = createLogger({ level: 'silent' });
  const CHANNELS_X = ['C0X1', 'C0X2', 'C0X3'];
  const CHANNELS_Y = ['C0Y1', 'C0Y2'];

  /** Records, per attempt, the virtual time, the channel and what the platform said. */
  class Recording implements ChannelNotifier {
    readonly platform = 'slack' as const;
    readonly kinds: ChannelNotifier['kinds'];
    readonly directKinds: ChannelNotifier['directKinds'];
    readonly minIntervalMs: number;
    readonly attempts: Array<{ at: number; channel: string; notification: number; outcome: SendOutcome }> =
      [];
    constructor(
      private readonly inner: SlackNotifier,
      private readonly clock: () => number,
    ) {
      this.kinds = inner.kinds;
      this.directKinds = inner.directKinds;
      this.minIntervalMs = inner.minIntervalMs;
    }
    parts(n: Parameters<ChannelNotifier['parts']>[0]) {
      return this.inner.parts(n);
    }
    async post(target: Parameters<ChannelNotifier['post']>[0], n: Parameters<ChannelNotifier['post']>[1]) {
      const outcome = await this.inner.post(target, n);
      this.attempts.push({ at: this.clock(), channel: target.channelId, notification: n.id, outcome });
      return outcome;
    }
  }

  beforeAll(async () => {
    await slack.start();
    test = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await test.close();
    await slack.stop();
  });
  beforeEach(async () => {
    await test.reset();
    slack.calls.length = 0;
    lifecycle = await createLifecycle({
      db: test.database.db,
      policy: DEFAULT_POLICY,
      delivery: new CapturingDelivery(),
    });
    await lifecycle.addOrganisation(operator(), { ods: 'RXX', name: 'X', kind: 'trust' });
    await lifecycle.addOrganisation(operator(), { ods: 'RYY', name: 'Y', kind: 'trust' });
    for (const [org, channels] of [
      ['RXX', CHANNELS_X],
      ['RYY', CHANNELS_Y],
    ] as const) {
      for (const channelId of channels) {
        await lifecycle.subscribe(
          {
            ...operator(),
            platform: 'slack',
            chat: { platform: 'slack', tenant: 'T0001', userId: 'U0OP', channelId, parseMention: () => null },
          },
          { org },
        );
      }
    }
  });

  async function requestTransfers(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const address = await activeAccount(
        lifecycle,
        'RXX',
        person(`Locum${String.fromCharCode(97 + i)}`, `Mover${i}`),
      );
      await lifecycle.requestTransfer(operator(), { address, to: 'RYY' });
    }
  }

  it('delivers each notification to each channel exactly once under 429s and 500s, within the rate limit', async () => {
    await requestTransfers(8);
    let random = 42;
    slack.postMessageChaos = () => {
      random = (random * 1103515245 + 12345) % 2 ** 31;
      const r = random / 2 ** 31;
      return r < 0.2 ? '429' : r < 0.35 ? '500' : 'ok';
    };
    let virtual = T0.getTime();
    const notifier = new Recording(new SlackNotifier('xoxb-test', slack.apiUrl), () => virtual);
    const now = () => new Date(virtual);
    for (let pass = 0; pass < 2000; pass++) {
      // Two workers at once, as two bot processes would run them.
      await Promise.all([
        runDelivery(test.database.db, [notifier], logger, now),
        runDelivery(test.database.db, [notifier], logger, now),
      ]);
      const accepted = slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.refused).length;
      if (accepted === 8 * (CHANNELS_X.length + CHANNELS_Y.length)) break;
      virtual += 250;
    }
    slack.postMessageChaos = null;

    const accepted = slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.refused);
    expect(accepted).toHaveLength(8 * 5);
    expect(slack.calls.some((c) => c.refused === '429')).toBe(true);
    expect(slack.calls.some((c) => c.refused === '500')).toBe(true);
    // Exactly once per notification and channel.
    const keys = notifier.attempts.filter((a) => a.outcome.ok).map((a) => `${a.notification}:${a.channel}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const channel of [...CHANNELS_X, ...CHANNELS_Y]) {
      const tries = notifier.attempts.filter((a) => a.channel === channel);
      const delivered = tries.filter((a) => a.outcome.ok);
      // In order per channel, one a second at most.
      expect(delivered.map((a) => a.notification)).toEqual(
        [...delivered.map((a) => a.notification)].sort((p, q) => p - q),
      );
      for (let i = 1; i < delivered.length; i++) {
        expect((delivered[i]?.at ?? 0) - (delivered[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
      }
      // Nothing is sent to a channel before its Retry-After has passed.
      tries.forEach((attempt, i) => {
        const next = tries[i + 1];
        if (next && !attempt.outcome.ok && 'retryAfterMs' in attempt.outcome) {
          expect(next.at - attempt.at).toBeGreaterThanOrEqual(2000);
        }
      });
    }
    expect(await failedDeliveries(test.database.db)).toEqual([]);
  });

  it('parks a delivery whose channel is gone, and one past its retry budget, as failed', async () => {
    await requestTransfers(1);
    slack.postMessageChaos = (_n, body) =>
      body.channel === 'C0X1' ? 'channel_not_found' : body.channel === 'C0Y1' ? '500' : 'ok';
    let virtual = T0.getTime();
    const notifier = new SlackNotifier('xoxb-test', slack.apiUrl);
    for (let pass = 0; pass < 200; pass++) {
      await runDelivery(test.database.db, [notifier], logger, () => new Date(virtual), {
        retryBudget: 3,
        leaseMs: 60_000,
        batch: 50,
      });
      virtual += 60_000;
    }
    slack.postMessageChaos = null;
    const failed = await failedDeliveries(test.database.db);
    expect(failed.map((f) => [f.target, f.attempts, f.lastError])).toEqual([
      ['slack:T0001:C0Y1', 3, 'HTTP 500'],
      ['slack:T0001:C0X1', 1, 'channel_not_found'],
    ]);
    const accepted = slack.calls
      .filter((c) => c.method === 'chat.postMessage' && !c.refused)
      .map((c) => c.body.channel);
    expect(accepted.sort()).toEqual(['C0X2', 'C0X3', 'C0Y2']);
    const listed = await runText(lifecycle, operator(), ['notifications', 'failed']);
    expect(listed.text).toContain('2 notification(s) could not be delivered');
    expect(listed.text).toContain('slack:T0001:C0X1  after 1 attempt(s): channel_not_found');
  });
});
