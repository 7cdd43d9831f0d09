// `import starters` a set of rows at a time: the reads for the whole set in one query each, the
// writes in one transaction of multi-row statements, each set travelling as one JSON parameter.
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../../db/index.js';
import { addressBase, addressCandidate } from '../../domain/address.js';
import {
  type AsciiNames,
  asciiNames,
  type ExistingPerson,
  type PersonFacts,
  similarAsciiNames,
} from '../../domain/duplicates.js';
import { type DomainError, invalid, isDomainError, refused } from '../../domain/errors.js';
import type { Organisation } from '../../domain/organisation.js';
import { mfaRequired } from '../../domain/policy.js';
import type { Principal } from '../../domain/roles.js';
import { londonDate, shiftDay } from '../../domain/time.js';
import { CREATED_STATUS } from '../../domain/transitions.js';
import type { ServiceDeps } from '../accounts.js';
import type { RequestContext } from '../context.js';
import type { DeliveryRoute } from '../ports.js';
import {
  MAX_CANDIDATES,
  newAccountReason,
  noAddressFrom,
  type ProvisionedDelivery,
  personFactKeys,
  temporaryPassword,
} from '../provisioning.js';
import { isRowRefusal } from '../row-refusal.js';
import { auditValues, type Executor } from '../store.js';
import type { StarterRow } from './rows.js';

/** How many rows are read, checked and written together. */
export const SET_ROWS = 2000;

export type StarterOutcome =
  | { kind: 'created'; address: string }
  | { kind: 'scheduled' }
  | { kind: 'existing' }
  | { kind: 'duplicate'; address: string };

/** `again`: to be redone alone once the set is written (it matched a row whose credential could not go). */
export type StarterResult = StarterOutcome | { kind: 'error'; error: DomainError } | { kind: 'again' };

/** The key an employee number is remembered under. */
export const starterKey = (s: Pick<StarterRow, 'org' | 'employeeNumber'>) => `${s.org}|${s.employeeNumber}`;

export function notYourOrganisation(home: Organisation): DomainError {
  return refused(
    'NOT_YOUR_ORGANISATION',
    `You may import starters for organisations you administer; ${home.ods} is not one of them. Ask its local administrators ("contact"), or run the import as one of them.`,
  );
}

export function mobileRequired(): DomainError {
  return invalid(
    'MOBILE_REQUIRED',
    'delivery is sms but the row has no mobile number: add it, or set delivery to envelope.',
  );
}

export function cannotKeepMobile(deps: ServiceDeps, s: StarterRow, provisionOn: string): DomainError {
  return refused(
    'CANNOT_KEEP_MOBILE',
    `start_date ${s.startDate} is more than ${deps.policy.starterLeadDays} days away and the password goes by SMS, so the bot would have to keep the mobile number until ${provisionOn}; it keeps none unless HR_DATA_KEY is set (it then keeps it encrypted). Set HR_DATA_KEY, import this row nearer the start date, or use delivery envelope.`,
  );
}

/** The day a starter's account is made: the lead time before the start date. */
export const provisionDay = (deps: ServiceDeps, s: StarterRow) =>
  shiftDay(s.startDate, -deps.policy.starterLeadDays);

export const routeOf = (s: StarterRow): DeliveryRoute =>
  s.person.delivery ?? (s.person.mobile ? 'sms' : 'envelope');

/**
 * Thrown when a set cannot be written whole: it is redone row by row, but for the rows in `done`
 * (its scheduled rows, remembered in a statement of their own before the set failed).
 */
export class SetNotWritten extends Error {
  done = new Map<number, StarterResult>();
}

/** Thrown when a set failed after a credential went out: redoing it would send another. */
export class SetFailedAfterDelivery extends Error {}

