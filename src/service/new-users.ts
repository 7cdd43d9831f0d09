import { eq, inArray } from 'drizzle-orm';
import { accounts, credentialDeliveries, organisations } from '../../db/schema.js';
import type { Effect } from '../domain/effects.js';
import { isDomainError } from '../domain/errors.js';
import type { Audience } from '../domain/notifications.js';
import type { OrgKind } from '../domain/organisation.js';
import { londonDayStart } from '../domain/time.js';
import { type Mobile, parseMobile } from '../domain/validation.js';
import type { RequestContext } from './context.js';
import type { CredentialDelivery, DeliveryReceipt, DirectoryCredential } from './ports.js';
import { temporaryPassword } from './provisioning.js';
import type { Sealer } from './sealed.js';
import { audit, type Executor, enqueue } from './store.js';

export type CreateUserEffect = Extract<Effect, { kind: 'create-user' }>;

/** A new user the directory now holds, with the credential it was given: delivered, never stored. */
export interface CreatedUser {
  effectId: number;
  address: string;
  credential: DirectoryCredential;
  /** The pass Graph issued, when the credential is a Temporary Access Pass. */
  temporaryAccessPass?: string;
}

/**
 * What the directory worker does around a create-user effect: which credential an attempt sets,
 * its delivery once the directory has the user, and telling whoever asked. The credential is made
 * for one attempt, set in the directory and handed to delivery in memory; it is never written.
 */
export interface NewUsers {
  /** A pass's create-user effects: the credential each attempt sets, made fresh, and what delivers it. */
  begin(
    db: Executor,
    effects: ReadonlyArray<{ id: number; effect: CreateUserEffect }>,
    now: Date,
  ): Promise<NewUserPass>;
  /** In the transaction that parks a create-user effect: whoever asked is told why no account came. */
  parked(
    tx: Executor,
    effectId: number,
    state: 'failed' | 'conflict',
    error: string,
    now: Date,
  ): Promise<void>;
}

/** One worker pass's new users. */
export interface NewUserPass {
  credentials: ReadonlyMap<number, DirectoryCredential>;
  /** Hands a created user's credential to delivery; throws when it could not go (the effect is then retried). */
  deliver(created: CreatedUser): Promise<DeliveryReceipt | null>;
  /** In the transaction that records the effect applied: the delivery, its audit row, the requester's notice. */
  delivered(tx: Executor, created: CreatedUser, receipt: DeliveryReceipt | null, now: Date): Promise<void>;
}

const passwordFor = (effect: CreateUserEffect): DirectoryCredential => ({
  kind: 'password',
  password: temporaryPassword(),
  forceChangeWithMfa: effect.mfaRequired,
});

/** A temporary password for each new user and nothing else: for tests and benchmarks of the worker alone. */
export const PASSWORDS_ONLY: NewUsers = {
  begin: async (_db, effects) => ({
    credentials: new Map(effects.map(({ id, effect }) => [id, passwordFor(effect)])),
    deliver: async () => null,
    delivered: async () => {},
  }),
  parked: async () => {},
};

export interface NewUserOptions {
  delivery: CredentialDelivery;
  /** HR_DATA_KEY's sealer: opens the mobile number kept until the directory has the user. */
  sealer: Sealer | null;
  /** DIRECTORY_CREDENTIAL: a temporary password, or an Entra Temporary Access Pass. */
  credential: 'password' | 'tap';
  /** A Temporary Access Pass's lifetime (Graph allows 10 to 43,200 minutes; the tenant's policy may allow less). */
  tapLifetimeMinutes: number;
}

/** What delivery needs, kept in credential_deliveries since the account was made. */
interface Waiting {
  route: 'sms' | 'envelope';
  mobileSealed: string | null;
  startsOn: string | null;
  notify: ReplyAudience;
  accountId: number;
  org: { ods: string; name: string; kind: OrgKind };
  effect: CreateUserEffect;
}

/** Whom an account's outcome is told to: the conversation it was asked in, or its organisation's channels. */
export type ReplyAudience = Extract<Audience, { type: 'org' | 'conversation' }>;

/** The hour (London) of the start date from which a starter's Temporary Access Pass works. */
const TAP_FROM_HOUR = 7;

const WORKER: Pick<RequestContext, 'actor' | 'platform'> = {
  actor: { kind: 'scheduler' },
  platform: 'schedule',
};

/**
 * New users made through the directory, with their credential delivered by SMS or Day 1 envelope
 * once the directory has them (issue 14). The mobile number waits sealed in credential_deliveries
 * and is erased once the credential has gone.
 */
export class DeliveredNewUsers implements NewUsers {
  constructor(private readonly options: NewUserOptions) {}

  async begin(
    db: Executor,
    effects: ReadonlyArray<{ id: number; effect: CreateUserEffect }>,
    now: Date,
  ): Promise<NewUserPass> {
    const waiting = await this.waitingFor(db, effects);
    const credentials = new Map(
      effects.map(({ id, effect }) => [
        id,
        this.credentialFor(effect, waiting.get(id)?.startsOn ?? null, now),
      ]),
    );
    return {
      credentials,
      deliver: (created) => this.deliver(waiting.get(created.effectId), created),
      delivered: (tx, created, receipt, at) =>
        delivered(tx, waiting.get(created.effectId), created, receipt, at),
    };
  }

