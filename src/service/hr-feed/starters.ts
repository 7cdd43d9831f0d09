// `import starters` and POST /hr/starters: accounts made now, or remembered for their day.
import { and, eq } from 'drizzle-orm';
import { hrStarters } from '../../../db/schema.js';
import { type DomainError, invalid, isDomainError } from '../../domain/errors.js';
import { isSiteKind, type Organisation } from '../../domain/organisation.js';
import type { Principal } from '../../domain/roles.js';
import { londonDate } from '../../domain/time.js';
import type { ServiceDeps } from '../accounts.js';
import type { RequestContext } from '../context.js';
import { createPersonAccount, findDuplicates } from '../provisioning.js';
import { isRowRefusal, sqlState } from '../row-refusal.js';
import { getOrg, loadPrincipal } from '../store.js';
import type { HrRecord } from './csv.js';
import { type HrImportInput, LIST_LIMIT, odsOf, parseStarter, type StarterRow } from './rows.js';
import {
  cannotKeepMobile,
  type MadeBefore,
  mobileRequired,
  notYourOrganisation,
  type PreparedSet,
  prepareStarterSet,
  provisionDay,
  routeOf,
  SET_ROWS,
  SetFailedAfterDelivery,
  SetNotWritten,
  type StarterOutcome,
  type StarterResult,
  starterKey,
  writeStarterSet,
  yieldToOthers,
} from './starter-sets.js';
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

/** A row read from the file: parsed, or its parse error. */
type Read = { record: HrRecord; starter: StarterRow } | { record: HrRecord; error: DomainError };

/**
 * `import starters FILE.csv`: each row is checked and provisioned with every rule of
 * `provision` (validation, the actor's permission, the duplicate-person check, the site cap), or
 * remembered to be provisioned a policy number of days before its start date. A bad row is
 * reported with its line and reason and the rest of the file goes on. The employee number is
 * remembered per organisation, so importing a file again creates nothing twice.
 *
 * Rows are checked and written SET_ROWS at a time (issue 17): a set is prepared (checked, and its
 * scheduled rows compared with the accounts there are) while the sets before it are written; its
 * accounts are then made in one transaction of multi-row statements, and its scheduled rows
 * remembered by one statement beside it (prepareStarterSet, writeStarterSet). A set is cut short
 * before a row repeating one of its employee numbers, and before a row that goes alone (made now
 * in a community site, whose cap is counted under the site's lock, or with a directory taking
 * part); so every row sees the rows before it as the row-by-row import did. A set that cannot be
 * written whole is redone row by row. A dry run goes row by row, writing nothing.
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
  const tally = (record: HrRecord, starter: StarterRow | null, result: StarterResult) => {
    if (result.kind === 'error') {
      const ods = starter?.org ?? odsOf(record);
      if (ods && result.error.code !== 'ORG_NOT_FOUND') org(ods).errors++;
      if (report.errors.length < LIST_LIMIT)
        report.errors.push({ row: record.row, message: result.error.message });
      return;
    }
    if (!starter || result.kind === 'again') return;
    const summary = org(starter.org);
    if (result.kind === 'created') {
      report.created++;
      summary.created++;
      if (report.createdAddresses.length < LIST_LIMIT) report.createdAddresses.push(result.address);
    } else if (result.kind === 'scheduled') {
      report.scheduled++;
      summary.scheduled++;
    } else if (result.kind === 'existing') report.existing++;
    else {
      summary.duplicates.push(result.address);
      if (report.duplicates.length < LIST_LIMIT) {
        report.duplicates.push({
          row: record.row,
          employeeNumber: starter.employeeNumber,
          address: result.address,
        });
      }
    }
  };
  const principal = await loadPrincipal(deps.db, ctx);
  // Organisations are read once per import (the account itself re-reads and locks its own).
  const orgs = new Map<string, Organisation>();
  const home = async (ods: string) => {
    const found = orgs.get(ods) ?? (await getOrg(deps.db, ods));
    orgs.set(ods, found);
    return found;
  };
  const alone = (row: StarterRow) =>
    rowAlone(deps, ctx, principal, orgs, row, false).then(
      (outcome): StarterResult => outcome,
      (e: unknown): StarterResult => {
        if (isDomainError(e)) return { kind: 'error', error: e };
        throw e;
      },
    );

  if (input.dryRun) {
    // A dry run stores nothing, so it remembers the employee numbers it has seen itself.
    const seen = new Set<string>();
    for await (const record of input.records) {
      report.rows++;
      const read = parse(record, ctx.now);
      if ('error' in read) tally(record, null, { kind: 'error', error: read.error });
      else {
        const key = starterKey(read.starter);
        const result: StarterResult = seen.has(key)
          ? { kind: 'existing' }
          : await rowAlone(deps, ctx, principal, orgs, read.starter, true).then(
              (outcome): StarterResult => outcome,
              (e: unknown): StarterResult => {
                if (isDomainError(e)) return { kind: 'error', error: e };
                throw e;
              },
            );
        seen.add(key);
        tally(record, read.starter, result);
      }
      input.onProgress?.(report.rows);
    }
    return report;
  }

  const today = londonDate(ctx.now);
  const goesAlone = async (s: StarterRow) => {
    if (provisionDay(deps, s) > today) return false;
    if (deps.directoryEffects || deps.addressDirectory) return true;
    try {
      return isSiteKind((await home(s.org)).kind);
    } catch (e) {
      if (isDomainError(e)) return false;
      throw e;
    }
  };
  let set: Read[] = [];
  const keys = new Set<string>();
  /** Writes a set once the one before it is written; resolves with the people it made. */
  const write = async (batch: Read[], prepared: Promise<PreparedSet> | null, before: MadeBefore) => {
    let results: StarterResult[] = [];
    let made: MadeBefore = [];
    if (prepared) {
      try {
        ({ results, made } = await writeStarterSet(deps, ctx, principal, await prepared, before));
      } catch (e) {
        if (e instanceof SetFailedAfterDelivery || isDomainError(e)) throw e;
        // The set was not written (but for any rows `done`): each row on its own, so a bad one is
        // rejected alone.
        const done = e instanceof SetNotWritten ? e.done : new Map<number, StarterResult>();
        made = 'unknown';
        results = batch
          .filter((read) => 'starter' in read)
          .map((_, row) => done.get(row) ?? { kind: 'again' });
      }
    }
    let i = 0;
    for (const read of batch) {
      if ('error' in read) tally(read.record, null, { kind: 'error', error: read.error });
      else {
        const result = results[i++] ?? ({ kind: 'again' } as const);
        if (result.kind === 'again') made = 'unknown';
        tally(
          read.record,
          read.starter,
          result.kind === 'again' ? await stored(alone(read.starter)) : result,
        );
      }
    }
    return made;
  };
  // Sets are read and prepared (checked, and compared with the accounts there are) ahead of the
  // one being written, up to SETS_AHEAD of them: the database writes while Node works. Sets are
  // still written one after another, each comparing its rows with what every set that was not
  // yet written when it was prepared has made.
  const made: MadeBefore[] = [];
  let written = 0;
  let forgotten = 0;
  let writing: Promise<void> = Promise.resolve();
  const waiting: Array<Promise<void>> = [];
  const flush = async () => {
    const batch = set;
    set = [];
    keys.clear();
    const n = made.length;
    made.push('unknown');
    const rows = batch.flatMap((r) => ('starter' in r ? [r.starter] : []));
    // Sets from `unseen` on are not written yet, so this set's read does not see their accounts.
    // Those before it every later set's read sees: what they made need not be kept.
    const unseen = written;
    made.fill([], forgotten, unseen);
    forgotten = unseen;
    const prepared = rows.length > 0 ? prepareStarterSet(deps, ctx, principal, home, rows) : null;
    prepared?.catch(() => {});
    const previous = writing;
    writing = (async () => {
      await previous;
      made[n] = await write(batch, prepared, madeSince(made.slice(unseen, n)));
      written = n + 1;
    })();
    // Its failure is thrown where it is next awaited (a later set, or the end of the file).
    writing.catch(() => {});
    waiting.push(writing);
    while (waiting.length > SETS_AHEAD) await waiting.shift();
  };
  const drain = async () => {
    await flush();
    await writing;
    waiting.length = 0;
  };
  for await (const record of input.records) {
    report.rows++;
    // The file is read in chunks of hundreds of rows: the set being written goes on between.
    if (report.rows % 25 === 0) await yieldToOthers();
    const read = parse(record, ctx.now);
    if ('starter' in read) {
      const key = starterKey(read.starter);
      if (keys.has(key)) await flush();
      if (await goesAlone(read.starter)) {
        await drain();
        tally(record, read.starter, await alone(read.starter));
        input.onProgress?.(report.rows);
        continue;
      }
      keys.add(key);
    }
    set.push(read);
    if (set.length >= SET_ROWS) await flush();
    input.onProgress?.(report.rows);
  }
  await drain();
  await queueSummaries(deps, ctx, 'starters', report.byOrg);
  return report;
}

