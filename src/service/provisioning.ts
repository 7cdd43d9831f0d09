import { randomInt } from 'node:crypto';
import { count, eq, or, sql } from 'drizzle-orm';
import { rowsOf } from '../../db/index.js';
import { accounts, credentialDeliveries } from '../../db/schema.js';
import { addressBase, addressCandidate } from '../domain/address.js';
import { type DuplicateMatch, matchReasons, type PersonFacts } from '../domain/duplicates.js';
import type { Effect } from '../domain/effects.js';
import { invalid, refused } from '../domain/errors.js';
import { DSPT_LABELS, dsptMeets, isSiteKind, type Organisation } from '../domain/organisation.js';
import { mfaRequired, type Policy } from '../domain/policy.js';
import { quote } from '../domain/quote.js';
import type { Principal } from '../domain/roles.js';
import { CREATED_STATUS, type Decision, takesAPlace } from '../domain/transitions.js';
import type { Mobile, Registration } from '../domain/validation.js';
import type { Logger } from '../logger.js';
import type { RequestContext } from './context.js';
import type { ReplyAudience } from './new-users.js';
import type {
  AddressDirectory,
  CredentialDelivery,
  CredentialRequest,
  DeliveryReceipt,
  DeliveryRoute,
} from './ports.js';
import type { Sealer } from './sealed.js';
import { type AccountRow, audit, countsAgainstSiteCap, type Executor, queueEffects } from './store.js';

/** A new person as typed into provision, site register (the owner) or site request-account. */
export interface NewPerson {
  given: string;
  family: string;
  mobile?: Mobile | undefined;
  dob?: string | undefined;
  reg?: Registration | undefined;
  delivery?: DeliveryRoute | undefined;
  /** A NAS administrator's reason to create despite a duplicate match; audited. */
  overrideDuplicate?: string | undefined;
  /** The HR employee number, for an HR starter: the directory user's employeeId. */
  employeeId?: string | undefined;
  /** The HR start date (YYYY-MM-DD): a Temporary Access Pass works from then. */
  startsOn?: string | undefined;
}

export interface ProvisionDeps {
  policy: Policy;
  delivery: CredentialDelivery;
  hashMobile(e164: string): string;
  /** Seals mobile numbers of HR starters waiting for their day; null when HR_DATA_KEY is unset. */
  sealer: Sealer | null;
  /**
   * Whether decisions' directory effects are queued for a directory worker. Off, the bot is a
   * ledger: it records decisions and changes no directory.
   */
  directoryEffects?: boolean;
  /** Asked which new addresses the directory already holds; absent (ledger mode), only the bot's records count. */
  addressDirectory?: AddressDirectory | undefined;
  /** Where a directory that could not answer is logged. */
  logger?: Logger | undefined;
}

/**
 * How the credential goes: sent now (ledger mode), or `waiting` until the directory has the user,
 * when the worker sends it and tells whoever asked.
 */
export type ProvisionedDelivery = DeliveryReceipt & { state: 'sent' | 'waiting' };

export interface Provisioned {
  account: AccountRow;
  delivery: ProvisionedDelivery;
  duplicateOverride: { reason: string; matches: DuplicateMatch[] } | null;
}

/**
 * Creates a pending person account: duplicate check, site prerequisites, a never-used address,
 * credential delivery, and the audit row. Runs inside the caller's transaction.
 */