/** A row that passed the checks before the set's transaction. */
interface Planned {
  index: number;
  s: StarterRow;
  home: Organisation;
  route: DeliveryRoute;
  provisionOn: string;
  madeNow: boolean;
  facts: PersonFacts;
  /** Its names as the duplicate check compares them, worked out once. */
  names?: AsciiNames;
  /** Made now: its address base (`given.family`), worked out once. */
  base?: string;
  /** Scheduled: its mobile number sealed to be kept (null when there is none to keep). */
  sealed?: string | null;
  /** Already remembered when the set was prepared (the transaction reads it again). */
  rememberedEarly?: boolean;
  /** Compared before the set's transaction with the accounts there were: `earlier` is the first it may be. */
  comparedEarly?: boolean;
  earlier?: Known;
  /** Made now: its address once allocated, its account and its hr_starters row. */
  address?: string;
  accountId?: number;
  starterId?: number;
  receipt?: ProvisionedDelivery;
}

/** Someone the duplicate check compares against: an account, or a row of this set made before. */
interface Known {
  /** Accounts by id, the set's own rows after every account: the earliest made is the one named. */
  order: number;
  person: ExistingPerson;
  /** The person's names as the duplicate check compares them, worked out when first needed. */
  names?: AsciiNames;
  /** A row of this set: its address is known only once allocated. */
  planned?: Planned;
}

/** A person made by a set, for the set after it: its account is not yet visible when that set reads. */
export interface MadePerson {
  id: number;
  person: ExistingPerson;
}

/**
 * What the sets not yet written when a set was prepared have made, for its duplicate check: every
 * account, or `unknown` when some of their rows went alone (every row's candidates are then read
 * again in the set's transaction).
 */
export type MadeBefore = readonly MadePerson[] | 'unknown';

/** A set checked and worked out before its transaction. */
export interface PreparedSet {
  rows: readonly StarterRow[];
  planned: Planned[];
  results: Array<StarterResult | undefined>;
}

/**
 * The work of a set that needs no lock, done while the sets before it are written: each row's
 * checks (the actor's permission, the delivery route), the values derived from it (mobile hash,
 * sealed mobile, names and address base), and the duplicate check against the accounts that
 * exist now. The sets before have not all committed yet, so the set's transaction later compares
 * each row with what they made (`MadeBefore`), and reads the candidates of each row made now
 * under the locks.
 */
export async function prepareStarterSet(
  deps: ServiceDeps,
  ctx: RequestContext,
  principal: Principal,
  home: (ods: string) => Promise<Organisation>,
  rows: readonly StarterRow[],
): Promise<PreparedSet> {
  const results: Array<StarterResult | undefined> = new Array(rows.length);
  const today = londonDate(ctx.now);
  const planned: Planned[] = [];
  for (const [index, s] of rows.entries()) {
    if (index % 25 === 24) await yieldToOthers();
    try {
      const org = await home(s.org);
      if (!principal.canAdminister(org)) throw notYourOrganisation(org);
      const route = routeOf(s);
      if (route === 'sms' && !s.person.mobile) throw mobileRequired();
      const provisionOn = provisionDay(deps, s);
      const madeNow = provisionOn <= today;
      const facts: PersonFacts = {
        given: s.person.given,
        family: s.person.family,
        dob: s.person.dob,
        mobileHash: s.person.mobile ? deps.hashMobile(s.person.mobile.e164) : undefined,
        reg: s.person.reg,
      };
      planned.push({
        index,
        s,
        home: org,
        route,
        provisionOn,
        madeNow,
        facts,
        names: namesOf(facts.given, facts.family),
        base: madeNow ? addressBase(s.person.given, s.person.family) : undefined,
        sealed: !madeNow && s.person.mobile && deps.sealer ? deps.sealer.seal(s.person.mobile.e164) : null,
      });
    } catch (e) {
      if (!isDomainError(e)) throw e;
      results[index] = { kind: 'error', error: e };
    }
  }
  // Scheduled rows are compared now with the accounts there are (as the row-by-row import read
  // them, with no lock); rows made now are read again under the locks in the transaction, so
  // they are not read here. Rows already remembered are left to the transaction to confirm.
  const remembered = await rememberedKeys(deps.db, rows);
  for (const p of planned) p.rememberedEarly = remembered.has(starterKey(p.s));
  const early = planned.filter((p) => !p.madeNow && !p.rememberedEarly);
  const existing = early.length > 0 ? await possibleMatches(deps.db, early) : [];
  const people = new PeopleIndex(existing);
  for (const [n, p] of early.entries()) {
    p.earlier = people.match(p);
    p.comparedEarly = true;
    if (n % 25 === 24) await yieldToOthers();
  }
  return { rows, planned, results };
}

