import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { Db } from '../../db/index.js';
import { type Audience, outbox, subscriptions } from '../../db/schema.js';
import type { Logger } from '../logger.js';
import type { ChatPlatform } from '../service/context.js';

/** A queued notification, as an adapter renders it. */
export interface OutgoingNotification {
  id: number;
  kind: string;
  payload: Record<string, unknown>;
}

/** Where in a chat platform a notification goes. */
export interface ChannelTarget {
  tenant: string;
  channelId: string;
}

/** A chat platform's way of posting a notification into a channel (Slack, Teams). */
export interface ChannelNotifier {
  readonly platform: ChatPlatform;
  /** Kinds of notification this notifier can render. */
  readonly kinds: readonly string[];
  /** Posts one notification to one channel; throws when the platform did not take it. */
  post(target: ChannelTarget, notification: OutgoingNotification): Promise<void>;
}

const BATCH = 50;
const LEASE_SECONDS = 60;

/**
 * Delivers queued channel notifications of the kinds the configured notifiers render, to every
 * channel subscribed to the audience organisation. Rows are claimed with FOR UPDATE SKIP LOCKED
 * and leased, so several processes share the work and a crashed one's rows come back later.
 * (The full worker — holders' DMs, digests, rate limits, retry budgets — is the alerts issue.)
 */
export async function deliverChannelNotifications(
  db: Db,
  notifiers: ChannelNotifier[],
  logger: Logger,
  now: () => Date = () => new Date(),
): Promise<number> {
  const kinds = [...new Set(notifiers.flatMap((n) => n.kinds))];
  if (kinds.length === 0) return 0;
  const claimed = await db.transaction(async (tx) => {
    const due = tx
      .select({ id: outbox.id })
      .from(outbox)
      .where(
        and(
          eq(outbox.state, 'pending'),
          lte(outbox.availableAt, now()),
          inArray(outbox.kind, kinds),
          sql`${outbox.audience}->>'type' = 'org'`,
        ),
      )
      .orderBy(asc(outbox.id))
      .limit(BATCH)
      .for('update', { skipLocked: true });
    return tx
      .update(outbox)
      .set({
        attempts: sql`${outbox.attempts} + 1`,
        availableAt: new Date(now().getTime() + LEASE_SECONDS * 1000),
      })
      .where(inArray(outbox.id, due))
      .returning();
  });
  let delivered = 0;
  for (const row of claimed) {
    const audience = row.audience as Audience;
    if (audience.type !== 'org') continue;
    const targets = await db.select().from(subscriptions).where(eq(subscriptions.org, audience.ods));
    try {
      for (const target of targets) {
        const notifier = notifiers.find((n) => n.platform === target.platform && n.kinds.includes(row.kind));
        if (!notifier) continue;
        await notifier.post(
          { tenant: target.tenant, channelId: target.channelId },
          { id: row.id, kind: row.kind, payload: row.payload },
        );
      }
      await db.update(outbox).set({ state: 'delivered', deliveredAt: now() }).where(eq(outbox.id, row.id));
      delivered++;
    } catch (err) {
      logger.warn(
        { err, notification: row.id, kind: row.kind, attempts: row.attempts },
        'notification not delivered; will retry',
      );
      const backoffMs = Math.min(3600, 2 ** row.attempts * 5) * 1000;
      await db
        .update(outbox)
        .set({
          lastError: err instanceof Error ? err.message.slice(0, 500) : String(err),
          availableAt: new Date(now().getTime() + backoffMs),
        })
        .where(eq(outbox.id, row.id));
    }
  }
  return delivered;
}
