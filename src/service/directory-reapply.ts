import { desc, eq } from 'drizzle-orm';
import { directoryDrift, directoryEffects } from '../../db/directory-schema.js';
import { accounts } from '../../db/schema.js';
import { type DriftKind, decideReapply } from '../domain/drift.js';
import type { Effect } from '../domain/effects.js';
import { refused } from '../domain/errors.js';
import type { ServiceDeps } from './accounts.js';
import type { RequestContext } from './context.js';
import { creationUnapplied } from './directory-effects.js';
import { audit, getAccount, getOrg, loadPrincipal, notYourAccount, queueEffects } from './store.js';

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
 * where the last drift report found them apart. It decides nothing new (domain/drift.ts,
 * decideReapply): it queues one directory change that writes what the bot already holds,
 * audited `directory-reapply`. The drift lines go at the next drift round after the worker
 * applies it. A local administrator of the account's home organisation, NAS or the operator.
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
        'No directory is connected, so there is nothing to reapply to: the bot records decisions only. To connect Entra, the operator sets DIRECTORY=entra with the GRAPH_ variables (README, "The directory").',
      );
    }
    const lines = await tx
      .select({ kind: directoryDrift.kind, detail: directoryDrift.detail })
      .from(directoryDrift)
      .where(eq(directoryDrift.address, row.address));
    const [creating] = await tx
      .select({ id: directoryEffects.id, state: directoryEffects.state })
      .from(directoryEffects)
      .where(creationUnapplied(row.id))
      .orderBy(desc(directoryEffects.id))
      .limit(1);
    const decision = decideReapply(row, lines, creating ?? null);
    if (decision.kind === 'refused') throw refused('NOTHING_TO_REAPPLY', decision.reason);
    const { effect, settles, directoryId } = decision;
    if (row.directoryId === null && directoryId !== null) {
      // The user drift found by the address is the account's (its creation is not pending, so no
      // one else's holds it): a restore finds users by id only.
      await tx.update(accounts).set({ directoryId }).where(eq(accounts.id, row.id));
    }
    const [effectId] = await queueEffects(tx, ctx, deps, [{ accountId: row.id, effects: [effect] }]);
    if (effectId === undefined) throw new Error('the directory change was not queued');
    await audit(tx, ctx, {
      action: 'directory-reapply',
      address: row.address,
      org: home.ods,
      from: row.status,
      to: row.status,
      reason: `the directory put back in line with the bot: ${settles.map((l) => l.detail.says).join('; ')}`,
      details: {
        effect: effectId,
        drift: settles.map((l) => l.kind),
        directoryId: directoryId ?? row.directoryId,
      },
    });
    return {
      address: row.address,
      settles: settles.map((l) => ({ kind: l.kind, says: l.detail.says })),
      effect,
      effectId,
    };
  });
}