/** Lets the set being written go on between slices of other work (the next set's, the file's). */
export const yieldToOthers = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Writes one prepared set with every rule of the row-by-row import: employee numbers already
 * remembered, the duplicate-person check (against accounts, the set before and the rows of the
 * set made before), and for rows due now a new account, its credential and its audit row. Rows
 * due now in community sites, and any when a directory takes part, are not for this path (the
 * caller sends them row by row). Throws SetNotWritten when the set's transaction cannot be
 * completed whole: nothing of it is written but the scheduled rows in its `done`. Returns each
 * row's result and the people it made.
 */
export async function writeStarterSet(
  deps: ServiceDeps,
  ctx: RequestContext,
  principal: Principal,
  prepared: PreparedSet,
  before: MadeBefore,
): Promise<{ results: StarterResult[]; made: MadePerson[] }> {
  const { rows, planned, results } = prepared;
  let made: MadePerson[] = [];
  // The scheduled rows are remembered by a statement of their own, beside the set's transaction:
  // they need none of its locks, and the database writes them on another connection meanwhile.
  let scheduled: { rows: Planned[]; claimed: Promise<Map<string, number>> } | undefined;
  const rememberScheduled = (rows: Planned[]) => {
    const claimed = claim(deps.db, ctx, principal, rows);
    claimed.catch(() => {});
    scheduled = { rows, claimed };
  };
  // Employee numbers already remembered are read again in the set's transaction, under its locks
  // (the read when it was prepared only spared their candidates): a remembered row is `existing`
  // whatever its checks found.
  if (planned.length > 0) {
    try {
      made = await deps.db.transaction((tx) =>
        writePlanned(tx, deps, ctx, principal, prepared, before, results, rememberScheduled),
      );
    } catch (e) {
      if (!scheduled || e instanceof SetFailedAfterDelivery || isDomainError(e)) throw e;
      // The rows made now are redone one by one; the scheduled ones remembered stay as they are.
      const notWritten = e instanceof SetNotWritten ? e : new SetNotWritten(String(e), { cause: e });
      const claimed = await scheduled.claimed.catch(() => new Map<string, number>());
      for (const p of scheduled.rows) {
        if (claimed.has(starterKey(p.s))) notWritten.done.set(p.index, { kind: 'scheduled' });
      }
      throw notWritten;
    }
    if (scheduled) {
      let claimed: Map<string, number> | undefined;
      try {
        claimed = await scheduled.claimed;
      } catch (e) {
        if (!isRowRefusal(e)) {
          if (made.length > 0) throw new SetFailedAfterDelivery(String(e), { cause: e });
          throw e;
        }
        // A row the database refuses: the scheduled rows are redone alone, so it is rejected alone.
      }
      for (const p of scheduled.rows) {
        results[p.index] = !claimed
          ? { kind: 'again' }
          : claimed.has(starterKey(p.s))
            ? { kind: 'scheduled' }
            : // Remembered by an import running beside this one.
              { kind: 'existing' };
      }
    }
  } else {
    const remembered = await rememberedKeys(deps.db, rows);
    for (const [index, s] of rows.entries()) {
      if (remembered.has(starterKey(s))) results[index] = { kind: 'existing' };
    }
  }
  return { results: results.map((r) => r ?? { kind: 'again' }), made };
}

