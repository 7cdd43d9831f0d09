// The sweep's HR step: starters and leavers whose day has come.
import { and, asc, eq, isNotNull, lte } from 'drizzle-orm';
import { accounts, hrStarters } from '../../../db/schema.js';
import { type DomainError, isDomainError, refused } from '../../domain/errors.js';
import { isSystemActor } from '../../domain/roles.js';
import { londonDate } from '../../domain/time.js';
import { parseMobile, type Registration } from '../../domain/validation.js';
import { leaver as markLeaver, type ServiceDeps } from '../accounts.js';
import type { RequestContext } from '../context.js';
import type { DeliveryRoute } from '../ports.js';
import { createPersonAccount, type NewPerson } from '../provisioning.js';
import { getOrg, loadPrincipal } from '../store.js';

/** What the sweep's HR step did. */
export interface DueReport {
  starters: number;
  leavers: number;
  /** Starters whose day came but who could not be provisioned (the reason is kept on the row). */
  startersFailed: Array<{ org: string; employeeNumber: string; message: string }>;
}

/**
 * The sweep's HR step: starters whose provisioning day has come are provisioned (as the
 * scheduler, with every rule of `provision`), and leavers whose leaving date has come are marked
 * (the grace period starting at that date). Each happens once: a starter row changes state in the
 * transaction that makes the account, and a leaving date is cleared by the change it causes.
 */
export async function runDueHrChanges(
  deps: ServiceDeps,
  ctx: RequestContext,
  dryRun: boolean,
): Promise<DueReport> {
  if (!isSystemActor(ctx.actor)) throw refused('OPERATOR_ONLY', 'Only the sweep applies HR dates.');
  const report: DueReport = { starters: 0, leavers: 0, startersFailed: [] };
  const today = londonDate(ctx.now);
  const principal = await loadPrincipal(deps.db, ctx);
  const due = await deps.db
    .select({ id: hrStarters.id })
    .from(hrStarters)
    .where(and(eq(hrStarters.state, 'scheduled'), lte(hrStarters.provisionOn, today)))
    .orderBy(asc(hrStarters.id));
  for (const { id } of due) {
    if (dryRun) {
      report.starters++;
      continue;
    }
    try {
      const made = await deps.db.transaction(async (tx) => {
        const [s] = await tx
          .select()
          .from(hrStarters)
          .where(and(eq(hrStarters.id, id), eq(hrStarters.state, 'scheduled')))
          .for('update', { skipLocked: true });
        if (!s) return false;
        const home = await getOrg(tx, s.org);
        const mobile =
          s.mobileSealed && deps.sealer ? parseMobile(deps.sealer.open(s.mobileSealed)) : undefined;
        const person: NewPerson = {
          given: s.given ?? '',
          family: s.family ?? '',
          dob: s.dob ?? undefined,
          reg:
            s.regBody && s.regNumber
              ? { body: s.regBody as Registration['body'], number: s.regNumber }
              : undefined,
          mobile,
          delivery: s.route as DeliveryRoute,
          employeeId: s.employeeNumber,
          startsOn: s.startDate,
        };
        const account = await createPersonAccount(tx, deps, ctx, principal, home, person, 'provision');
        await tx
          .update(hrStarters)
          .set({
            state: 'provisioned',
            address: account.account.address,
            provisionedAt: ctx.now,
            mobileSealed: null,
            lastError: null,
          })
          .where(eq(hrStarters.id, s.id));
        return true;
      });
      if (made) report.starters++;
    } catch (e) {
      if (!isDomainError(e)) throw e;
      const [s] = await deps.db
        .update(hrStarters)
        .set({ lastError: (e as DomainError).message })
        .where(eq(hrStarters.id, id))
        .returning({ org: hrStarters.org, employeeNumber: hrStarters.employeeNumber });
      if (s) report.startersFailed.push({ ...s, message: e.message });
    }
  }
  const leaving = await deps.db
    .select({ address: accounts.address, leavesAt: accounts.leavesAt })
    .from(accounts)
    .where(and(isNotNull(accounts.leavesAt), lte(accounts.leavesAt, ctx.now)))
    .orderBy(asc(accounts.id));
  for (const l of leaving) {
    if (dryRun) {
      report.leavers++;
      continue;
    }
    try {
      // Stamped with the leaving date, so the grace period runs from the day they left.
      await markLeaver(deps, { ...ctx, now: l.leavesAt ?? ctx.now }, { address: l.address });
      report.leavers++;
    } catch (e) {
      if (!isDomainError(e)) throw e;
      // Overtaken (already a leaver, or lapsed): the date has nothing left to do.
      await deps.db.update(accounts).set({ leavesAt: null }).where(eq(accounts.address, l.address));
    }
  }
  return report;
}
