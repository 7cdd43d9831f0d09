import { and, asc, eq, gt, inArray, isNull, lte, or } from 'drizzle-orm';
import { accounts } from '../../db/schema.js';
import { CLOCKS, deadline } from '../domain/clocks.js';
import { refused } from '../domain/errors.js';
import { AWAITING_FIRST_LOGIN, refuseReminder } from '../domain/preconditions.js';
import { isSystemActor } from '../domain/roles.js';
import type { Status } from '../domain/status.js';
import { addDays } from '../domain/time.js';
import type { ServiceDeps } from './accounts.js';
import type { RequestContext } from './context.js';
import { accountView, enqueue, getAccount, getOrg, loadPrincipal } from './store.js';

const BATCH = 500;
/** How many reminders a report lists; the count is always complete. */
const REPORT_LIMIT = 500;
/** A pending account is first reminded a day after it was made, so the credentials can arrive. */
const FIRST_REMINDER_AFTER_DAYS = 1;
/** Scheduled reminders reach a holder once a day at most, however often the schedule fires. */
const SCHEDULED_GAP_HOURS = 20;
/** The "Remind" button reaches a holder once an hour at most, however many people press it. */
const MANUAL_GAP_MINUTES = 60;

const hoursBefore = (now: Date, hours: number) => new Date(now.getTime() - hours * 3_600_000);

export interface PendingReminder {
  address: string;
  org: string;
  /** Whole days since the account was made. */
  pendingDays: number;
  /** How the temporary password went: `sms` or `envelope`. */
  route: string | null;
  mfaRegistered: boolean;
}

export interface ReminderReport {
  dryRun: boolean;
  at: string;
  reminded: number;
  reminders: PendingReminder[];
  /** True when more were reminded than the report lists. */
  truncated: boolean;
}

/**
 * The scheduled reminder: every person whose account is still pending (no first login, so no
 * MFA either) a day or more after it was made gets a direct message saying how to sign in, and
 * each organisation's channels get one list of its pending accounts, so IT can chase them. Each
 * holder is reminded at most once a day, however many processes or fires run it.
 */
export async function remindPending(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { dryRun: boolean },
): Promise<ReminderReport> {
  if (!isSystemActor(ctx.actor)) {
    throw refused(
      'OPERATOR_ONLY',
      'Only the operator and the scheduler send the pending-account reminders ("reminders" on the operator CLI).',
    );
  }
  const now = ctx.now;
  const report: ReminderReport = {
    dryRun: input.dryRun,
    at: now.toISOString(),
    reminded: 0,
    reminders: [],
    truncated: false,
  };
  const due = and(
    eq(accounts.status, AWAITING_FIRST_LOGIN),
    eq(accounts.kind, 'person'),
    lte(accounts.createdAt, addDays(now, -FIRST_REMINDER_AFTER_DAYS)),
    or(isNull(accounts.lastRemindedAt), lte(accounts.lastRemindedAt, hoursBefore(now, SCHEDULED_GAP_HOURS))),
  );
  const byOrg = new Map<string, PendingReminder[]>();
  let afterId = 0;
  for (;;) {
    const batch = await deps.db.transaction(async (tx) => {
      const query = tx
        .select()
        .from(accounts)
        .where(and(due, gt(accounts.id, afterId)))
        .orderBy(asc(accounts.id))
        .limit(BATCH);
      const rows = input.dryRun ? await query : await query.for('update', { skipLocked: true });
      const reminders = rows.map((row) => ({
        address: row.address,
        org: row.homeOrg,
        pendingDays: Math.floor((now.getTime() - row.createdAt.getTime()) / 86_400_000),
        route: row.credentialRoute,
        mfaRegistered: row.mfaRegistered,
      }));
      if (!input.dryRun && rows.length > 0) {
        await tx
          .update(accounts)
          .set({ lastRemindedAt: now })
          .where(
            and(
              due,
              inArray(
                accounts.id,
                rows.map((r) => r.id),
              ),
            ),
          );
        await enqueue(
          tx,
          ctx,
          rows.map((row, i) => ({
            kind: 'reminder',
            audience: { type: 'holder' as const, address: row.address },
            payload: {
              ...(reminders[i] as PendingReminder),
              status: AWAITING_FIRST_LOGIN,
              // When the account lapses unless the holder signs in (the pending clock).
              dueAt: deadline(CLOCKS.pending, row, deps.policy)?.toISOString() ?? null,
            },
          })),
        );
      }
      return { reminders, lastId: rows.at(-1)?.id };
    });
    for (const r of batch.reminders) {
      report.reminded++;
      if (report.reminders.length < REPORT_LIMIT) report.reminders.push(r);
      else report.truncated = true;
      const list = byOrg.get(r.org) ?? [];
      list.push(r);
      byOrg.set(r.org, list);
    }
    if (batch.reminders.length < BATCH || batch.lastId === undefined) break;
    afterId = batch.lastId;
  }
  if (!input.dryRun && byOrg.size > 0) {
    await enqueue(
      deps.db,
      ctx,
      [...byOrg].map(([org, items]) => ({
        kind: 'pending-digest',
        audience: { type: 'org' as const, ods: org },
        payload: { org, at: now.toISOString(), items: items.sort((a, b) => b.pendingDays - a.pendingDays) },
      })),
    );
  }
  return report;
}

export interface RemindResult {
  address: string;
  status: Status;
  /** When the account next changes unless the holder acts (for pending: null). */
  dueAt: string | null;
}

/**
 * `remind ADDRESS` (and the digest's "Remind" button): sends the holder a direct message with
 * what to do to keep their account. Anyone who may see the account may remind its holder, once
 * an hour at most. A reminder changes no state, so it is logged, not audited.
 */
export async function remindHolder(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { address: string },
): Promise<RemindResult> {
  return deps.db.transaction(async (tx) => {
    const principal = await loadPrincipal(tx, ctx);
    const row = await getAccount(tx, input.address, true);
    const home = await getOrg(tx, row.homeOrg);
    if (!principal.canView(home)) {
      throw refused(
        'NOT_YOUR_ORGANISATION',
        `You can remind the holders of accounts in organisations you manage, and ${row.address} is not one of them. Ask its local administrators ("contact").`,
      );
    }
    const refusal = refuseReminder(row);
    if (refusal) throw refusal;
    const since = new Date(ctx.now.getTime() - MANUAL_GAP_MINUTES * 60_000);
    if (row.lastRemindedAt && row.lastRemindedAt > since) {
      throw refused(
        'REMINDED_RECENTLY',
        `${row.address} was reminded at ${row.lastRemindedAt.toISOString().slice(11, 16)} UTC. A holder is reminded once an hour at most, so they are not flooded; try again later.`,
      );
    }
    const view = accountView(row, home, deps.policy);
    // The one clock a reminder is about: a leaver's grace, an active account's activity, or a
    // pending account's first login.
    const dueAt = view.graceExpiresAt ?? view.activityExpiresAt ?? view.pendingExpiresAt;
    await tx.update(accounts).set({ lastRemindedAt: ctx.now }).where(eq(accounts.id, row.id));
    await enqueue(tx, ctx, [
      {
        kind: 'reminder',
        audience: { type: 'holder', address: row.address },
        payload: {
          address: row.address,
          org: row.homeOrg,
          status: row.status,
          dueAt,
          route: row.credentialRoute,
          pendingDays: Math.floor((ctx.now.getTime() - row.createdAt.getTime()) / 86_400_000),
          remindedBy: principal.label,
        },
      },
    ]);
    return { address: row.address, status: row.status, dueAt };
  });
}