async function writePlanned(
  tx: Executor,
  deps: ServiceDeps,
  ctx: RequestContext,
  principal: Principal,
  prepared: PreparedSet,
  before: MadeBefore,
  results: Array<StarterResult | undefined>,
  rememberScheduled: (rows: Planned[]) => void,
): Promise<MadePerson[]> {
  const { rows } = prepared;
  let planned = prepared.planned;
  // As createPersonAccount: the facts of everyone made now are locked before the duplicate check,
  // so a provision or another import of the same person waits for this set to commit.
  const lockKeys = [
    ...new Set(planned.filter((p) => p.madeNow).flatMap((p) => personFactKeys(p.facts))),
  ].sort();
  // The locks, what is remembered and the candidates of the rows that need reading go to the
  // database together, in this order, and are answered together.
  const locking =
    lockKeys.length > 0
      ? tx.execute(
          sql`select count(pg_advisory_xact_lock(hashtext(k))) from (
            select k from jsonb_array_elements_text(${JSON.stringify(lockKeys)}::jsonb) with ordinality as t(k, n)
            order by n) as keys`,
        )
      : null;
  // Read under the locks, so an import of the same file that held them has committed by now.
  // Every row of the set is looked up, a row refused by the checks included: remembered, it is
  // `existing` (as it was when this read came before the checks).
  const remembering = rememberedKeys(tx, rows);
  // The duplicate check. A scheduled row was compared when the set was prepared with the
  // accounts there were; here it is compared with what came since: the sets not yet written
  // then, known in memory. Rows made now, and any not compared then, have their candidates read
  // here, under the locks. When those sets are not known in full, every row is read again.
  if (before === 'unknown') for (const p of planned) p.comparedEarly = false;
  const late = planned.filter((p) => !p.comparedEarly && !p.rememberedEarly);
  const reading = late.length > 0 ? possibleMatches(tx, late) : null;
  const [, remembered, candidates] = await Promise.all([locking, remembering, reading]);
  if (remembered.size > 0) {
    for (const [index, s] of rows.entries()) {
      if (remembered.has(starterKey(s))) results[index] = { kind: 'existing' };
    }
    planned = planned.filter((p) => !remembered.has(starterKey(p.s)));
    if (planned.length === 0) return [];
  }
  const people = new PeopleIndex(candidates ?? []);
  // Remembered when the set was prepared but not now (its row was deleted since): read here.
  const unread = planned.filter((p) => p.rememberedEarly && !p.comparedEarly);
  if (unread.length > 0) people.addAccounts(await possibleMatches(tx, unread));
  if (before !== 'unknown') people.addAccounts(before.map((m) => ({ ...m.person, id: m.id })));
  const toMake: Planned[] = [];
  const scheduled: Planned[] = [];
  const duplicatesOfPlanned = new Map<number, Planned>();
  for (const p of planned) {
    const match = earliest(p.comparedEarly ? p.earlier : undefined, people.match(p));
    if (match) {
      results[p.index] = { kind: 'duplicate', address: match.planned?.address ?? match.person.address };
      // The address of a row of this set is filled in once allocated, below.
      if (match.planned) duplicatesOfPlanned.set(p.index, match.planned);
      continue;
    }
    if (!p.madeNow && p.route === 'sms' && !deps.sealer) {
      results[p.index] = { kind: 'error', error: cannotKeepMobile(deps, p.s, p.provisionOn) };
      continue;
    }
    if (p.madeNow) {
      if (!p.base) {
        results[p.index] = { kind: 'error', error: noAddressFrom(p.s.person.given, p.s.person.family) };
        continue;
      }
      people.addPlanned(p);
      toMake.push(p);
    } else scheduled.push(p);
  }
  // Not awaited here: on PGlite, whose one connection this transaction holds, it runs after it.
  if (scheduled.length > 0) rememberScheduled(scheduled);
  if (toMake.length === 0) return [];
  // Addresses first, so each claim of a row made now is written with its address.
  await allocate(tx, toMake);
  // The claims and the accounts go to the database together.
  const [claimed] = await Promise.all([claim(tx, ctx, principal, toMake), insertAccounts(tx, ctx, toMake)]);
  for (const p of toMake) {
    const id = claimed.get(starterKey(p.s));
    // Remembered by an import running beside this one: a row made now that others of this set
    // were compared against cannot simply be dropped, so the set goes row by row.
    if (id === undefined) throw new SetNotWritten(`${starterKey(p.s)} was imported meanwhile`);
    p.starterId = id;
  }
  const made: Planned[] = [];
  const failed: Planned[] = [];
  for (const p of toMake) {
    let receipt: ProvisionedDelivery;
    try {
      receipt = {
        ...(await deps.delivery.deliver({
          address: p.address ?? '',
          given: p.s.person.given,
          family: p.s.person.family,
          org: { ods: p.home.ods, name: p.home.name, kind: p.home.kind },
          mfaRequired: mfaRequired(deps.policy, p.home.kind),
          route: p.route,
          mobile: p.s.person.mobile,
          temporaryPassword: temporaryPassword(),
        })),
        state: 'sent',
      };
    } catch (e) {
      if (!isDomainError(e)) {
        if (made.length > 0) throw new SetFailedAfterDelivery(String(e), { cause: e });
        throw e;
      }
      // Only this row's account and claim go: as if its own transaction had rolled back.
      results[p.index] = { kind: 'error', error: e };
      failed.push(p);
      continue;
    }
    p.receipt = receipt;
    made.push(p);
    results[p.index] = { kind: 'created', address: p.address ?? '' };
  }
  try {
    if (failed.length > 0) await forget(tx, failed);
    await recordMade(tx, ctx, made);
  } catch (e) {
    if (made.length > 0) throw new SetFailedAfterDelivery(String(e), { cause: e });
    throw e;
  }
  for (const [index, of] of duplicatesOfPlanned) {
    results[index] = failed.includes(of)
      ? { kind: 'again' }
      : { kind: 'duplicate', address: of.address ?? '' };
  }
  return made.map((p) => ({ id: p.accountId ?? 0, person: personOf(p) }));
}