export async function createPersonAccount(
  tx: Executor,
  deps: ProvisionDeps,
  ctx: RequestContext,
  principal: Principal,
  org: Organisation,
  person: NewPerson,
  action: string,
): Promise<Provisioned> {
  const route = person.delivery ?? (person.mobile ? 'sms' : 'envelope');
  if (route === 'sms' && !person.mobile) {
    throw invalid(
      'MOBILE_REQUIRED',
      'SMS delivery needs the mobile number on the HR record: add --mobile 07…, or use --delivery envelope for a Day 1 envelope.',
    );
  }
  if (person.overrideDuplicate !== undefined && !principal.isNational) {
    throw refused(
      'OVERRIDE_NOT_ALLOWED',
      'Only a NAS administrator can create an account despite a duplicate match. Use the joiner route for the existing account, or ask NAS.',
    );
  }
  if (route === 'sms' && deps.directoryEffects && !deps.sealer) {
    throw refused(
      'CANNOT_KEEP_MOBILE',
      'The temporary password is texted once the directory has made the account, and without HR_DATA_KEY the bot may not keep the mobile number until then. Use --delivery envelope for a Day 1 envelope, or ask the operator to set HR_DATA_KEY.',
    );
  }
  if (isSiteKind(org.kind)) await assertSiteCanTakeAccount(tx, deps.policy, org);

  const mobileHash = person.mobile ? deps.hashMobile(person.mobile.e164) : undefined;
  const facts: PersonFacts = {
    given: person.given,
    family: person.family,
    dob: person.dob,
    mobileHash,
    reg: person.reg,
  };
  await lockPersonFacts(tx, facts);
  const matches = await findDuplicates(tx, facts);
  if (matches.length > 0 && person.overrideDuplicate === undefined) {
    const list = matches
      .map((m) => `${m.address} (same ${m.reasons.map(describeReason).join(', ')})`)
      .join('; ');
    throw refused(
      'DUPLICATE_PERSON',
      `This person may already have an account: ${list}. One account per person, for life: if they are a leaver, ask their new organisation to mark them as a joiner ("joiner ${matches[0]?.address} --org ${org.ods}"). Only a NAS administrator can override, with --override-duplicate "reason".`,
      { matches },
    );
  }

  const address = await allocateAddress(tx, deps, person.given, person.family, ctx, org, person, mobileHash);
  const request: CredentialRequest = {
    address: address.address,
    given: person.given,
    family: person.family,
    org: { ods: org.ods, name: org.name, kind: org.kind },
    mfaRequired: mfaRequired(deps.policy, org.kind),
    route,
    mobile: person.mobile,
    temporaryPassword: '',
  };
  const receipt: ProvisionedDelivery = deps.directoryEffects
    ? await awaitDirectory(tx, deps, ctx, address.id, request, person)
    : {
        ...(await deps.delivery.deliver({ ...request, temporaryPassword: temporaryPassword() })),
        state: 'sent',
      };
  const [account] = await tx
    .update(accounts)
    .set({ credentialRoute: receipt.route })
    .where(eq(accounts.id, address.id))
    .returning();
  if (!account) throw new Error(`account ${address.address} vanished inside its own transaction`);

  const override = matches.length > 0 && person.overrideDuplicate !== undefined;
  await audit(tx, ctx, {
    action,
    address: account.address,
    org: org.ods,
    from: null,
    to: CREATED_STATUS.person,
    reason: override
      ? `duplicate check overridden: ${person.overrideDuplicate}`
      : newAccountReason(org.ods, receipt),
    details: {
      delivery: receipt.route,
      ...(override
        ? { duplicateOverride: person.overrideDuplicate, matches: matches.map((m) => m.address) }
        : {}),
    },
  });
  return {
    account,
    delivery: receipt,
    duplicateOverride: override ? { reason: person.overrideDuplicate ?? '', matches } : null,
  };
}

/** The audit reason of a new account: where its temporary password went (never the password or full number). */
export function newAccountReason(ods: string, receipt: ProvisionedDelivery): string {
  return `new account in ${ods}; temporary password by ${receipt.route === 'sms' ? `SMS to ${receipt.recipient}` : 'Day 1 envelope'}${receipt.state === 'waiting' ? ' once the directory has the user' : ''}`;
}

/**
 * With a directory, the account is made there first: the create-user effect is queued with the
 * account, and what delivery needs waits beside it (the mobile number sealed), so the credential
 * the directory sets is the one sent, and only once the directory has the user.
 */
async function awaitDirectory(
  tx: Executor,
  deps: ProvisionDeps,
  ctx: RequestContext,
  accountId: number,
  request: CredentialRequest,
  person: NewPerson,
): Promise<ProvisionedDelivery> {
  const effect: Effect = {
    kind: 'create-user',
    address: request.address,
    given: request.given,
    family: request.family,
    org: request.org.ods,
    employeeId: person.employeeId ?? null,
    mfaRequired: request.mfaRequired,
  };
  const [queued] = await queueEffects(tx, ctx, deps, [{ accountId, effects: [effect] }]);
  if (queued === undefined) throw new Error(`no directory effect was queued for ${request.address}`);
  // Checked now: the person asking can still choose another route; the worker could not.
  deps.delivery.check?.(request.route);
  const sms = request.route === 'sms' ? request.mobile : undefined;
  if (request.route === 'sms' && !(sms && deps.sealer)) {
    throw new Error(`the mobile number for ${request.address} cannot be kept`);
  }
  await tx.insert(credentialDeliveries).values({
    effectId: queued,
    accountId,
    route: request.route,
    mobileSealed: sms && deps.sealer ? deps.sealer.seal(sms.e164) : null,
    startsOn: person.startsOn ?? null,
    notify: replyAudience(ctx, request.org.ods),
    createdAt: ctx.now,
  });
  return {
    route: request.route,
    recipient: sms ? sms.masked : 'a Day 1 envelope letter, written once the directory has the user',
    state: 'waiting',
  };
}

