import { and, asc, eq, inArray, lte, or, sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../../db/index.js';
import { type Audience, deliveries, deliveryTargets, outbox, subscriptions } from '../../db/schema.js';
import type { Logger } from '../logger.js';
import { describeError } from '../safe-errors.js';
import type { ChatPlatform } from '../service/context.js';
import { type DeliveryEvent, NO_TELEMETRY, type Telemetry } from '../service/telemetry.js';

/** A queued notification, as an adapter renders it. */
export interface OutgoingNotification {
  id: number;
  kind: string;
  payload: Record<string, unknown>;
  /** Which message of a notification that needs several (a long digest); 0 for most. */
  part: number;
}

/** Where in a chat platform a notification goes. */
export interface ChannelTarget {
  tenant: string;
  /** A channel's id, or for a direct message the holder's @nhs.net address. */
  channelId: string;
  /** True for a direct message to the holder. */
  direct: boolean;
}

/** What a platform said to one send. */
export type SendOutcome =
  /** Done; `note` records why nothing was sent when there was nobody to send to (no chat account). */
  | { ok: true; note?: string }
  /** Rate limited: try this target again after the platform's Retry-After. */
  | { ok: false; retryAfterMs: number; error: string }
  /** Failed: `permanent` (channel gone, bot removed) parks it at once; otherwise retried with backoff. */
  | { ok: false; permanent: boolean; error: string };

/** A chat platform's way of posting a notification into a channel (Slack, Teams). */
export interface ChannelNotifier {
  readonly platform: ChatPlatform;
  /** Kinds of notification this notifier can render for a channel. */
  readonly kinds: readonly string[];
  /** Kinds it can send to the holder directly (a DM), found by their @nhs.net address. */
  readonly directKinds: readonly string[];
  /** Least time between two messages to one channel (Slack: about one a second). */
  readonly minIntervalMs: number;
  /** How many messages this notification takes on this platform (long digests are split, never cut). */
  parts(notification: Omit<OutgoingNotification, 'part'>): number;
  /** Posts one notification to one channel and reports how it went; never throws for a platform refusal. */
  post(target: ChannelTarget, notification: OutgoingNotification): Promise<SendOutcome>;
}

/** The operators' channel: where a line goes when a notification is parked as failed. */
export interface OperatorsChannel {
  platform: ChatPlatform;
  channelId: string;
}

/** The kind of the operators' line about a parked notification. */
export const PARKED_KIND = 'delivery-failed';

export interface DeliveryOptions {
  /** Attempts before a delivery is parked as failed. */
  retryBudget: number;
  /** How long a claimed delivery is held by one process before another may take it over. */
  leaseMs: number;
  batch: number;
  /** Where parked notifications are reported, besides `notifications failed`. */
  operators?: OperatorsChannel | null;
  /** Counts each send's outcome (the bot's metrics). */
  telemetry?: Telemetry;
}

export const DEFAULT_DELIVERY: DeliveryOptions = { retryBudget: 8, leaseMs: 60_000, batch: 50 };

export interface DeliveryRun {
  expanded: number;
  delivered: number;
  rateLimited: number;
  retried: number;
  failed: number;
}

/**
 * One pass of the outbox worker. First, queued notifications for an organisation become one
 * delivery per subscribed channel (exactly one, by a unique key). Then, for each channel, its
 * oldest pending delivery is sent if the channel's rate limit and Retry-After allow, so messages
 * keep their order per channel. Rows are claimed with FOR UPDATE SKIP LOCKED under a lease, so
 * any number of bot processes share the work and a crashed one's claims come back.
 */
export async function runDelivery(
  db: Db,
  notifiers: ChannelNotifier[],
  logger: Logger,
  now: () => Date = () => new Date(),
  options: DeliveryOptions = DEFAULT_DELIVERY,
): Promise<DeliveryRun> {
  const run: DeliveryRun = { expanded: 0, delivered: 0, rateLimited: 0, retried: 0, failed: 0 };
  run.expanded = await expand(db, notifiers, now(), options);
  const claimed = await claim(db, notifiers, now(), options);
  const telemetry = options.telemetry ?? NO_TELEMETRY;
  await Promise.all(
    claimed.map(async (d) => {
      // Every line about this send carries the delivery and the request that queued it.
      const log = logger.child({ delivery: d.id, notification: d.outboxId, correlationId: d.correlationId });
      const count = (outcome: DeliveryEvent['outcome']) =>
        telemetry.delivery({ platform: d.platform, kind: d.kind, outcome });
      const notifier = notifiers.find(
        (n) => n.platform === d.platform && (isDirect(d) ? n.directKinds : n.kinds).includes(d.kind),
      );
      if (!notifier) return;
      let outcome: SendOutcome;
      try {
        outcome = await notifier.post(
          { tenant: d.tenant, channelId: d.channelId, direct: isDirect(d) },
          { id: d.outboxId, kind: d.kind, payload: d.payload, part: d.part },
        );
      } catch (err) {
        // Kept in deliveries.last_error and shown by `notifications failed`: never a query's values.
        outcome = { ok: false, permanent: false, error: describeError(err) };
      }
      const at = now();
      if (outcome.ok) {
        await settle(
          db,
          d.id,
          { state: 'delivered', deliveredAt: at, leasedUntil: null, lastError: outcome.note ?? null },
          { target: d.target, until: new Date(at.getTime() + notifier.minIntervalMs) },
        );
        log.debug({ target: d.target, kind: d.kind, part: d.part }, 'delivered');
        count('delivered');
        run.delivered++;
        return;
      }
      if ('retryAfterMs' in outcome) {
        const after = new Date(at.getTime() + outcome.retryAfterMs);
        await settle(
          db,
          d.id,
          { availableAt: after, leasedUntil: null, lastError: outcome.error },
          { target: d.target, until: after },
        );
        log.info({ target: d.target, retryAfterMs: outcome.retryAfterMs }, 'rate limited; waiting');
        count('rate-limited');
        run.rateLimited++;
        return;
      }
      const attempts = d.attempts + 1;
      if (outcome.permanent || attempts >= options.retryBudget) {
        await settle(
          db,
          d.id,
          { state: 'failed', attempts, leasedUntil: null, lastError: outcome.error },
          undefined,
          {
            parked: d,
            operators: options.operators ?? null,
            at,
          },
        );
        log.error(
          { target: d.target, kind: d.kind, attempts, error: outcome.error },
          'notification parked as failed',
        );
        count('parked');
        run.failed++;
        return;
      }
      const backoffMs = Math.min(3_600_000, 1000 * 2 ** attempts);
      await settle(db, d.id, {
        attempts,
        availableAt: new Date(at.getTime() + backoffMs),
        leasedUntil: null,
        lastError: outcome.error,
      });
      log.warn(
        { target: d.target, attempts, error: outcome.error },
        'notification not delivered; will retry',
      );
      count('retry');
      run.retried++;
    }),
  );
  return run;
}

/** Direct messages to a holder are targeted `PLATFORM:dm:ADDRESS`. */
const isDirect = (d: { platform: string; target: string }) => d.target.startsWith(`${d.platform}:dm:`);

/**
 * Fans queued notifications out: an organisation's (or a team mailbox's) to one delivery per
 * subscribed channel and message part, a holder's to one direct message per platform that can
 * reach them, an operators' line to the operators' channel.
 */
async function expand(
  db: Db,
  notifiers: ChannelNotifier[],
  now: Date,
  options: DeliveryOptions,
): Promise<number> {
  const orgKinds = [...new Set(notifiers.flatMap((n) => n.kinds))];
  const holderKinds = [...new Set(notifiers.flatMap((n) => n.directKinds))];
  const platforms = [...new Set(notifiers.map((n) => n.platform))];
  if (orgKinds.length === 0 && holderKinds.length === 0) return 0;
  return db.transaction(async (tx) => {
    const rows = await tx
      .select()
      .from(outbox)
      .where(
        and(
          eq(outbox.state, 'pending'),
          lte(outbox.availableAt, now),
          or(
            orgKinds.length
              ? and(inArray(outbox.kind, orgKinds), sql`${outbox.audience}->>'type' in ('org', 'mailbox')`)
              : sql`false`,
            options.operators && orgKinds.includes(PARKED_KIND)
              ? and(eq(outbox.kind, PARKED_KIND), sql`${outbox.audience}->>'type' = 'operators'`)
              : sql`false`,
            holderKinds.length
              ? and(inArray(outbox.kind, holderKinds), sql`${outbox.audience}->>'type' = 'holder'`)
              : sql`false`,
          ),
        ),
      )
      .orderBy(asc(outbox.id))
      .limit(options.batch)
      .for('update', { skipLocked: true });
    for (const row of rows) {
      const audience = row.audience as Audience;
      const base = {
        outboxId: row.id,
        kind: row.kind,
        payload: row.payload,
        availableAt: now,
        createdAt: now,
        correlationId: row.correlationId,
      };
      const channelDeliveries = (platform: ChatPlatform, tenant: string, channelId: string) => {
        const notifier = notifiers.find((n) => n.platform === platform && n.kinds.includes(row.kind));
        if (!notifier) return [];
        const parts = Math.max(1, notifier.parts({ id: row.id, kind: row.kind, payload: row.payload }));
        return Array.from({ length: parts }, (_, part) => ({
          ...base,
          target: `${platform}:${tenant}:${channelId}`,
          platform,
          tenant,
          channelId,
          part,
        }));
      };
      let values: Array<typeof deliveries.$inferInsert> = [];
      if (audience.type === 'org' || audience.type === 'mailbox') {
        // A team behind a mailbox (the NAS GP-locum team) works in its organisation's channels.
        const ods = audience.type === 'org' ? audience.ods : (audience.ods ?? String(row.payload.org ?? ''));
        const channels = await tx
          .select()
          .from(subscriptions)
          .where(and(eq(subscriptions.org, ods), inArray(subscriptions.platform, platforms)));
        values = channels.flatMap((c) => channelDeliveries(c.platform, c.tenant, c.channelId));
      } else if (audience.type === 'operators' && options.operators) {
        const { platform, channelId } = options.operators;
        // The channel's tenant, when it is also subscribed somewhere, so both share one rate gate.
        const [known] = await tx
          .select({ tenant: subscriptions.tenant })
          .from(subscriptions)
          .where(and(eq(subscriptions.platform, platform), eq(subscriptions.channelId, channelId)))
          .limit(1);
        values = channelDeliveries(platform, known?.tenant ?? '', channelId);
      } else if (audience.type === 'holder') {
        values = notifiers
          .filter((n) => n.directKinds.includes(row.kind))
          .map((n) => ({
            ...base,
            target: `${n.platform}:dm:${audience.address}`,
            platform: n.platform,
            tenant: '',
            channelId: audience.address,
            part: 0,
          }));
      }
      if (values.length > 0) await tx.insert(deliveries).values(values).onConflictDoNothing();
      // The outbox row's job is done once its deliveries exist; each delivery now has its own state.
      await tx
        .update(outbox)
        .set({ state: 'delivered', deliveredAt: now, attempts: sql`${outbox.attempts} + 1` })
        .where(eq(outbox.id, row.id));
    }
    return rows.length;
  });
}

type ClaimedDelivery = typeof deliveries.$inferSelect;

/** Each target's oldest pending delivery, when it is due and the target may be written to. */
async function claim(
  db: Db,
  notifiers: ChannelNotifier[],
  now: Date,
  options: DeliveryOptions,
): Promise<ClaimedDelivery[]> {
  const platforms = [...new Set(notifiers.map((n) => n.platform))];
  if (platforms.length === 0) return [];
  const nowIso = now.toISOString();
  return db.transaction(async (tx) => {
    const heads = rowsOf<{ id: string | number }>(
      await tx.execute(sql`
        with heads as (
          select distinct on (target) id, target from deliveries
          where state = 'pending' and platform in ${platforms}
          order by target, id
        )
        select d.id from deliveries d
        join heads h on h.id = d.id
        left join delivery_targets t on t.target = d.target
        where d.available_at <= ${nowIso}::timestamptz
          and (d.leased_until is null or d.leased_until < ${nowIso}::timestamptz)
          and (t.next_send_at is null or t.next_send_at <= ${nowIso}::timestamptz)
        order by d.id
        limit ${options.batch}
        for update of d skip locked`),
    );
    if (heads.length === 0) return [];
    return tx
      .update(deliveries)
      .set({ leasedUntil: new Date(now.getTime() + options.leaseMs) })
      .where(
        inArray(
          deliveries.id,
          heads.map((h) => Number(h.id)),
        ),
      )
      .returning();
  });
}

/**
 * Records how a send went, and holds its target until `gate.until` (the rate limit after a send,
 * or the platform's Retry-After) in the same transaction: another worker sees both or neither, so
 * it cannot slip the target's next message in between.
 */
async function settle(
  db: Db,
  id: number,
  changes: Partial<typeof deliveries.$inferInsert>,
  gate?: { target: string; until: Date },
  report?: { parked: ClaimedDelivery; operators: OperatorsChannel | null; at: Date },
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.update(deliveries).set(changes).where(eq(deliveries.id, id));
    if (report?.operators && report.parked.kind !== PARKED_KIND) {
      // One line in the operators' channel, queued with the parking itself (never for its own failure).
      const p = report.parked;
      await tx.insert(outbox).values({
        createdAt: report.at,
        correlationId: p.correlationId,
        kind: PARKED_KIND,
        audience: { type: 'operators' },
        payload: {
          delivery: p.id,
          kind: p.kind,
          target: p.target,
          attempts: changes.attempts ?? p.attempts,
          error: changes.lastError ?? null,
        },
        availableAt: report.at,
      });
    }
    if (gate) {
      await tx
        .insert(deliveryTargets)
        .values({ target: gate.target, nextSendAt: gate.until })
        .onConflictDoUpdate({ target: deliveryTargets.target, set: { nextSendAt: gate.until } });
    }
  });
}

