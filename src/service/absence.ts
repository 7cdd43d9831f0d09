import { decideDisable, decideEnable } from '../domain/transitions.js';
import type { ServiceDeps } from './accounts.js';
import { openForChange } from './accounts.js';
import type { RequestContext } from './context.js';
import { assertPlaceFor } from './provisioning.js';
import { type AccountView, accountView, apply, audit, enqueue, notYourAccount } from './store.js';

/**
 * Long absence (NHSmail's "Disabled" status): `disable` keeps an account for a holder who is away
 * (maternity leave, long sickness, a career break) out of the activity rule; `enable` brings it
 * back. The rules are the domain's (decideDisable, decideEnable); this reads, authorises and writes.
 */
export type DisableResult =
  | { outcome: 'disabled'; account: AccountView; updated: boolean }
  | { outcome: 'requested'; account: AccountView; sentTo: string };

export async function disable(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { address: string; reason: string; until: Date | null },
): Promise<DisableResult> {
  return deps.db.transaction(async (tx) => {
    const { principal, row, home } = await openForChange(tx, ctx, input.address);
    const decision = (() => {
      // The rules first for whoever may see the account, so a manager's request that could never
      // be carried out is refused now, with the reason, rather than posted to the channel.
      const decide = () =>
        decideDisable(row, {
          now: ctx.now,
          policy: deps.policy,
          home,
          reason: input.reason,
          until: input.until,
          onRequest: ctx.deciding === true,
        });
      if (principal.canAdminister(home)) return decide();
      // A click on a request's "Disable" carries it out: a manager's click must not ask again.
      if (principal.canRequestDisable(home) && !ctx.deciding) {
        decide();
        return null;
      }
      throw notYourAccount(
        principal,
        row.address,
        home,
        (whose) => `disable ${whose} accounts`,
        ctx.deciding ? 'a local administrator' : 'a local administrator (a manager may ask one)',
      );
    })();
    if (decision === null) {
      // A manager asks; the organisation's local administrators decide, with a button.
      const until = input.until?.toISOString() ?? null;
      await enqueue(tx, ctx, [
        {
          kind: 'disable-request',
          audience: { type: 'org', ods: home.ods },
          payload: {
            address: row.address,
            org: home.ods,
            reason: input.reason,
            until,
            requestedBy: principal.label,
          },
        },
      ]);
      await audit(tx, ctx, {
        action: 'disable-request',
        address: row.address,
        org: home.ods,
        from: row.status,
        to: row.status,
        reason: `asked to disable: ${input.reason}${until ? `; due back ${until.slice(0, 10)}` : ''}`,
      });
      return {
        outcome: 'requested',
        account: accountView(row, home, deps.policy),
        sentTo: `the local administrators of ${home.name} (${home.ods})`,
      };
    }
    const updated = await apply(tx, ctx, deps, row, decision);
    return {
      outcome: 'disabled',
      account: accountView(updated, home, deps.policy),
      updated: decision.from === decision.to,
    };
  });
}

export async function enable(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { address: string },
): Promise<AccountView> {
  return deps.db.transaction(async (tx) => {
    const { principal, row, home } = await openForChange(tx, ctx, input.address);
    if (!principal.canAdminister(home)) {
      throw notYourAccount(
        principal,
        row.address,
        home,
        (whose) => `enable ${whose} accounts`,
        'a local administrator',
      );
    }
    const decision = decideEnable(row, { now: ctx.now, policy: deps.policy, home });
    await assertPlaceFor(tx, deps.policy, home, decision);
    const updated = await apply(tx, ctx, deps, row, decision);
    return accountView(updated, home, deps.policy);
  });
}
