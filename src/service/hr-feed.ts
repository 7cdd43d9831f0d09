import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { and, asc, eq, isNotNull, lte } from 'drizzle-orm';
import { accounts, hrStarters, outbox } from '../../db/schema.js';
import { type DomainError, invalid, isDomainError, refused } from '../domain/errors.js';
import type { Organisation } from '../domain/organisation.js';
import { quote } from '../domain/quote.js';
import { isSystemActor, type Principal } from '../domain/roles.js';
import { londonDate, londonDayStart, shiftDay } from '../domain/time.js';
import {
  type Mobile,
  parseAddress,
  parseDate,
  parseDateOfBirth,
  parseMobile,
  parseName,
  parseOds,
  parseRegistration,
  type Registration,
} from '../domain/validation.js';
import { leaver as markLeaver, type ServiceDeps } from './accounts.js';
import type { RequestContext } from './context.js';
import { DELIVERY_ROUTES, type DeliveryRoute } from './ports.js';
import { createPersonAccount, findDuplicates, type NewPerson } from './provisioning.js';
import { audit, getAccount, getOrg, loadPrincipal } from './store.js';

/** The columns of the two HR files (header names, matched case-insensitively; order free). */
export const STARTER_COLUMNS = {
  required: [
    'employee_number',
    'given_name',
    'family_name',
    'date_of_birth',
    'mobile',
    'org_ods',
    'start_date',
  ],
  optional: ['registration', 'delivery'],
} as const;
export const LEAVER_COLUMNS = { required: ['leaving_date'], either: ['employee_number', 'address'] } as const;

/** How many rows a report lists by name; counts are always complete. */
const LIST_LIMIT = 1000;

/** One data row of an HR file, with its line number in the file (the header is line 1). */
export interface HrRecord {
  row: number;
  fields: Record<string, string>;
}

/** The longest row an HR extract may have (64 KiB): bounds the memory one row can take. */
export const MAX_ROW_BYTES = 64 * 1024;

/** The columns an HR file names in its header row. */
export interface HrLayout {
  required: readonly string[];
  either?: readonly string[];
}

/**
 * Reads an HR CSV in one streaming pass: a header row (names trimmed and lower-cased, so order
 * and case are free), UTF-8 with or without BOM, quoted fields, CRLF or LF, blank lines skipped,
 * other columns ignored. Throws FILE_LAYOUT (exit 2) when the header lacks a required column or
 * the file is not CSV at all, and FILE_EMPTY when it has no header row: an empty file is not an
 * extract with no rows. `name` is how messages call the file ("The file", or its path quoted).
 */
export async function* readHrCsv(
  source: Readable | string,
  layout: HrLayout,
  name = 'The file',
): AsyncGenerator<HrRecord> {
  let headed = false;
  const parser = parse({
    bom: true,
    columns: (header: string[]) => {
      headed = true;
      const names = header.map((h) => h.trim().toLowerCase());
      const missing = layout.required.filter((c) => !names.includes(c));
      const either = layout.either ?? [];
      if (either.length > 0 && !either.some((c) => names.includes(c))) missing.push(either.join(' or '));
      if (missing.length > 0) {
        throw invalid(
          'FILE_LAYOUT',
          `The file's header row has no ${missing.join(', ')} column${missing.length === 1 ? '' : 's'}. The first row must name the columns: ${[...layout.required, ...either].join(', ')} (any order, any case; other columns are ignored).`,
        );
      }
      return names;
    },
    skip_empty_lines: true,
    skip_records_with_empty_values: true,
    relax_column_count: true,
    trim: true,
    info: true,
    // An HR row is a few hundred bytes: a far longer one is not an HR extract, and is not held whole.
    max_record_size: MAX_ROW_BYTES,
  });
  if (typeof source === 'string') parser.end(source);
  else {
    source.on('error', (e) => parser.destroy(e));
    source.pipe(parser);
  }
  try {
    for await (const item of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      yield { row: item.info.lines, fields: item.record };
    }
  } catch (e) {
    if (isDomainError(e)) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    throw invalid(
      'FILE_LAYOUT',
      `${name} could not be read as CSV (${reason}). Export it from HR as CSV with a header row.`,
    );
  }
  if (!headed) {
    throw invalid(
      'FILE_EMPTY',
      `${name} is empty: expected a header line naming the columns ${[...layout.required, ...(layout.either ?? [])].join(', ')}, then a row per person. Export it from HR again.`,
    );
  }
}

/**
 * Reads a whole HR file for its layout and CSV syntax, applying nothing, and counts its rows. An
 * import checks its file this way first, so a file that stops being CSV at row 900 is refused
 * whole, not after 899 rows were applied; each row is at most MAX_ROW_BYTES, so it streams.
 */
