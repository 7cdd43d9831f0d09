import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/index.js';
import { deliveries } from '../../db/schema.js';
import { refused } from '../domain/errors.js';
import { actorLabel, isSystemActor } from '../domain/roles.js';
import type { ServiceDeps } from './accounts.js';
import type { RequestContext } from './context.js';

function operatorOnly(ctx: RequestContext, what: string): void {
  if (!isSystemActor(ctx.actor)) {
    throw refused('OPERATOR_ONLY', `${what} for operators on the bot’s command line.`);
  }
}

/** `notifications failed`: deliveries parked after their retry budget (or refused for good), newest first. */
export async function failedNotifications(deps: ServiceDeps, ctx: RequestContext): Promise<FailedDelivery[]> {
  operatorOnly(ctx, 'Failed notifications are listed');
  return failedDeliveries(deps.db);
}

export interface RetryResult {
  requeued: RequeuedDelivery[];
}

/**
 * `notifications retry ID` / `--all`: puts parked deliveries back in the queue for the delivery
 * worker. Only parked (failed) ones: retrying a delivered message would post it twice, and a
 * pending one is still the worker's.
 *
 * No audit row: the audit trail records changes to accounts, organisations and roles (what
 * `audit` and the DSPT export show), and requeueing a message changes none of them. It is an
 * operational action, so it goes to the log (who, which deliveries, their last error), as the
 * worker's own retries and parkings do.
 */
export async function retryNotifications(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { id?: number | undefined; all?: boolean | undefined },
): Promise<RetryResult> {
  operatorOnly(ctx, 'Failed notifications are retried');
  const id = input.id;
  const requeued = await requeueFailedDeliveries(
    deps.db,
    input.all || id === undefined ? 'all' : [id],
    ctx.now,
  );
  if (id !== undefined && requeued.length === 0) {
    const found = await deliveryState(deps.db, id);
    if (!found) {
      throw refused(
        'NOTIFICATION_NOT_FOUND',
        `There is no notification ${id}. "notifications failed" lists the parked ones with their numbers.`,
        { id },
      );
    }
    throw refused(
      'NOTIFICATION_NOT_FAILED',
      found.state === 'delivered'
        ? `Notification ${id} was delivered${found.deliveredAt ? ` at ${found.deliveredAt}` : ''}; retrying it would post it twice, so nothing was changed.`
        : `Notification ${id} is still queued: the delivery worker is retrying it, so nothing was changed. Only parked notifications ("notifications failed") can be retried.`,
      { id, state: found.state },
    );
  }
  for (const d of requeued) {
    deps.logger.info(
      {
        actor: actorLabel(ctx.actor),
        delivery: d.id,
        kind: d.kind,
        target: d.target,
        attempts: d.attempts,
        lastError: d.lastError,
      },
      'parked notification requeued by the operator',
    );
  }
  return { requeued };
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