/** Whoever asked hears back where they asked (a chat conversation), or else in the organisation's channels. */
function replyAudience(ctx: RequestContext, ods: string): ReplyAudience {
  const chat = ctx.chat;
  return chat?.channelId
    ? { type: 'conversation', platform: chat.platform, tenant: chat.tenant, channelId: chat.channelId }
    : { type: 'org', ods };
}

/**
 * A site must meet its sector's DSPT minimum and have a free slot. The organisation row is
 * locked first, so simultaneous requests for one site queue here and the count stays true.
 */
export async function assertSiteCanTakeAccount(
  tx: Executor,
  policy: Policy,
  site: Organisation,
): Promise<void> {
  const dspt = await lockSite(tx, site);
  const minimum = policy.dsptMinimum[site.kind];
  if (!dsptMeets(dspt, minimum)) {
    throw refused(
      'SITE_DSPT_LAPSED',
      `${site.name} (${site.ods}) cannot take new accounts: its DSPT status is ${dspt ? DSPT_LABELS[dspt] : 'not recorded'}, and ${site.kind} sites need ${DSPT_LABELS[minimum]} or better. Once the site's DSPT assessment is published at that level, NAS records it with "org dspt" and requests work again.`,
      { ods: site.ods, dspt, minimum },
    );
  }
  await assertSiteHasPlace(tx, policy, site);
}

/**
 * A decision that moves a site's own account back into one of its places (enable, a disabled
 * account's leaver, a reactivation) needs a free place. It is no new account, so the site's DSPT
 * does not matter: a lapsed one does not keep a returning holder out.
 */
export async function assertPlaceFor(
  tx: Executor,
  policy: Policy,
  home: Organisation,
  decision: Pick<Decision, 'from' | 'to'>,
): Promise<void> {
  if (!isSiteKind(home.kind) || !takesAPlace(decision)) return;
  await lockSite(tx, home);
  await assertSiteHasPlace(tx, policy, home);
}

/** Locks the site's row, so places are counted one request at a time; returns its DSPT status. */
async function lockSite(tx: Executor, site: Organisation): Promise<Organisation['dspt']> {
  const [locked] = rowsOf<{ dspt: string | null }>(
    await tx.execute(sql`select dspt from organisations where ods = ${site.ods} for update`),
  );
  return (locked?.dspt ?? null) as Organisation['dspt'];
}

/** The site's cap (SITE_ACCOUNT_LIMIT) only; the caller holds the site's row lock. */
async function assertSiteHasPlace(tx: Executor, policy: Policy, site: Organisation): Promise<void> {
  const [used] = await tx.select({ n: count() }).from(accounts).where(countsAgainstSiteCap(site.ods));
  const n = used?.n ?? 0;
  if (n >= policy.siteAccountLimit) {
    throw refused(
      'SITE_ACCOUNT_LIMIT',
      `${site.name} (${site.ods}) already has ${n} of its ${policy.siteAccountLimit} individual accounts (pending, active and leavers count, the owner included). A slot frees when a leaver's grace period ends; for more accounts, contact NAS.`,
      { ods: site.ods, used: n, limit: policy.siteAccountLimit },
    );
  }
}

/**
 * Serialises account creation per identifying fact (registration, birth date, mobile), so two
 * simultaneous requests for one person cannot both pass the duplicate check.
 */