export interface FailedDelivery {
  id: number;
  kind: string;
  target: string;
  attempts: number;
  lastError: string | null;
  createdAt: string;
}

/** Deliveries parked after their retry budget, newest first: `notifications failed`. */
export async function failedDeliveries(db: Db, limit = 100): Promise<FailedDelivery[]> {
  const rows = await db
    .select()
    .from(deliveries)
    .where(eq(deliveries.state, 'failed'))
    .orderBy(sql`${deliveries.id} desc`)
    .limit(limit);
  return rows.map(failedView);
}

const failedView = (r: typeof deliveries.$inferSelect): FailedDelivery => ({
  id: r.id,
  kind: r.kind,
  target: r.target,
  attempts: r.attempts,
  lastError: r.lastError,
  createdAt: r.createdAt.toISOString(),
});

/** A parked delivery put back in the queue, as it was when it was parked. */
export interface RequeuedDelivery extends FailedDelivery {
  /** The time the worker may send it again. */
  availableAt: string;
}

/**
 * Puts parked deliveries back in the queue: pending, no attempts counted, due at `now`, claimed
 * by nobody, so the worker sends them again on its next pass (within the channel's rate limit,
 * and ahead of the channel's newer messages, since they are older). Only failed rows are touched:
 * a delivered one would be posted twice. The last error stays on the row until the next attempt
 * replaces it. `ids` names the rows; `'all'` takes every parked one.
 */
