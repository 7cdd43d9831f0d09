import type { HrImportPayload } from '../../domain/notifications.js';
import type { ServiceDeps } from '../accounts.js';
import type { RequestContext } from '../context.js';
import { enqueue } from '../store.js';

/** What one file did for one organisation: its payload without the organisation, file and time. */
type Counts<F extends HrImportPayload['file']> = Omit<
  Extract<HrImportPayload, { file: F }>,
  'org' | 'file' | 'at'
>;

/** A file's kind with its counts per organisation, paired so each file's payload keeps its own keys. */
type Summaries = {
  [F in HrImportPayload['file']]: [file: F, byOrg: Record<string, Counts<F>>];
}[HrImportPayload['file']];

/** One message per organisation to its subscribed channels: what the import did for it. */
export async function queueSummaries(
  deps: ServiceDeps,
  ctx: RequestContext,
  ...[file, byOrg]: Summaries
): Promise<void> {
  const at = ctx.now.toISOString();
  const payloads: HrImportPayload[] =
    file === 'starters'
      ? Object.entries(byOrg).map(([org, counts]) => ({ org, file, at, ...counts }))
      : Object.entries(byOrg).map(([org, counts]) => ({ org, file, at, ...counts }));
  if (payloads.length === 0) return;
  await enqueue(
    deps.db,
    ctx,
    payloads.map((payload) => ({ kind: 'hr-import', audience: { type: 'org', ods: payload.org }, payload })),
  );
}
