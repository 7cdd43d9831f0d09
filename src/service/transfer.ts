import { and, eq } from 'drizzle-orm';
import { transferRequests } from '../../db/schema.js';
import { NAS_GP_LOCUM_MAILBOX } from '../domain/contact.js';
import { invalid, refused } from '../domain/errors.js';
import { refuseTransferRequest } from '../domain/preconditions.js';
import type { ServiceDeps } from './accounts.js';
import type { RequestContext } from './context.js';
import { type AccountView, accountView, audit, enqueue, getAccount, getOrg, loadPrincipal } from './store.js';

export interface TransferResult {
  account: AccountView;
  from: string;
  to: string;
  /** Who is asked to mark the leaver: the home organisation, or the NAS GP-locum team. */
  leaverAskedOf: string;
  graceDays: number;
  superseded: string | null;
}

/**
 * A locum asks for their own account to move (or an administrator of their organisation asks for
 * them). The home side is asked to mark them as a leaver and the target to accept them as a
 * joiner; the move completes when both have happened, in either order.
 */
export async function requestTransfer(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { address?: string | undefined; to: string },
): Promise<TransferResult> {
  const address = input.address ?? (ctx.actor.kind === 'person' ? ctx.actor.address : undefined);
  if (!address)
    throw invalid('ADDRESS_REQUIRED', 'Say whose account to transfer: transfer ADDRESS --to ODS.');
  return deps.db.transaction(async (tx) => {
    const principal = await loadPrincipal(tx, ctx);
    const row = await getAccount(tx, address, true);
    const home = await getOrg(tx, row.homeOrg);
    const target = await getOrg(tx, input.to);
    if (!principal.isSelf(row.address) && !principal.canAdminister(home)) {
      throw refused(
        'NOT_YOUR_ORGANISATION',
        `Only the account holder, a local administrator of ${principal.canView(home) ? home.ods : 'its organisation'} or NAS can ask to transfer ${row.address}.`,
      );
    }
    if (row.kind === 'shared') {
      throw refused('SHARED_MAILBOX', `${row.address} is a site's shared mailbox; it cannot be transferred.`);
    }
    if (target.ods === home.ods) {
      throw refused(
        'SAME_ORGANISATION',
        `${row.address} is already homed in ${home.ods}; nothing to transfer.`,
      );
    }
    const refusal = refuseTransferRequest(row, target);
    if (refusal) throw refusal;
    const [previous] = await tx
      .update(transferRequests)
      .set({ state: 'superseded' })
      .where(and(eq(transferRequests.accountId, row.id), eq(transferRequests.state, 'open')))
      .returning({ toOrg: transferRequests.toOrg });
    const [request] = await tx
      .insert(transferRequests)
      .values({
        accountId: row.id,
        fromOrg: home.ods,
        toOrg: target.ods,
        requestedBy: principal.label,
        requestedAt: ctx.now,
      })
      .returning({ id: transferRequests.id });
    const gpLocum = home.kind === 'gp-locum';
    const payload = {
      transferId: request?.id,
      address: row.address,
      from: home.ods,
      to: target.ods,
      requestedBy: principal.label,
      graceDays: deps.policy.graceDays,
    };
    await enqueue(tx, ctx, [
      {
        kind: 'transfer-leaver',
        audience: gpLocum
          ? { type: 'mailbox', address: NAS_GP_LOCUM_MAILBOX, ods: home.ods }
          : { type: 'org', ods: home.ods },
        payload,
      },
      { kind: 'transfer-joiner', audience: { type: 'org', ods: target.ods }, payload },
    ]);
    await audit(tx, ctx, {
      action: 'transfer-request',
      address: row.address,
      org: home.ods,
      from: row.status,
      to: row.status,
      reason: `asked to move from ${home.ods} to ${target.ods}${previous ? `; replaces the request to ${previous.toOrg}` : ''}`,
    });
    return {
      account: accountView(row, home, deps.policy),
      from: home.ods,
      to: target.ods,
      leaverAskedOf: gpLocum
        ? `the NAS GP-locum team (${NAS_GP_LOCUM_MAILBOX})`
        : `${home.name} (${home.ods})`,
      graceDays: deps.policy.graceDays,
      superseded: previous?.toOrg ?? null,
    };
  });
}