  private async waitingFor(
    db: Executor,
    effects: ReadonlyArray<{ id: number; effect: CreateUserEffect }>,
  ): Promise<Map<number, Waiting>> {
    if (effects.length === 0) return new Map();
    const rows = await db
      .select({
        effectId: credentialDeliveries.effectId,
        accountId: credentialDeliveries.accountId,
        route: credentialDeliveries.route,
        mobileSealed: credentialDeliveries.mobileSealed,
        startsOn: credentialDeliveries.startsOn,
        notify: credentialDeliveries.notify,
        ods: organisations.ods,
        name: organisations.name,
        kind: organisations.kind,
      })
      .from(credentialDeliveries)
      .innerJoin(accounts, eq(accounts.id, credentialDeliveries.accountId))
      .innerJoin(organisations, eq(organisations.ods, accounts.homeOrg))
      .where(
        inArray(
          credentialDeliveries.effectId,
          effects.map((e) => e.id),
        ),
      );
    const effectOf = new Map(effects.map((e) => [e.id, e.effect]));
    return new Map(
      rows.flatMap((r) => {
        const effect = effectOf.get(r.effectId);
        if (!effect) return [];
        const { ods, name, kind, effectId, notify, ...rest } = r;
        return [[effectId, { ...rest, notify: notify as ReplyAudience, org: { ods, name, kind }, effect }]];
      }),
    );
  }

  private credentialFor(effect: CreateUserEffect, startsOn: string | null, now: Date): DirectoryCredential {
    if (this.options.credential === 'password') return passwordFor(effect);
    // Usable from 07:00 on the start date (an HR starter's account is made a few days before it), or now.
    const from = startsOn ? new Date(londonDayStart(startsOn).getTime() + TAP_FROM_HOUR * 3_600_000) : now;
    return {
      kind: 'tap',
      lifetimeMinutes: this.options.tapLifetimeMinutes,
      startDateTime: (from.getTime() > now.getTime() ? from : now).toISOString(),
    };
  }

  private async deliver(waiting: Waiting | undefined, created: CreatedUser): Promise<DeliveryReceipt | null> {
    // No delivery waits (an effect queued without one): there is nothing to hand over.
    if (!waiting) return null;
    const secret =
      created.credential.kind === 'password' ? created.credential.password : created.temporaryAccessPass;
    if (!secret) throw new Error(`the directory issued ${created.address} no Temporary Access Pass`);
    let mobile: Mobile | undefined;
    if (waiting.route === 'sms') {
      if (!waiting.mobileSealed)
        throw new Error(`the mobile number for ${created.address} is no longer kept`);
      if (!this.options.sealer)
        throw new Error('HR_DATA_KEY is not set, so the kept mobile number cannot be opened');
      mobile = parseMobile(this.options.sealer.open(waiting.mobileSealed));
    }
    try {
      return await this.options.delivery.deliver({
        address: created.address,
        given: waiting.effect.given,
        family: waiting.effect.family,
        org: waiting.org,
        mfaRequired: waiting.effect.mfaRequired,
        route: waiting.route,
        mobile,
        temporaryPassword: secret,
        credential: created.credential.kind,
      });
    } catch (e) {
      // A delivery's refusal speaks of an account not made; here the directory has the user.
      // Its advice (another route, try again) is for a person provisioning; here the retry is the operator's.
      const why = isDomainError(e)
        ? (e.message.split(/,? so no account was created|\. (?=[A-Z])/)[0] ?? e.message)
        : String(e);
      throw new Error(`The directory has the user, but its credential could not be delivered: ${why}`);
    }
  }

  async parked(
    tx: Executor,
    effectId: number,
    state: 'failed' | 'conflict',
    error: string,
    now: Date,
  ): Promise<void> {
    const [row] = await tx
      .select({
        notify: credentialDeliveries.notify,
        address: accounts.address,
        org: accounts.homeOrg,
        directoryId: accounts.directoryId,
      })
      .from(credentialDeliveries)
      .innerJoin(accounts, eq(accounts.id, credentialDeliveries.accountId))
      .where(eq(credentialDeliveries.effectId, effectId));
    if (!row) return;
    await enqueue(tx, { now }, [
      {
        kind: 'account-not-made',
        audience: row.notify as ReplyAudience,
        payload: {
          address: row.address,
          org: row.org,
          effect: effectId,
          state,
          // The user was made (its id is known) when only the credential's delivery failed.
          made: state === 'failed' && row.directoryId !== null,
          error,
        },
      },
    ]);
  }
}

/** Records a delivered credential: sent, the mobile number erased, audited, and whoever asked told. */
async function delivered(
  tx: Executor,
  waiting: Waiting | undefined,
  created: CreatedUser,
  receipt: DeliveryReceipt | null,
  now: Date,
): Promise<void> {
  if (!waiting || !receipt) return;
  await tx
    .update(credentialDeliveries)
    .set({ sentAt: now, recipient: receipt.recipient, mobileSealed: null })
    .where(eq(credentialDeliveries.effectId, created.effectId));
  await tx.update(accounts).set({ credentialRoute: receipt.route }).where(eq(accounts.id, waiting.accountId));
  const ctx = { ...WORKER, now };
  const credential = created.credential.kind === 'tap' ? 'Temporary Access Pass' : 'temporary password';
  await audit(tx, ctx, {
    action: 'credential-sent',
    address: created.address,
    org: waiting.org.ods,
    reason: `the directory has the user; ${credential} sent by ${receipt.route === 'sms' ? `SMS to ${receipt.recipient}` : 'Day 1 envelope'}`,
    details: { delivery: receipt.route, credential: created.credential.kind, effect: created.effectId },
  });
  await enqueue(tx, ctx, [
    {
      kind: 'account-ready',
      audience: waiting.notify,
      payload: {
        address: created.address,
        org: waiting.org.ods,
        route: receipt.route,
        recipient: receipt.recipient,
        credential: created.credential.kind,
      },
    },
  ]);
}