/** The earlier made of two possible duplicates. */
const earliest = (a: Known | undefined, b: Known | undefined): Known | undefined =>
  !a ? b : !b ? a : a.order <= b.order ? a : b;

/** Of the set's employee numbers, those already remembered for their organisation. */
async function rememberedKeys(db: Executor, rows: readonly StarterRow[]): Promise<Set<string>> {
  const keys = JSON.stringify(rows.map((s) => [s.org, s.employeeNumber]));
  const found = rowsOf<{ org: string; employee_number: string }>(
    await db.execute(sql`
      select h.org, h.employee_number
      from jsonb_array_elements(${keys}::jsonb) as k(v)
      join hr_starters h on h.org = k.v->>0 and h.employee_number = k.v->>1`),
  );
  return new Set(found.map((r) => starterKey({ org: r.org, employeeNumber: r.employee_number })));
}

/**
 * Every account sharing a birth date, mobile number or registration with a row of the set: the
 * candidates findDuplicates would read row by row.
 */
async function possibleMatches(db: Executor, planned: readonly Planned[]): Promise<Account[]> {
  const facts = JSON.stringify(
    planned.map((p) => [
      p.facts.dob ?? null,
      p.facts.mobileHash ?? null,
      p.facts.reg?.body ?? null,
      p.facts.reg?.number ?? null,
    ]),
  );
  // An account's mobile hash and registration come back only when they are one of the set's:
  // only then can they match, and most candidates share a birth date alone.
  const rows = rowsOf<{
    id: number;
    address: string;
    given: string | null;
    family: string | null;
    dob: string | null;
    mobile_hash: string | null;
    reg_body: string | null;
    reg_number: string | null;
  }>(
    await db.execute(sql`
      with f as (
        select (v->>0)::date as dob, v->>1 as mobile_hash, v->>2 as reg_body, v->>3 as reg_number
        from jsonb_array_elements(${facts}::jsonb) as t(v)
      ),
      ids as (
        select a.id, false as by_mobile, false as by_reg
          from accounts a where a.dob in (select dob from f where dob is not null)
        union all select a.id, true, false
          from accounts a where a.mobile_hash in (select mobile_hash from f where mobile_hash is not null)
        union all select a.id, false, true from accounts a
          where (a.reg_body, a.reg_number) in (select reg_body, reg_number from f where reg_body is not null)
      ),
      found as (select id, bool_or(by_mobile) as by_mobile, bool_or(by_reg) as by_reg from ids group by id)
      select a.id, a.address, a.given, a.family, a.dob::text as dob,
        case when found.by_mobile then a.mobile_hash end as mobile_hash,
        case when found.by_reg then a.reg_body end as reg_body,
        case when found.by_reg then a.reg_number end as reg_number
      from accounts a join found on found.id = a.id`),
  );
  return rows.map((r) => ({
    id: Number(r.id),
    address: r.address,
    given: r.given,
    family: r.family,
    dob: r.dob,
    mobileHash: r.mobile_hash,
    regBody: r.reg_body,
    regNumber: r.reg_number,
  }));
}

