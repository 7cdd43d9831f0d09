// `import leavers` and POST /hr/leavers: leavers marked now, or their leaving date kept for the sweep.
import { and, eq, isNotNull } from 'drizzle-orm';
import { accounts, hrStarters } from '../../../db/schema.js';
import { invalid, isDomainError, refused } from '../../domain/errors.js';
import { isLeaver, refuseLeavingDate } from '../../domain/preconditions.js';
import { londonDate, londonDayStart } from '../../domain/time.js';
import { parseAddress, parseDate } from '../../domain/validation.js';
import { leaver as markLeaver, type ServiceDeps } from '../accounts.js';
import type { RequestContext } from '../context.js';
import { audit, getAccount, getOrg, loadPrincipal } from '../store.js';
import type { HrRecord } from './csv.js';
import { field, type HrImportInput, LIST_LIMIT } from './rows.js';
import { queueSummaries } from './summaries.js';

export interface LeaverImportReport {
  dryRun: boolean;
  rows: number;
  /** Marked as leavers now (leaving date today or past). */
  marked: number;
  /** Leaving dates recorded for the sweep to act on. */
  scheduled: number;
  /** Already leavers, or already scheduled for that date: nothing done again. */
  existing: number;
  errors: Array<{ row: number; message: string }>;
  byOrg: Record<string, { marked: number; scheduled: number; errors: number }>;
}

/**
 * `import leavers FILE.csv`: each row names the account (by address, or by the employee number
 * its starter row was imported with) and its leaving date. A date today or past marks the leaver
 * now, with every rule of `leaver`; a future date is recorded on the account, `status` shows it,
 * and the sweep marks the leaver on that day, the grace period starting then.
 */
export async function importLeavers(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: HrImportInput,
): Promise<LeaverImportReport> {
  const report: LeaverImportReport = {
    dryRun: input.dryRun,
    rows: 0,
    marked: 0,
    scheduled: 0,
    existing: 0,
    errors: [],
    byOrg: {},
  };
  const org = (ods: string) => {
    report.byOrg[ods] ??= { marked: 0, scheduled: 0, errors: 0 };
    return report.byOrg[ods];
  };
  for await (const record of input.records) {
    report.rows++;
    let home: string | null = null;
    try {
      const address = await leaverAddress(deps, record);
      const leavingDate = parseDate(field(record, 'leaving_date'), 'leaving_date');
      const outcome = await importLeaver(deps, ctx, address, leavingDate, input.dryRun);
      home = outcome.org;
      if (outcome.kind === 'marked') {
        report.marked++;
        org(outcome.org).marked++;
      } else if (outcome.kind === 'scheduled') {
        report.scheduled++;
        org(outcome.org).scheduled++;
      } else report.existing++;
    } catch (e) {
      if (!isDomainError(e)) throw e;
      if (home) org(home).errors++;
      if (report.errors.length < LIST_LIMIT) report.errors.push({ row: record.row, message: e.message });
    }
    input.onProgress?.(report.rows);
  }
  if (!input.dryRun) await queueSummaries(deps, ctx, 'leavers', report.byOrg);
  return report;
}

async function leaverAddress(deps: ServiceDeps, record: HrRecord): Promise<string> {
  const address = field(record, 'address');
  if (address) return parseAddress(address);
  const employeeNumber = field(record, 'employee_number');
  if (!employeeNumber)
    throw invalid('ADDRESS_REQUIRED', 'The row has neither an address nor an employee_number.');
  const known = await deps.db
    .select({ address: hrStarters.address })
    .from(hrStarters)
    .where(and(eq(hrStarters.employeeNumber, employeeNumber), isNotNull(hrStarters.address)));
  const addresses = [...new Set(known.map((k) => k.address ?? ''))];
  if (addresses.length === 0) {
    throw refused(
      'EMPLOYEE_NOT_KNOWN',
      `Employee number ${employeeNumber} was never imported as a starter with an account, so the bot cannot tell whose it is: give the address column for this row.`,
    );
  }
  if (addresses.length > 1) {
    throw refused(
      'EMPLOYEE_AMBIGUOUS',
      `Employee number ${employeeNumber} belongs to starters of several organisations (${addresses.join(', ')}): give the address column for this row.`,
    );
  }
  return addresses[0] ?? '';
}

const notYourLeaver = (address: string) =>
  refused(
    'NOT_YOUR_ORGANISATION',
    `You may import leavers for organisations you administer, and ${address} is not an account of one of them. Ask its local administrators ("contact"), or run the import as one of them.`,
  );

type LeaverOutcome = { kind: 'marked' | 'scheduled' | 'existing'; org: string };

async function importLeaver(
  deps: ServiceDeps,
  ctx: RequestContext,
  address: string,
  leavingDate: string,
  dryRun: boolean,
): Promise<LeaverOutcome> {
  const today = londonDate(ctx.now);
  if (leavingDate <= today) {
    const row = await getAccount(deps.db, address);
    const home = await getOrg(deps.db, row.homeOrg);
    // Checked before `leaver`, which for a holder's own address would file a leaver request instead.
    if (!(await loadPrincipal(deps.db, ctx)).canMarkLeaver(home)) throw notYourLeaver(address);
    if (isLeaver(row)) return { kind: 'existing', org: home.ods };
    if (dryRun) return { kind: 'marked', org: home.ods };
    await markLeaver(deps, ctx, { address });
    return { kind: 'marked', org: home.ods };
  }
  const leavesAt = londonDayStart(leavingDate);
  return deps.db.transaction(async (tx) => {
    const principal = await loadPrincipal(tx, ctx);
    const row = await getAccount(tx, address, true);
    const home = await getOrg(tx, row.homeOrg);
    if (!principal.canMarkLeaver(home)) throw notYourLeaver(address);
    const refusal = refuseLeavingDate(row);
    if (refusal) throw refusal;
    if (row.leavesAt?.getTime() === leavesAt.getTime()) return { kind: 'existing', org: home.ods };
    if (dryRun) return { kind: 'scheduled', org: home.ods };
    await tx.update(accounts).set({ leavesAt }).where(eq(accounts.id, row.id));
    await audit(tx, ctx, {
      action: 'leaver-scheduled',
      address,
      org: home.ods,
      from: row.status,
      to: row.status,
      reason: `leaving date ${leavingDate} from the HR feed: marked as a leaver that day`,
    });
    return { kind: 'scheduled', org: home.ods };
  });
}
