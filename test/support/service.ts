import { sql } from 'drizzle-orm';
import { beforeEach, expect } from 'vitest';
import type { Database } from '../../db/index.js';
import { type DomainError, type ErrorCode, isDomainError } from '../../src/domain/errors.js';
import type { OrgKind } from '../../src/domain/organisation.js';
import { DEFAULT_POLICY, type Policy } from '../../src/domain/policy.js';
import type { RoleName } from '../../src/domain/roles.js';
import { addDays } from '../../src/domain/time.js';
import { parseMobile } from '../../src/domain/validation.js';
import type { Platform, RequestContext } from '../../src/service/context.js';
import { createLifecycle, type Lifecycle } from '../../src/service/lifecycle.js';
import type {
  AddressDirectory,
  CredentialDelivery,
  CredentialRequest,
  DeliveryReceipt,
} from '../../src/service/ports.js';
import type { NewPerson } from '../../src/service/provisioning.js';
import { type EngineContext, queryRows, schemaTableNames } from './engines.js';

/** A delivery port that keeps what it was given, so tests can prove the secret went nowhere else. */
export class CapturingDelivery implements CredentialDelivery {
  readonly sent: CredentialRequest[] = [];
  async deliver(request: CredentialRequest): Promise<DeliveryReceipt> {
    this.sent.push(request);
    return {
      route: request.route,
      recipient: request.route === 'sms' ? (request.mobile?.masked ?? '') : 'test envelope',
    };
  }
}

/** A fixed HR_DATA_KEY for tests (32 bytes). */
export const TEST_HR_DATA_KEY = Buffer.alloc(32, 7);

/** Monday 23 November 2026, 09:00 UTC: the tests' "today". */
export const T0 = new Date('2026-11-23T09:00:00Z');
export const day = (n: number, from: Date = T0) => addDays(from, n);

export const operator = (now: Date = T0, platform: Platform = 'cli'): RequestContext => ({
  actor: { kind: 'operator' },
  platform,
  now,
});
export const as = (address: string, now: Date = T0, platform: Platform = 'cli'): RequestContext => ({
  actor: { kind: 'person', address },
  platform,
  now,
});

export interface ServiceFixture {
  readonly lifecycle: Lifecycle;
  readonly delivery: CapturingDelivery;
  readonly db: Database;
}

/** A fresh lifecycle service per test, on the engine's freshly emptied database. */
export function useService(
  ctx: EngineContext,
  policy: Partial<Policy> = {},
  options: {
    directoryEffects?: boolean;
    hrDataKey?: Buffer | null;
    /** The directory asked about new addresses, made once the suite's stand-in is up. */
    addressDirectory?: () => AddressDirectory;
  } = {},
): ServiceFixture {
  let lifecycle: Lifecycle | undefined;
  let delivery = new CapturingDelivery();
  beforeEach(async () => {
    delivery = new CapturingDelivery();
    lifecycle = await createLifecycle({
      db: ctx.db.db,
      policy: { ...DEFAULT_POLICY, ...policy },
      delivery,
      directoryEffects: options.directoryEffects ?? false,
      // With a directory, an SMS waits for it with the mobile number sealed under HR_DATA_KEY.
      hrDataKey:
        options.hrDataKey !== undefined
          ? options.hrDataKey
          : options.directoryEffects
            ? TEST_HR_DATA_KEY
            : null,
      addressDirectory: options.addressDirectory?.(),
    });
  });
  return {
    get lifecycle() {
      if (!lifecycle) throw new Error('use the service inside tests');
      return lifecycle;
    },
    get delivery() {
      return delivery;
    },
    get db() {
      return ctx.db;
    },
  };
}

export async function addOrg(
  l: Lifecycle,
  ods: string,
  kind: OrgKind = 'trust',
  dspt?: Parameters<Lifecycle['addOrganisation']>[1]['dspt'],
) {
  return l.addOrganisation(operator(), { ods, name: `${ods} organisation`, kind, dspt });
}

export async function grant(l: Lifecycle, address: string, role: RoleName, org?: string) {
  return l.grantRole(operator(), { address, role, org });
}

export const person = (given: string, family: string, extra: Partial<NewPerson> = {}): NewPerson => ({
  given,
  family,
  delivery: 'envelope',
  ...extra,
});

export const mobile = (n: string) => parseMobile(n);

/** Provisions and records first login: an active account, with its activity clock started at `now`. */
export async function activeAccount(
  l: Lifecycle,
  org: string,
  who: NewPerson,
  now: Date = T0,
): Promise<string> {
  const made = await l.provision(operator(now), { ...who, org });
  await l.firstLogin(operator(now), { address: made.account.address, mfa: true });
  return made.account.address;
}

/** Awaits a promise that must be refused (or invalid) with `code`; returns the error for more checks. */
export async function refusal<C extends ErrorCode>(
  promise: Promise<unknown>,
  code: C,
): Promise<DomainError<C>> {
  try {
    await promise;
  } catch (e) {
    if (!isDomainError(e)) throw e;
    expect(e.code).toBe(code);
    if (!e.is(code)) throw e;
    expect(e.message.length).toBeGreaterThan(20);
    return e;
  }
  throw new Error(`expected refusal ${code}, but it succeeded`);
}

export async function auditCount(db: Database): Promise<number> {
  const [row] = await queryRows<{ n: number }>(db.db, sql`select count(*)::int as n from audit_log`);
  return row?.n ?? 0;
}

export async function outboxRows(db: Database) {
  return queryRows<{
    kind: string;
    audience: { type: string; ods?: string; address?: string };
    payload: Record<string, unknown>;
    payload_version: number;
  }>(db.db, sql`select kind, audience, payload, payload_version from outbox order by id`);
}

/** Every row of every table as text: for proving a secret or a full mobile number is stored nowhere. */
export async function everyTableAsText(db: Database): Promise<string> {
  const parts: string[] = [];
  for (const table of schemaTableNames) {
    const rows = await queryRows<{ t: string }>(
      db.db,
      sql`select t::text as t from ${sql.identifier(table)} t`,
    );
    parts.push(...rows.map((r) => r.t));
  }
  return parts.join('\n');
}