/** An account a row may duplicate, with its id (the order accounts were made in). */
type Account = ExistingPerson & { id: number };

/** The people a row is compared against, found by birth date, mobile number or registration. */
class PeopleIndex {
  private readonly byDob = new Map<string, Known[]>();
  private readonly byMobile = new Map<string, Known[]>();
  private readonly byReg = new Map<string, Known[]>();
  /** The set's own rows come after every account. */
  private order = Number.MAX_SAFE_INTEGER / 2;

  constructor(accounts: readonly Account[]) {
    this.addAccounts(accounts);
  }

  addAccounts(accounts: readonly Account[]): void {
    for (const account of accounts) this.put({ order: account.id, person: account });
  }

  /** A row of this set made now: later rows are compared against it as against an account. */
  addPlanned(p: Planned): void {
    this.put({ order: this.order++, planned: p, names: p.names, person: personOf(p) });
  }

  /** The first person (the earliest made) the row may be. */
  match(p: Planned): Known | undefined {
    const f = p.facts;
    let first = f.dob ? this.first(p, this.byDob.get(f.dob), undefined) : undefined;
    if (f.mobileHash) first = this.first(p, this.byMobile.get(f.mobileHash), first);
    if (f.reg) first = this.first(p, this.byReg.get(regKey(f.reg.body, f.reg.number)), first);
    return first;
  }

  /** The earliest of `first` and the people of `list` the row may be. */
  private first(p: Planned, list: Known[] | undefined, first: Known | undefined): Known | undefined {
    if (!list) return first;
    for (const k of list) {
      if ((!first || k.order < first.order) && samePerson(p, k)) first = k;
    }
    return first;
  }

  private put(k: Known): void {
    const { dob, mobileHash, regBody, regNumber } = k.person;
    if (dob) push(this.byDob, dob, k);
    if (mobileHash) push(this.byMobile, mobileHash, k);
    if (regBody && regNumber) push(this.byReg, regKey(regBody, regNumber), k);
  }
}

const regKey = (body: string, number: string) => `${body}:${number}`;

function push(index: Map<string, Known[]>, key: string, k: Known): void {
  const list = index.get(key);
  if (list) list.push(k);
  else index.set(key, [k]);
}

/** A row of a set as the duplicate check sees an account (its address once allocated). */
const personOf = (p: Planned): ExistingPerson => ({
  address: p.address ?? '',
  given: p.facts.given,
  family: p.facts.family,
  dob: p.facts.dob ?? null,
  mobileHash: p.facts.mobileHash ?? null,
  regBody: p.facts.reg?.body ?? null,
  regNumber: p.facts.reg?.number ?? null,
});

/**
 * asciiNames, remembered: the same account is a candidate for many rows and many sets. A pure
 * function of the two names, so the memo is only forgotten when it grows large.
 */
const NAMES_MEMO = new Map<string, AsciiNames>();
const namesOf = (given: string, family: string): AsciiNames => {
  const key = `${given}\u0000${family}`;
  let names = NAMES_MEMO.get(key);
  if (!names) {
    if (NAMES_MEMO.size >= 100_000) NAMES_MEMO.clear();
    names = asciiNames({ given, family });
    NAMES_MEMO.set(key, names);
  }
  return names;
};

/**
 * matchReasons(p.facts, k.person).length > 0, the cheap reasons first and each side's names
 * normalised once rather than at every comparison.
 */
function samePerson(p: Planned, k: Known): boolean {
  const f = p.facts;
  const e = k.person;
  if (f.reg && e.regBody === f.reg.body && e.regNumber === f.reg.number) return true;
  if (f.mobileHash && e.mobileHash === f.mobileHash) return true;
  if (!f.dob || e.dob !== f.dob || e.given === null || e.family === null) return false;
  k.names ??= k.planned ? namesOf(e.given, e.family) : accountNames(k.order, e.given, e.family);
  return similarAsciiNames(p.names ?? namesOf(f.given, f.family), k.names);
}

/**
 * An account's names as the duplicate check compares them, remembered by its id: the same
 * account is a candidate for many rows and many sets (worked out again if its names changed).
 */
