// `import starters` and POST /hr/starters: accounts made now, or remembered for their day.
import { and, eq } from 'drizzle-orm';
import { hrStarters } from '../../../db/schema.js';
import { invalid, isDomainError, refused } from '../../domain/errors.js';
import type { Organisation } from '../../domain/organisation.js';
import type { Principal } from '../../domain/roles.js';
import { londonDate, shiftDay } from '../../domain/time.js';
import type { ServiceDeps } from '../accounts.js';
import type { RequestContext } from '../context.js';
import type { DeliveryRoute } from '../ports.js';
import { createPersonAccount, findDuplicates } from '../provisioning.js';
import { getOrg, loadPrincipal } from '../store.js';
import { type HrImportInput, LIST_LIMIT, odsOf, parseStarter, type StarterRow } from './rows.js';
import { queueSummaries } from './summaries.js';

export interface StarterImportReport {
  dryRun: boolean;
  rows: number;
  /** Accounts made now (start date within the lead time). */
  created: number;
  /** Starters remembered to be provisioned on their day. */
  scheduled: number;
  /** Employee numbers already imported: nothing done again. */
  existing: number;
  /** People who already have an account: not created; mark them as joiners instead. */
  duplicates: Array<{ row: number; employeeNumber: string; address: string }>;
  errors: Array<{ row: number; message: string }>;
  createdAddresses: string[];
  /** Per organisation, for the summary its channels get. */
  byOrg: Record<string, { created: number; scheduled: number; duplicates: string[]; errors: number }>;
}

type StarterOutcome =
  | { kind: 'created'; address: string }
  | { kind: 'scheduled' }
  | { kind: 'existing' }
  | { kind: 'duplicate'; address: string };

/**
 * `import starters FILE.csv`: each row is checked and provisioned with every rule of
 * `provision` (validation, the actor's permission, the duplicate-person check, the site cap), or
 * remembered to be provisioned a policy number of days before its start date. A bad row is
 * reported with its line and reason and the rest of the file goes on. The employee number is
 * remembered per organisation, so importing a file again creates nothing twice.
 */
export async function importStarters(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: HrImportInput,
): Promise<StarterImportReport> {
  const report: StarterImportReport = {
    dryRun: input.dryRun,
    rows: 0,
    created: 0,
    scheduled: 0,
    existing: 0,
    duplicates: [],
    errors: [],
    createdAddresses: [],
    byOrg: {},
  };
  const org = (ods: string) => {
    report.byOrg[ods] ??= { created: 0, scheduled: 0, duplicates: [], errors: 0 };
    return report.byOrg[ods];
  };
  const principal = await loadPrincipal(deps.db, ctx);
  // A dry run stores nothing, so it remembers the employee numbers it has seen itself.
  const seen = new Set<string>();
  // Organisations are read once per import (the account itself re-reads and locks its own).
  const orgs = new Map<string, Organisation>();
  for await (const record of input.records) {
    report.rows++;
    let starter: StarterRow | null = null;
    try {
      starter = parseStarter(record, ctx.now);
      const key = `${starter.org}|${starter.employeeNumber}`;
      const outcome =
        input.dryRun && seen.has(key)
          ? ({ kind: 'existing' } as const)
          : await importStarter(deps, ctx, principal, orgs, starter, input.dryRun);
      seen.add(key);
      const summary = org(starter.org);
      if (outcome.kind === 'created') {
        report.created++;
        summary.created++;
        if (report.createdAddresses.length < LIST_LIMIT) report.createdAddresses.push(outcome.address);
      } else if (outcome.kind === 'scheduled') {
        report.scheduled++;
        summary.scheduled++;
      } else if (outcome.kind === 'existing') report.existing++;
      else {
        summary.duplicates.push(outcome.address);
        if (report.duplicates.length < LIST_LIMIT) {
          report.duplicates.push({
            row: record.row,
            employeeNumber: starter.employeeNumber,
            address: outcome.address,
          });
        }
      }
    } catch (e) {
      if (!isDomainError(e)) throw e;
      const ods = starter?.org ?? odsOf(record);
      if (ods && e.code !== 'ORG_NOT_FOUND') org(ods).errors++;
      if (report.errors.length < LIST_LIMIT) report.errors.push({ row: record.row, message: e.message });
    }
    input.onProgress?.(report.rows);
  }
  if (!input.dryRun) await queueSummaries(deps, ctx, 'starters', report.byOrg);
  return report;
}

