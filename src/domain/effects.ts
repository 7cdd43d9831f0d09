/**
 * Changes outside the bot that a decision causes in the organisation's directory (issue 14:
 * Microsoft Entra through Graph). The domain decides them with the transition; they are queued in
 * the same transaction as the change and applied after commit, in order per account, by a worker
 * that knows the directory. They name organisations by ODS code: the worker reads an
 * organisation's directory group when it applies the effect, so a group set later still counts.
 * No effect carries a credential: the temporary password or access pass is made by the worker,
 * set in the directory and delivered, and never stored.
 */
export type Effect =
  /** A new account: the user is created enabled, with a credential to change at first sign-in, and put in the organisation's group. */
  | {
      kind: 'create-user';
      address: string;
      given: string;
      family: string;
      org: string;
      /** The HR employee number, where the account came from the HR feed. */
      employeeId: string | null;
      /** Whether the first sign-in must register MFA (the sector's policy). */
      mfaRequired: boolean;
    }
  /** A leaver keeps a usable account through grace: the leave date is set and the old group left. */
  | { kind: 'mark-leaver'; address: string; org: string; leaveAt: string }
  /** A joiner: into the new organisation's group, its company name, the leave date cleared. */
  | { kind: 'move-org'; address: string; from: string; to: string }
  /** Inactive: sign-in blocked and every session revoked. */
  | { kind: 'disable'; address: string }
  /** Reactivated: sign-in allowed again. */
  | { kind: 'enable'; address: string }
  /** Deleted: the directory keeps it restorable for its own 30 days. */
  | { kind: 'delete'; address: string }
  /** Restored by NAS: brought back from the directory's deleted items, then enabled. */
  | { kind: 'restore'; address: string }
  /** Purged: gone from the directory's deleted items for good. */
  | { kind: 'purge'; address: string };

export type EffectKind = Effect['kind'];

export const EFFECT_KINDS = [
  'create-user',
  'mark-leaver',
  'move-org',
  'disable',
  'enable',
  'delete',
  'restore',
  'purge',
] as const satisfies readonly EffectKind[];

/** A compile-time check that a switch over effect kinds handled them all. */
export function unhandledEffect(effect: never): never {
  throw new Error(`unhandled directory effect ${JSON.stringify(effect)}`);
}