const ACCOUNT_NAMES = new Map<number, { given: string; family: string; names: AsciiNames }>();
function accountNames(id: number, given: string, family: string): AsciiNames {
  const known = ACCOUNT_NAMES.get(id);
  if (known && known.given === given && known.family === family) return known.names;
  if (ACCOUNT_NAMES.size >= 100_000) ACCOUNT_NAMES.clear();
  const names = asciiNames({ given, family });
  ACCOUNT_NAMES.set(id, { given, family, names });
  return names;
}

/**
 * Remembers the set's employee numbers, in file order: scheduled rows with their sealed mobile,
 * rows made now as provisioned with their address. Returns the hr_starters ids of those this import remembered first;
 * one a concurrent import remembered is left alone.
 */
async function claim(
  tx: Executor,
  ctx: RequestContext,
  principal: Principal,
  toWrite: readonly Planned[],
): Promise<Map<string, number>> {
  if (toWrite.length === 0) return new Map();
  // Each row as an array, not an object: a set's claim is the largest thing an import sends.
  const set = JSON.stringify(
    toWrite.map(({ s, route, provisionOn, madeNow, sealed, address }) => [
      s.org,
      s.employeeNumber,
      madeNow,
      address ?? null,
      s.person.given,
      s.person.family,
      s.person.dob ?? null,
      s.person.reg?.body ?? null,
      s.person.reg?.number ?? null,
      route,
      s.person.mobile?.masked ?? null,
      sealed ?? null,
      s.startDate,
      provisionOn,
    ]),
  );
  const at = ctx.now.toISOString();
  const rows = rowsOf<{ id: number; org: string; employee_number: string }>(
    await tx.execute(sql`
      insert into hr_starters (org, employee_number, state, address, given, family, dob, reg_body, reg_number,
        route, mobile_masked, mobile_sealed, start_date, provision_on, imported_at, imported_by, provisioned_at)
      select r->>0, r->>1,
        (case when (r->>2)::boolean then 'provisioned' else 'scheduled' end)::starter_state,
        r->>3, r->>4, r->>5, (r->>6)::date, r->>7, r->>8, r->>9, r->>10, r->>11,
        (r->>12)::date, (r->>13)::date, ${at}::timestamptz, ${principal.label},
        case when (r->>2)::boolean then ${at}::timestamptz end
      from jsonb_array_elements(${set}::jsonb) with ordinality as t(r, n)
      order by n
      on conflict (org, employee_number) do nothing
      returning id, org, employee_number`),
  );
  return new Map(
    rows.map((r) => [starterKey({ org: r.org, employeeNumber: r.employee_number }), Number(r.id)]),
  );
}

/**
 * The first never-issued `given.family[N]@nhs.net` for each row made now, as allocateAddress
 * chooses it: an address any account ever had or any role holds is skipped, and so is one given
 * to a row before it in the set. Candidates are looked up by the address index, a few per row at a
 * time. The unique index settles a race with a concurrent provision (the set is then redone).
 */
async function allocate(tx: Executor, toMake: readonly Planned[]): Promise<void> {
  const next = new Map<string, number>();
  const given = new Set<string>();
  let waiting = [...toMake];
  while (waiting.length > 0) {
    const perBase = new Map<string, number>();
    for (const p of waiting) {
      const base = baseOf(p);
      perBase.set(base, (perBase.get(base) ?? 0) + 1);
    }
    const candidates: string[] = [];
    const ranges = new Map<string, string[]>();
    for (const [base, rows] of perBase) {
      const from = next.get(base) ?? 0;
      if (from >= MAX_CANDIDATES)
        throw new Error(`no free address for ${base} after ${MAX_CANDIDATES} candidates`);
      const to = Math.min(MAX_CANDIDATES, from + rows + 4);
      const list: string[] = [];
      for (let n = from; n < to; n++) list.push(addressCandidate(base, n));
      ranges.set(base, list);
      candidates.push(...list);
      next.set(base, to);
    }
    const json = JSON.stringify(candidates);
    const taken = new Set(
      rowsOf<{ address: string }>(
        await tx.execute(sql`
          with c as (select jsonb_array_elements_text(${json}::jsonb) as address)
          select address from accounts where address in (select address from c)
          union select address from roles where address in (select address from c)`),
      ).map((r) => r.address),
    );
    const still: Planned[] = [];
    for (const p of waiting) {
      const list = ranges.get(baseOf(p)) ?? [];
      const free = list.find((a) => !taken.has(a) && !given.has(a));
      if (free === undefined) {
        still.push(p);
        continue;
      }
      given.add(free);
      p.address = free;
    }
    waiting = still;
  }
}