async function importStarter(
  deps: ServiceDeps,
  ctx: RequestContext,
  principal: Principal,
  orgs: Map<string, Organisation>,
  s: StarterRow,
  dryRun: boolean,
): Promise<StarterOutcome> {
  const [known] = await deps.db
    .select({ id: hrStarters.id })
    .from(hrStarters)
    .where(and(eq(hrStarters.org, s.org), eq(hrStarters.employeeNumber, s.employeeNumber)));
  if (known) return { kind: 'existing' };
  const home = orgs.get(s.org) ?? (await getOrg(deps.db, s.org));
  orgs.set(s.org, home);
  if (!principal.canAdminister(home)) {
    throw refused(
      'NOT_YOUR_ORGANISATION',
      `You may import starters for organisations you administer; ${home.ods} is not one of them. Ask its local administrators ("contact"), or run the import as one of them.`,
    );
  }
  const route: DeliveryRoute = s.person.delivery ?? (s.person.mobile ? 'sms' : 'envelope');
  const provisionOn = shiftDay(s.startDate, -deps.policy.starterLeadDays);
  const today = londonDate(ctx.now);
  const facts = {
    given: s.person.given,
    family: s.person.family,
    dob: s.person.dob,
    mobileHash: s.person.mobile ? deps.hashMobile(s.person.mobile.e164) : undefined,
    reg: s.person.reg,
  };
  if (route === 'sms' && !s.person.mobile) {
    throw invalid(
      'MOBILE_REQUIRED',
      'delivery is sms but the row has no mobile number: add it, or set delivery to envelope.',
    );
  }
  const [match] = await findDuplicates(deps.db, facts);
  if (match) return { kind: 'duplicate', address: match.address };
  if (provisionOn > today && route === 'sms' && !deps.sealer) {
    throw refused(
      'CANNOT_KEEP_MOBILE',
      `start_date ${s.startDate} is more than ${deps.policy.starterLeadDays} days away and the password goes by SMS, so the bot would have to keep the mobile number until ${provisionOn}; it keeps none unless HR_DATA_KEY is set (it then keeps it encrypted). Set HR_DATA_KEY, import this row nearer the start date, or use delivery envelope.`,
    );
  }
  if (dryRun) return provisionOn <= today ? { kind: 'created', address: '(dry run)' } : { kind: 'scheduled' };

  const remembered = {
    org: s.org,
    employeeNumber: s.employeeNumber,
    given: s.person.given,
    family: s.person.family,
    dob: s.person.dob ?? null,
    regBody: s.person.reg?.body ?? null,
    regNumber: s.person.reg?.number ?? null,
    route,
    mobileMasked: s.person.mobile?.masked ?? null,
    startDate: s.startDate,
    provisionOn,
    importedAt: ctx.now,
    importedBy: principal.label,
  };
  if (provisionOn > today) {
    const inserted = await deps.db
      .insert(hrStarters)
      .values({
        ...remembered,
        state: 'scheduled',
        mobileSealed: s.person.mobile && deps.sealer ? deps.sealer.seal(s.person.mobile.e164) : null,
      })
      .onConflictDoNothing()
      .returning({ id: hrStarters.id });
    return inserted.length > 0 ? { kind: 'scheduled' } : { kind: 'existing' };
  }
  try {
    return await deps.db.transaction(async (tx) => {
      // Remembered first: a concurrent import of the same employee stops here, not after an SMS.
      const claimed = await tx
        .insert(hrStarters)
        .values({ ...remembered, state: 'provisioned', provisionedAt: ctx.now })
        .onConflictDoNothing()
        .returning({ id: hrStarters.id });
      if (claimed.length === 0) return { kind: 'existing' } as const;
      const person = { ...s.person, employeeId: s.employeeNumber, startsOn: s.startDate };
      const made = await createPersonAccount(tx, deps, ctx, principal, home, person, 'provision');
      await tx
        .update(hrStarters)
        .set({ address: made.account.address })
        .where(eq(hrStarters.id, claimed[0]?.id ?? 0));
      return { kind: 'created', address: made.account.address } as const;
    });
  } catch (e) {
    if (isDomainError(e, 'DUPLICATE_PERSON')) {
      return { kind: 'duplicate', address: e.details.matches[0]?.address ?? 'an existing account' };
    }
    throw e;
  }
}