async function lockPersonFacts(tx: Executor, facts: PersonFacts): Promise<void> {
  for (const key of personFactKeys(facts).sort()) {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${key}))`);
  }
}

/**
 * The advisory lock keys of a person's identifying facts. Whoever takes several takes them in
 * sorted order (an HR import takes a whole set's at once), so two takers never wait on each other
 * in a circle.
 */
export function personFactKeys(facts: PersonFacts): string[] {
  return [
    facts.reg ? `reg:${facts.reg.body}:${facts.reg.number}` : null,
    facts.dob ? `dob:${facts.dob}` : null,
    facts.mobileHash ? `mobile:${facts.mobileHash}` : null,
  ].filter((k): k is string => k !== null);
}

/** Every account that may be this person, leavers, inactive and deleted ones included. */
export async function findDuplicates(db: Executor, facts: PersonFacts): Promise<DuplicateMatch[]> {
  const conditions = [
    facts.reg
      ? sql`(${accounts.regBody} = ${facts.reg.body} and ${accounts.regNumber} = ${facts.reg.number})`
      : null,
    facts.dob ? eq(accounts.dob, facts.dob) : null,
    facts.mobileHash ? eq(accounts.mobileHash, facts.mobileHash) : null,
  ].filter((c) => c !== null);
  if (conditions.length === 0) return [];
  const rows = await db
    .select({
      address: accounts.address,
      given: accounts.given,
      family: accounts.family,
      dob: accounts.dob,
      mobileHash: accounts.mobileHash,
      regBody: accounts.regBody,
      regNumber: accounts.regNumber,
    })
    .from(accounts)
    .where(or(...conditions));
  return rows
    .map((row) => ({ address: row.address, reasons: matchReasons(facts, row) }))
    .filter((m) => m.reasons.length > 0);
}

const describeReason = (reason: DuplicateMatch['reasons'][number]): string =>
  reason === 'registration'
    ? 'registration number'
    : reason === 'mobile'
      ? 'mobile number'
      : 'date of birth and name';

/** How many candidates the bot has never issued are put to the directory in one question. */
const DIRECTORY_LOOKAHEAD = 10;
export const MAX_CANDIDATES = 10_000;

/**
 * Inserts the account under the first free `given.family[N]@nhs.net`. An address that any
 * account ever had, or that holds a role, is never issued; nor one the directory (when there is
 * one) already holds, asked a few candidates at a time. The unique index settles races.
 */
async function allocateAddress(
  tx: Executor,
  deps: ProvisionDeps,
  given: string,
  family: string,
  ctx: RequestContext,
  org: Organisation,
  person: NewPerson,
  mobileHash: string | undefined,
): Promise<{ id: number; address: string }> {
  const base = addressBase(given, family);
  if (base.length === 0) throw noAddressFrom(given, family);
  const pattern = `${base}%@nhs.net`;
  const taken = new Set(
    rowsOf<{ address: string }>(
      await tx.execute(
        sql`select address from accounts where address like ${pattern}
            union select address from roles where address like ${pattern}`,
      ),
    ).map((r) => r.address),
  );
  for (let n = 0; n < MAX_CANDIDATES; ) {
    const free: string[] = [];
    for (; n < MAX_CANDIDATES && free.length < DIRECTORY_LOOKAHEAD; n++) {
      const candidate = addressCandidate(base, n);
      if (!taken.has(candidate)) free.push(candidate);
    }
    const held = await heldInDirectory(deps, ctx, free);
    for (const candidate of free) {
      if (held.has(candidate)) continue;
      const [row] = await tx
        .insert(accounts)
        .values({
          address: candidate,
          kind: 'person',
          status: CREATED_STATUS.person,
          homeOrg: org.ods,
          given,
          family,
          dob: person.dob ?? null,
          mobileHash: mobileHash ?? null,
          mobileMasked: person.mobile?.masked ?? null,
          regBody: person.reg?.body ?? null,
          regNumber: person.reg?.number ?? null,
          createdAt: ctx.now,
          statusChangedAt: ctx.now,
        })
        .onConflictDoNothing()
        .returning({ id: accounts.id, address: accounts.address });
      if (row) return row;
    }
  }
  throw new Error(`no free address for ${base} after ${MAX_CANDIDATES} candidates`);
}

/** A name with nothing to make an address of. */
export function noAddressFrom(given: string, family: string) {
  return invalid(
    'INVALID_NAME',
    `No address can be made from ${quote(`${given} ${family}`)}: the name has no letters A to Z.`,
  );
}

/**
 * Which candidates the directory holds. One that cannot answer (throttled, down, too slow) does
 * not stop a provision: the bot's own records decide, with a warning; should the address be taken
 * after all, the directory worker parks the create as a conflict that status and `directory
 * failed` show, and overwrites nothing.
 */
async function heldInDirectory(
  deps: ProvisionDeps,
  ctx: RequestContext,
  candidates: readonly string[],
): Promise<ReadonlySet<string>> {
  if (!deps.addressDirectory || candidates.length === 0) return new Set();
  try {
    return await deps.addressDirectory.heldAddresses(candidates);
  } catch (e) {
    deps.logger?.warn(
      { correlationId: ctx.correlationId, error: e instanceof Error ? e.message : String(e) },
      "the directory could not say which new addresses it holds: allocating from the bot's own records",
    );
    return new Set();
  }
}

/** 16 characters from an unambiguous alphabet, with upper, lower, digit and symbol. */
export function temporaryPassword(): string {
  const sets = ['ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnpqrstuvwxyz', '23456789', '!#%+=?@'];
  const all = sets.join('');
  const chars = sets.map((s) => s[randomInt(s.length)] ?? '');
  while (chars.length < 16) chars.push(all[randomInt(all.length)] ?? '');
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] ?? '', chars[i] ?? ''];
  }
  return chars.join('');
}
