import { and, eq, isNotNull } from 'drizzle-orm';
import { directoryDrift } from '../../db/directory-schema.js';
import { accounts } from '../../db/schema.js';
import type { DriftKind } from '../domain/drift.js';
import type { Effect } from '../domain/effects.js';
import { refused } from '../domain/errors.js';
import type { Status } from '../domain/status.js';
import type { ServiceDeps } from './accounts.js';
import type { RequestContext } from './context.js';
import { audit, getAccount, getOrg, loadPrincipal, notYourAccount, queueEffects } from './store.js';

/** Statuses whose directory user may sign in, and whose user is in its home group (as drift judges). */
const ENABLED: readonly Status[] = ['pending', 'active', 'leaver'];
const IN_HOME_GROUP: readonly Status[] = ['pending', 'active', 'inactive'];
/** Drift that reapplying the bot's record settles; the rest are settled another way. */
const REAPPLIED: readonly DriftKind[] = [
  'deleted-in-directory',
  'enabled-mismatch',
  'group-mismatch',
  'name-mismatch',
];

export interface DirectoryReapply {
  address: string;
  /** The drift lines this settles, once the directory worker has applied `effect`. */
  settles: Array<{ kind: DriftKind; says: string }>;
  effect: Effect;
  /** The directory change queued, as `directory failed` numbers them. */
  effectId: number;
}

/**
 * `directory reapply ADDRESS` (issue 15): makes the directory agree with the bot for one account,
 * where the last drift report found them apart. It decides nothing new: it queues one directory
 * change that writes what the bot already holds (restored, enabled or blocked, its names, its
 * home group), audited `directory-reapply`. The drift line goes at the next drift round after the
 * worker applies it. A local administrator of the account's home organisation, NAS or the operator.
 */
export async function reapplyToDirectory(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { address: string },
): Promise<DirectoryReapply> {
  return deps.db.transaction(async (tx) => {
    const principal = await loadPrincipal(tx, ctx);
    const row = await getAccount(tx, input.address, true);
    const home = await getOrg(tx, row.homeOrg);
    if (!principal.canAdminister(home)) {
      throw notYourAccount(
        principal,
        row.address,
        home,
        (whose) => `reapply ${whose} accounts to the directory`,
        'a local administrator',
      );
    }
    if (!deps.directoryEffects) {
      throw refused(
        'DIRECTORY_NOT_CONFIGURED',
        'No directory is connected (DIRECTORY is unset), so there is nothing to reapply to: the bot records decisions only.',
      );
    }
    const lines = await tx
      .select({ kind: directoryDrift.kind, detail: directoryDrift.detail })
      .from(directoryDrift)
      .where(and(eq(directoryDrift.address, row.address), isNotNull(directoryDrift.address)));
    const settled = lines.filter((l) => REAPPLIED.includes(l.kind) && l.detail.accountId === row.id);
    if (settled.length === 0) {
      const other = lines.find((l) => l.kind === 'not-in-directory');
      throw refused(
        'NOTHING_TO_REAPPLY',
        other
          ? `${row.address} is not in the directory at all, which reapplying cannot mend: ${other.detail.settle}.`
          : `The last drift report has nothing for ${row.address} that reapplying settles. "directory drift" shows the report; a change made in Entra since shows after the Graph job's next run (GRAPH_SCHEDULE).`,
      );
    }
    const has = (kind: DriftKind) => settled.some((l) => l.kind === kind);
    const seen = settled.find((l) => l.detail.directoryId !== null)?.detail;
    if (row.directoryId === null && seen?.directoryId) {
      // The user drift found by its address is this account's: a restore finds users by id only.
      await tx.update(accounts).set({ directoryId: seen.directoryId }).where(eq(accounts.id, row.id));
    }
    const effect: Effect =
      row.status === 'deleted'
        ? { kind: 'delete', address: row.address }
        : {
            kind: 'reconcile',
            address: row.address,
            org: home.ods,
            restore: has('deleted-in-directory'),
            enabled: ENABLED.includes(row.status),
            names:
              has('name-mismatch') && row.given !== null && row.family !== null
                ? { given: row.given, family: row.family }
                : null,
            inHomeGroup: IN_HOME_GROUP.includes(row.status),
            leave: [...new Set(settled.flatMap((l) => l.detail.groups))].filter((o) => o !== home.ods),
          };
    const [effectId] = await queueEffects(tx, ctx, deps, [{ accountId: row.id, effects: [effect] }]);
    if (effectId === undefined) throw new Error('the directory change was not queued');
    await audit(tx, ctx, {
      action: 'directory-reapply',
      address: row.address,
      org: home.ods,
      from: row.status,
      to: row.status,
      reason: `the directory put back in line with the bot: ${settled.map((l) => l.detail.says).join('; ')}`,
      details: { effect: effectId, drift: settled.map((l) => l.kind) },
    });
    return {
      address: row.address,
      settles: settled.map((l) => ({ kind: l.kind, says: l.detail.says })),
      effect,
      effectId,
    };
  });
}