export async function requeueFailedDeliveries(
  db: Db,
  ids: readonly number[] | 'all',
  now: Date,
): Promise<RequeuedDelivery[]> {
  if (ids !== 'all' && ids.length === 0) return [];
  return db.transaction(async (tx) => {
    const parked = await tx
      .select()
      .from(deliveries)
      .where(
        and(eq(deliveries.state, 'failed'), ids === 'all' ? undefined : inArray(deliveries.id, [...ids])),
      )
      .orderBy(asc(deliveries.id))
      .for('update');
    if (parked.length === 0) return [];
    await tx
      .update(deliveries)
      .set({ state: 'pending', attempts: 0, availableAt: now, leasedUntil: null })
      .where(
        inArray(
          deliveries.id,
          parked.map((r) => r.id),
        ),
      );
    return parked.map((r) => ({ ...failedView(r), availableAt: now.toISOString() }));
  });
}

/** One delivery's state, whatever it is: to explain why it cannot be retried. */
export async function deliveryState(
  db: Db,
  id: number,
): Promise<{ state: 'pending' | 'delivered' | 'failed'; deliveredAt: string | null } | null> {
  const [row] = await db
    .select({ state: deliveries.state, deliveredAt: deliveries.deliveredAt })
    .from(deliveries)
    .where(eq(deliveries.id, id));
  return row ? { state: row.state, deliveredAt: row.deliveredAt?.toISOString() ?? null } : null;
}
