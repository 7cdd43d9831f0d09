import { hostname } from 'node:os';
import { eq } from 'drizzle-orm';
import type { RunCoordinator } from 'node-cron';
import type { Db } from '../../db/index.js';
import { cronRuns } from '../../db/schema.js';

/**
 * node-cron's RunCoordinator on PostgreSQL: the first process to insert a fire's key runs it;
 * every other replica sees the row and skips. One row per fire, so nothing expires or drifts.
 */
export class PostgresRunCoordinator implements RunCoordinator {
  readonly processId = `${hostname()}:${process.pid}`;

  constructor(
    private readonly db: Db,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async shouldRun(key: string): Promise<boolean> {
    const claimed = await this.db
      .insert(cronRuns)
      .values({ key, claimedBy: this.processId, claimedAt: this.clock() })
      .onConflictDoNothing()
      .returning({ key: cronRuns.key });
    return claimed.length > 0;
  }

  async onComplete(key: string): Promise<void> {
    await this.db.update(cronRuns).set({ completedAt: this.clock() }).where(eq(cronRuns.key, key));
  }
}
