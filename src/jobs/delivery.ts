import { and, asc, eq, inArray, lte, or, sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../../db/index.js';
import { type Audience, deliveries, deliveryTargets, outbox, subscriptions } from '../../db/schema.js';
import { tryDecodeNotification } from '../domain/notification-decoding.js';
import { type NotificationKind, OPERATOR_KINDS } from '../domain/notifications.js';
import type { ChatPlatform } from '../domain/platform.js';
import type { Logger } from '../logger.js';
import { describeError } from '../safe-errors.js';
import type { ChannelNotifier, OperatorsChannel, SendOutcome } from '../service/ports.js';
import { PARKED_KIND } from '../service/ports.js';
import { enqueue } from '../service/store.js';
import { type DeliveryEvent, NO_TELEMETRY, type Telemetry } from '../service/telemetry.js';

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
        (n) => n.platform === d.platform && handles(isDirect(d) ? n.directKinds : n.kinds, d.kind),
      );
      if (!notifier) return;
      // A row this build cannot read (renamed key, unknown version) is parked, never sent with holes.
      const decoded = tryDecodeNotification(d.kind, d.payloadVersion, d.payload);
      let outcome: SendOutcome;
      if (!decoded.ok) {
        outcome = { ok: false, permanent: true, error: decoded.error.message };
      } else {
        try {
          outcome = await notifier.post(
            { tenant: d.tenant, channelId: d.channelId, direct: isDirect(d) },
            { id: d.outboxId, ...decoded.notification, part: d.part },
          );
        } catch (err) {
          // Kept in deliveries.last_error and shown by `notifications failed`: never a query's values.
          outcome = { ok: false, permanent: false, error: describeError(err) };
        }
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

/** Whether a notifier's list of kinds has a row's kind (as stored: it may be one no build knows). */
const handles = (kinds: readonly NotificationKind[], kind: string) =>
  (kinds as readonly string[]).includes(kind);

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
  const operatorKinds = OPERATOR_KINDS.filter((k) => orgKinds.includes(k));
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
              ? and(
                  inArray(outbox.kind, orgKinds),
                  sql`${outbox.audience}->>'type' in ('org', 'mailbox', 'conversation')`,
                )
              : sql`false`,
            options.operators && operatorKinds.length
              ? and(inArray(outbox.kind, operatorKinds), sql`${outbox.audience}->>'type' = 'operators'`)
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
        payloadVersion: row.payloadVersion,
        availableAt: now,
        createdAt: now,
        correlationId: row.correlationId,
      };
      // Undecodable, it still gets its deliveries: each is parked when sent, and the operators told.
      const decoded = tryDecodeNotification(row.kind, row.payloadVersion, row.payload);
      const channelDeliveries = (platform: ChatPlatform, tenant: string, channelId: string) => {
        const notifier = notifiers.find((n) => n.platform === platform && handles(n.kinds, row.kind));
        if (!notifier) return [];
        const parts = decoded.ok ? Math.max(1, notifier.parts({ id: row.id, ...decoded.notification })) : 1;
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
      } else if (audience.type === 'conversation') {
        // The conversation a request came from, on its own platform only.
        values = channelDeliveries(audience.platform, audience.tenant, audience.channelId);
      } else if (audience.type === 'holder') {
        values = notifiers
          .filter((n) => handles(n.directKinds, row.kind))
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
    if (report?.operators && !(OPERATOR_KINDS as readonly string[]).includes(report.parked.kind)) {
      // One line in the operators' channel, queued with the parking itself (never for its own failure).
      const p = report.parked;
      await enqueue(tx, { now: report.at, correlationId: p.correlationId ?? undefined }, [
        {
          kind: PARKED_KIND,
          audience: { type: 'operators' },
          payload: {
            delivery: p.id,
            kind: p.kind,
            target: p.target,
            attempts: changes.attempts ?? p.attempts,
            error: changes.lastError ?? null,
          },
        },
      ]);
    }
    if (gate) {
      await tx
        .insert(deliveryTargets)
        .values({ target: gate.target, nextSendAt: gate.until })
        .onConflictDoUpdate({ target: deliveryTargets.target, set: { nextSendAt: gate.until } });
    }
  });
}