const baseOf = (p: Planned): string => {
  p.base ??= addressBase(p.s.person.given, p.s.person.family);
  return p.base;
};

/** The accounts of the rows made now, pending, with the route their credential is to take, in one statement. */
async function insertAccounts(tx: Executor, ctx: RequestContext, toMake: readonly Planned[]): Promise<void> {
  const set = JSON.stringify(
    toMake.map(({ s, home, address, facts, route }) => [
      address,
      route,
      home.ods,
      s.person.given,
      s.person.family,
      s.person.dob ?? null,
      facts.mobileHash ?? null,
      s.person.mobile?.masked ?? null,
      s.person.reg?.body ?? null,
      s.person.reg?.number ?? null,
    ]),
  );
  const at = ctx.now.toISOString();
  const rows = rowsOf<{ id: number; address: string }>(
    await tx.execute(sql`
      insert into accounts (address, kind, status, home_org, given, family, dob, mobile_hash,
        mobile_masked, reg_body, reg_number, credential_route, created_at, status_changed_at)
      select r->>0, 'person', ${CREATED_STATUS.person}::account_status, r->>2, r->>3, r->>4, (r->>5)::date,
        r->>6, r->>7, r->>8, r->>9, r->>1, ${at}::timestamptz, ${at}::timestamptz
      from jsonb_array_elements(${set}::jsonb) with ordinality as t(r, n)
      order by n
      on conflict (address) do nothing
      returning id, address`),
  );
  const ids = new Map(rows.map((r) => [r.address, Number(r.id)]));
  for (const p of toMake) {
    const id = ids.get(p.address ?? '');
    if (id === undefined) throw new SetNotWritten(`${p.address} was taken meanwhile`);
    p.accountId = id;
  }
}

/** Rows whose credential could not go: their account and claim are undone, as their own rollback would. */
async function forget(tx: Executor, failed: readonly Planned[]): Promise<void> {
  const accountIds = JSON.stringify(failed.map((p) => p.accountId));
  const starterIds = JSON.stringify(failed.map((p) => p.starterId));
  await tx.execute(
    sql`delete from accounts where id in (select (jsonb_array_elements_text(${accountIds}::jsonb))::int)`,
  );
  await tx.execute(
    sql`delete from hr_starters where id in (select (jsonb_array_elements_text(${starterIds}::jsonb))::int)`,
  );
}

/**
 * Each made account's audit row, and its credential route where the delivery took another than
 * the one its account was written with, in one statement.
 */
async function recordMade(tx: Executor, ctx: RequestContext, made: readonly Planned[]): Promise<void> {
  if (made.length === 0) return;
  const set = JSON.stringify(
    made.map((p, n) => {
      const route = p.receipt?.route ?? p.route;
      return {
        n,
        account_id: p.accountId,
        address: p.address,
        org: p.home.ods,
        route,
        rerouted: route !== p.route,
        reason: p.receipt ? newAccountReason(p.home.ods, p.receipt) : null,
        details: { delivery: route },
      };
    }),
  );
  const audit = auditValues(ctx, { action: 'provision' });
  await tx.execute(sql`
    with r as (
      select * from jsonb_to_recordset(${set}::jsonb) as r(account_id int,
        address text, org text, route text, rerouted boolean, reason text, details jsonb, n int)
    ),
    routed as (
      update accounts a set credential_route = r.route from r where a.id = r.account_id and r.rerouted
      returning a.id
    )
    insert into audit_log (at, actor, platform, action, address, org, from_status, to_status, reason, details)
    select ${ctx.now.toISOString()}::timestamptz, ${audit.actor}, ${audit.platform}::platform, ${audit.action},
      r.address, r.org, null, ${CREATED_STATUS.person}::account_status, r.reason, r.details
    from r order by r.n`);
}
