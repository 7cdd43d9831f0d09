import type { ServiceDeps } from '../accounts.js';
import type { RequestContext } from '../context.js';
import { enqueue } from '../store.js';

/** One message per organisation to its subscribed channels: what the import did for it. */
export async function queueSummaries(
  deps: ServiceDeps,
  ctx: RequestContext,
  file: 'starters' | 'leavers',
  byOrg: Record<string, object>,
): Promise<void> {
  const orgs = Object.entries(byOrg);
  if (orgs.length === 0) return;
  await enqueue(
    deps.db,
    ctx,
    orgs.map(([ods, counts]) => ({
      kind: 'hr-import',
      audience: { type: 'org' as const, ods },
      payload: { org: ods, file, at: ctx.now.toISOString(), ...counts },
    })),
  );
}
