import { and, asc, eq, isNull } from 'drizzle-orm';
import { manualSteps } from '../../db/schema.js';
import { refused } from '../domain/errors.js';
import type { Organisation } from '../domain/organisation.js';
import type { ServiceDeps } from './accounts.js';
import type { RequestContext } from './context.js';
import { audit, type Executor, getOrg, loadPrincipal } from './store.js';

/** A step the directory cannot take, waiting for a person. */
export interface ManualStep {
  id: number;
  kind: 'shared-mailbox';
  address: string;
  instructions: string;
  createdAt: string;
}

/**
 * Graph cannot make an Exchange shared mailbox, so with a directory connected a site's shared
 * mailbox is a step for NAS: recorded with the Exchange Online command to run, and shown in
 * `site show` until it is marked done. The bot never claims to have made it.
 */
export async function recordSharedMailboxStep(
  tx: Executor,
  ctx: RequestContext,
  site: Organisation,
  address: string,
): Promise<ManualStep> {
  const instructions = `In Exchange Online PowerShell: New-Mailbox -Shared -Name "${site.name}" -DisplayName "${site.name}" -PrimarySmtpAddress ${address}; then "site mailbox-done ${site.ods}".`;
  const [row] = await tx
    .insert(manualSteps)
    .values({ org: site.ods, address, kind: 'shared-mailbox', instructions, createdAt: ctx.now })
    .returning();
  if (!row) throw new Error(`manual step for ${address} was not recorded`);
  return view(row);
}

/** The site's steps not yet done, oldest first. */
export async function openSteps(db: Executor, ods: string): Promise<ManualStep[]> {
  const rows = await db
    .select()
    .from(manualSteps)
    .where(and(eq(manualSteps.org, ods), isNull(manualSteps.doneAt)))
    .orderBy(asc(manualSteps.id));
  return rows.map(view);
}

/** `site mailbox-done ODS`: NAS says the site's shared mailbox now exists in Exchange. */
export async function markSharedMailboxMade(
  deps: ServiceDeps,
  ctx: RequestContext,
  input: { ods: string },
): Promise<{ site: Organisation; done: ManualStep[] }> {
  return deps.db.transaction(async (tx) => {
    const principal = await loadPrincipal(tx, ctx);
    if (!principal.isNational) {
      throw refused(
        'NAS_ONLY',
        'Only NAS administrators and the operator mark a site’s shared mailbox as made, since they make it in Exchange. Ask NAS.',
      );
    }
    const site = await getOrg(tx, input.ods);
    const done = await tx
      .update(manualSteps)
      .set({ doneAt: ctx.now, doneBy: principal.label })
      .where(
        and(
          eq(manualSteps.org, site.ods),
          eq(manualSteps.kind, 'shared-mailbox'),
          isNull(manualSteps.doneAt),
        ),
      )
      .returning();
    if (done.length === 0) {
      throw refused(
        'NO_MANUAL_STEP',
        `${site.name} (${site.ods}) has no shared mailbox waiting to be made. "site show ${site.ods}" lists what is still to do.`,
      );
    }
    for (const step of done) {
      await audit(tx, ctx, {
        action: 'site-mailbox-made',
        address: step.address,
        org: site.ods,
        reason: `shared mailbox made in Exchange by ${principal.label}`,
      });
    }
    return { site, done: done.map(view) };
  });
}

function view(row: typeof manualSteps.$inferSelect): ManualStep {
  return {
    id: row.id,
    kind: row.kind,
    address: row.address,
    instructions: row.instructions,
    createdAt: row.createdAt.toISOString(),
  };
}
