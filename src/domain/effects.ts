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
  | { kind: 'purge'; address: string }
  /**
   * `directory reapply` (issue 15): the directory's user put back in line with the bot's record
   * where the drift report found them apart. Every step is idempotent and the whole is repeated
   * on a retry: restored from deleted items (when it was deleted there), sign-in allowed or
   * blocked as the bot's status says (sessions revoked when blocked), the bot's names, in (or, for
   * a leaver, out of) the home organisation's group, and out of the groups of `leave`.
   */
  | {
      kind: 'reconcile';
      address: string;
      org: string;
      restore: boolean;
      enabled: boolean;
      /** The bot's names, written when they differ; null leaves the directory's alone. */
      names: { given: string; family: string } | null;
      /** In the home organisation's group (false for a leaver, who has left it). */
      inHomeGroup: boolean;
      /** Organisations (ODS) whose groups the user is in and must leave. */
      leave: string[];
    };

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
  'reconcile',
] as const satisfies readonly EffectKind[];

/** A compile-time check that a switch over effect kinds handled them all. */
export function unhandledEffect(effect: never): never {
  throw new Error(`unhandled directory effect ${JSON.stringify(effect)}`);
}