export async function checkHrCsv(
  source: Readable | string,
  layout: HrLayout,
  name?: string,
): Promise<number> {
  let rows = 0;
  try {
    for await (const _ of readHrCsv(source, layout, name)) rows++;
  } catch (e) {
    if (!isDomainError(e)) throw e;
    throw invalid(e.code, `${e.message} Nothing was imported.`, e.details);
  }
  return rows;
}

/** What an HR import reads: the file's rows, whether to change anything, and progress. */
export interface HrImportInput {
  records: AsyncIterable<HrRecord>;
  dryRun: boolean;
  /** Called after each row, with the number of rows read so far. */
  onProgress?: ((rows: number) => void) | undefined;
}

export interface StarterRow {
  row: number;
  employeeNumber: string;
  org: string;
  person: NewPerson;
  startDate: string;
}

const field = (r: HrRecord, name: string) => (r.fields[name] ?? '').trim();

/** The row's organisation when its code is readable, to count a bad row against it. */
function odsOf(r: HrRecord): string | null {
  try {
    return parseOds(field(r, 'org_ods'));
  } catch {
    return null;
  }
}

/** A starter row as the grammar would take it: every value through the same validators as `provision`. */
export function parseStarter(r: HrRecord, now: Date): StarterRow {
  const employeeNumber = field(r, 'employee_number');
  if (!/^[A-Za-z0-9][A-Za-z0-9/-]{0,31}$/.test(employeeNumber)) {
    throw invalid(
      'INVALID_EMPLOYEE_NUMBER',
      `employee_number ${quote(employeeNumber)} is missing or not an employee number: give the one on the HR record (letters, digits, / or -, up to 32 characters).`,
    );
  }
  const mobileText = field(r, 'mobile');
  const mobile: Mobile | undefined = mobileText ? parseMobile(mobileText) : undefined;
  const regText = field(r, 'registration');
  const reg: Registration | undefined = regText ? parseRegistration(regText) : undefined;
  const deliveryText = field(r, 'delivery').toLowerCase();
  if (deliveryText && !(DELIVERY_ROUTES as readonly string[]).includes(deliveryText)) {
    throw invalid('INVALID_DELIVERY', `delivery ${quote(deliveryText)} must be sms or envelope.`);
  }
  const delivery = (deliveryText || undefined) as DeliveryRoute | undefined;
  return {
    row: r.row,
    employeeNumber,
    org: parseOds(field(r, 'org_ods')),
    startDate: parseDate(field(r, 'start_date'), 'start_date'),
    person: {
      given: parseName(field(r, 'given_name'), 'given_name'),
      family: parseName(field(r, 'family_name'), 'family_name'),
      dob: parseDateOfBirth(field(r, 'date_of_birth'), now),
      mobile,
      reg,
      delivery,
    },
  };
}

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
      const made = await createPersonAccount(tx, deps, ctx, principal, home, s.person, 'provision');
      await tx
        .update(hrStarters)
        .set({ address: made.account.address })
        .where(eq(hrStarters.id, claimed[0]?.id ?? 0));
      return { kind: 'created', address: made.account.address } as const;
    });
  } catch (e) {
    if (isDomainError(e) && e.code === 'DUPLICATE_PERSON') {
      const matches = (e.details.matches ?? []) as Array<{ address: string }>;
      return { kind: 'duplicate', address: matches[0]?.address ?? 'an existing account' };
    }
    throw e;
  }
}

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
    if (row.status === 'leaver') return { kind: 'existing', org: home.ods };
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
    if (row.status !== 'pending' && row.status !== 'active') {
      throw refused(
        'NOT_ACTIVE',
        `${address} is ${row.status}, so no leaving date can be set (only pending and active accounts leave). Nothing was changed.`,
      );
    }
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

/** One message per organisation to its subscribed channels: what the import did for it. */
async function queueSummaries(
  deps: ServiceDeps,
  ctx: RequestContext,
  file: 'starters' | 'leavers',
  byOrg: Record<string, object>,
): Promise<void> {
  const orgs = Object.entries(byOrg);
  if (orgs.length === 0) return;
  await deps.db.insert(outbox).values(
    orgs.map(([ods, counts]) => ({
      createdAt: ctx.now,
      correlationId: ctx.correlationId ?? null,
      kind: 'hr-import',
      audience: { type: 'org' as const, ods },
      payload: { org: ods, file, at: ctx.now.toISOString(), ...counts },
      availableAt: ctx.now,
    })),
  );
}

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
