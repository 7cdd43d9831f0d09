import { sql } from 'drizzle-orm';
import { beforeEach, expect, it } from 'vitest';
import { runText } from '../../src/commands/execute.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { runDelivery } from '../../src/jobs/delivery.js';
import { createLogger } from '../../src/logger.js';
import type { RequestContext } from '../../src/service/context.js';
import { createLifecycle, type Lifecycle } from '../../src/service/lifecycle.js';
import type {
  ChannelNotifier,
  ChannelTarget,
  OutgoingNotification,
  SendOutcome,
} from '../../src/service/ports.js';
import { describeEachEngine, queryRows } from '../support/engines.js';
import {
  activeAccount,
  as,
  auditCount,
  CapturingDelivery,
  day,
  operator,
  person,
  refusal,
  T0,
} from '../support/service.js';

/** A stand-in chat platform: answers each post as `answer` says, and keeps what it accepted. */
class StandInNotifier implements ChannelNotifier {
  readonly platform = 'slack' as const;
  readonly kinds: ChannelNotifier['kinds'] = ['leaver-request'];
  readonly directKinds: ChannelNotifier['directKinds'] = [];
  readonly minIntervalMs = 1000;
  readonly accepted: Array<{ channel: string; notification: number }> = [];
  answer: (channel: string) => SendOutcome = () => ({ ok: true });
  parts(): number {
    return 1;
  }
  async post(target: ChannelTarget, n: OutgoingNotification): Promise<SendOutcome> {
    const outcome = this.answer(target.channelId);
    if (outcome.ok) this.accepted.push({ channel: target.channelId, notification: n.id });
    return outcome;
  }
}