/** How many sets may be read and prepared while the one before them is still being written. */
const SETS_AHEAD = 2;

/** What the given sets made, together: `unknown` if any of them is. */
const madeSince = (sets: readonly MadeBefore[]): MadeBefore =>
  sets.includes('unknown') ? 'unknown' : sets.flatMap((m) => (m === 'unknown' ? [] : m));

function parse(record: HrRecord, now: Date): Read {
  try {
    return { record, starter: parseStarter(record, now) };
  } catch (e) {
    if (!isDomainError(e)) throw e;
    return { record, error: e };
  }
}

/**
 * A row redone alone after its set could not be written: one the database refuses (a check, a
 * value out of range) is rejected with its line, as any other bad row, and the file goes on.
 */
async function stored(result: Promise<StarterResult>): Promise<StarterResult> {
  try {
    return await result;
  } catch (e) {
    if (!isRowRefusal(e)) throw e;
    const code = sqlState(e);
    return {
      kind: 'error',
      error: invalid(
        'ROW_NOT_WRITTEN',
        `the database refused this row (SQLSTATE ${code}): check its values against the documented layout; the other rows were imported.`,
      ),
    };
  }
}

/** One row in its own transaction: the import before issue 17, kept for rows that go alone. */
async function rowAlone(
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
  if (!principal.canAdminister(home)) throw notYourOrganisation(home);
  const route = routeOf(s);
  const provisionOn = provisionDay(deps, s);
  const today = londonDate(ctx.now);
  const facts = {
    given: s.person.given,
    family: s.person.family,
    dob: s.person.dob,
    mobileHash: s.person.mobile ? deps.hashMobile(s.person.mobile.e164) : undefined,
    reg: s.person.reg,
  };
  if (route === 'sms' && !s.person.mobile) throw mobileRequired();
  const [match] = await findDuplicates(deps.db, facts);
  if (match) return { kind: 'duplicate', address: match.address };
  if (provisionOn > today && route === 'sms' && !deps.sealer) throw cannotKeepMobile(deps, s, provisionOn);
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
