import { refused } from '../domain/errors.js';
import { actorLabel, isSystemActor } from '../domain/roles.js';
import {
  deliveryState,
  type FailedDelivery,
  failedDeliveries,
  type RequeuedDelivery,
  requeueFailedDeliveries,
} from '../jobs/delivery.js';
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