describeEachEngine('notifications retry', (ctx) => {
  const logged: string[] = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => void logged.push(line) },
  });
  const quiet = createLogger({ level: 'silent' });
  let lifecycle: Lifecycle;
  let notifier: StandInNotifier;

  const inChannel = (channelId: string): RequestContext => ({
    ...operator(),
    platform: 'slack',
    chat: { platform: 'slack', tenant: 'T0001', userId: 'U0OP', channelId, parseMention: () => null },
  });

  /** Worker passes a minute apart on a virtual clock, so no rate gate or backoff holds anything. */
  async function deliver(from: Date, passes = 5): Promise<void> {
    for (let i = 0; i < passes; i++) {
      await runDelivery(ctx.db.db, [notifier], quiet, () => new Date(from.getTime() + i * 60_000));
    }
  }

  /** A holder asks to leave: one leaver-request for each of RXX's subscribed channels. */
  async function leaverRequest(given: string): Promise<void> {
    const address = await activeAccount(lifecycle, 'RXX', person(given, 'Staff'));
    await lifecycle.leaver(as(address), { address });
  }

  const deliveryRows = () =>
    queryRows<{
      id: number;
      state: string;
      attempts: number;
      available_at: Date | string;
      leased_until: Date | string | null;
      last_error: string | null;
    }>(
      ctx.db.db,
      sql`select id::int as id, state::text as state, attempts, available_at, leased_until, last_error from deliveries order by id`,
    );

  beforeEach(async () => {
    logged.length = 0;
    notifier = new StandInNotifier();
    lifecycle = await createLifecycle({
      db: ctx.db.db,
      policy: DEFAULT_POLICY,
      delivery: new CapturingDelivery(),
      logger,
    });
    await lifecycle.addOrganisation(operator(), { ods: 'RXX', name: 'X', kind: 'trust' });
    await lifecycle.subscribe(inChannel('C0X'), { org: 'RXX' });
  });

  it('puts a parked delivery back in the queue, and the worker then delivers it exactly once', async () => {
    await leaverRequest('Sid');
    notifier.answer = () => ({ ok: false, permanent: true, error: 'channel_not_found' });
    await deliver(T0);
    const [parked] = await lifecycle.failedNotifications(operator());
    expect(parked).toMatchObject({ kind: 'leaver-request', target: 'slack:T0001:C0X', attempts: 1 });
    if (!parked) return;
    expect(notifier.accepted).toEqual([]);

    // The channel is back (the bot re-invited); the operator retries, an hour later.
    notifier.answer = () => ({ ok: true });
    const audits = await auditCount(ctx.db);
    const later = new Date(T0.getTime() + 3_600_000);
    const result = await lifecycle.retryNotifications(operator(later), { id: parked.id });
    expect(result.requeued).toEqual([
      {
        ...parked,
        availableAt: later.toISOString(),
      },
    ]);
    const [row] = await deliveryRows();
    expect(row).toMatchObject({
      state: 'pending',
      attempts: 0,
      leased_until: null,
      last_error: 'channel_not_found',
    });
    expect(new Date(row?.available_at ?? 0).toISOString()).toBe(later.toISOString());
    expect(await lifecycle.failedNotifications(operator())).toEqual([]);

    await deliver(later, 10);
    expect(notifier.accepted).toEqual([{ channel: 'C0X', notification: expect.any(Number) }]);
    expect((await deliveryRows())[0]).toMatchObject({ state: 'delivered', attempts: 0, last_error: null });

    // An operational action, not a change to an account: logged, never audited.
    expect(await auditCount(ctx.db)).toBe(audits);
    const line = logged
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.delivery === parked.id);
    expect(line).toMatchObject({
      msg: 'parked notification requeued by the operator',
      actor: 'operator',
      target: 'slack:T0001:C0X',
      attempts: 1,
      lastError: 'channel_not_found',
    });
  });

  it('refuses an unknown number, a delivered notification and a queued one, changing nothing', async () => {
    await leaverRequest('Sid');
    await refusal(lifecycle.retryNotifications(operator(), { id: 999 }), 'NOTIFICATION_NOT_FOUND');

    // The worker's first pass makes the delivery; the platform answers 500, so it stays queued.
    notifier.answer = () => ({ ok: false, permanent: false, error: 'HTTP 500' });
    await deliver(T0, 1);
    const [queued] = await deliveryRows();
    expect(queued?.state).toBe('pending');
    const pending = await refusal(
      lifecycle.retryNotifications(operator(), { id: queued?.id ?? 0 }),
      'NOTIFICATION_NOT_FAILED',
    );
    expect(pending.message).toContain('still queued');

    notifier.answer = () => ({ ok: true });
    await deliver(day(1));
    expect(notifier.accepted).toHaveLength(1);
    const before = await deliveryRows();
    const twice = await refusal(
      lifecycle.retryNotifications(operator(), { id: queued?.id ?? 0 }),
      'NOTIFICATION_NOT_FAILED',
    );
    expect(twice.message).toContain('would post it twice');
    expect(await deliveryRows()).toEqual(before);
    await deliver(day(2));
    expect(notifier.accepted).toHaveLength(1);
  });

  it('retries every parked delivery with --all, and only the operator may', async () => {
    await leaverRequest('Sid');
    await leaverRequest('Sam');
    notifier.answer = () => ({ ok: false, permanent: true, error: 'channel_not_found' });
    await deliver(T0);
    expect(await lifecycle.failedNotifications(operator())).toHaveLength(2);

    await lifecycle.grantRole(operator(), { address: 'la@nhs.net', role: 'local-admin', org: 'RXX' });
    await refusal(lifecycle.retryNotifications(as('la@nhs.net'), { all: true }), 'OPERATOR_ONLY');
    expect(await lifecycle.failedNotifications(operator())).toHaveLength(2);

    const reply = await runText(lifecycle, operator(day(1)), ['notifications', 'retry', '--all']);
    expect(reply.exitCode).toBe(0);
    expect(reply.text).toContain('Requeued 2 parked notification(s)');
    expect(reply.text).toContain('slack:T0001:C0X  after 1 attempt(s): channel_not_found');
    notifier.answer = () => ({ ok: true });
    await deliver(day(1), 10);
    expect(notifier.accepted.map((a) => a.channel)).toEqual(['C0X', 'C0X']);
    expect(new Set(notifier.accepted.map((a) => a.notification)).size).toBe(2);

    const none = await runText(lifecycle, operator(day(2)), ['notifications', 'retry', '--all']);
    expect(none.text).toBe('No failed notifications to retry.');
  });

  it('lists parked notifications with the number to retry them by', async () => {
    await leaverRequest('Sid');
    notifier.answer = () => ({ ok: false, permanent: true, error: 'channel_not_found' });
    await deliver(T0);
    const [parked] = await lifecycle.failedNotifications(operator());
    const listed = await runText(lifecycle, operator(), ['notifications', 'failed']);
    expect(listed.text).toMatch(new RegExp(`^ +${parked?.id}  \\S+  leaver-request`, 'm'));
    expect(listed.text).toContain('notifications retry NUMBER');
    const retried = await runText(lifecycle, operator(), ['notifications', 'retry', String(parked?.id)]);
    expect(retried.text).toContain(`Requeued notification ${parked?.id}`);
  });
});
