import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { and, eq, isNull, type SQL, sql } from 'drizzle-orm';
import type { RunCoordinator } from 'node-cron';
import { type Db, rowsOf } from '../../db/index.js';
import { cronRuns } from '../../db/schema.js';
import type { Logger } from '../logger.js';
import { settledWithin, type Telemetry } from '../service/telemetry.js';

/** A claim holds this long without renewal (SCHEDULE_LEASE_MS); its holder renews it every third of it. */
export const DEFAULT_LEASE_MS = 120_000;

/**
 * The job a `cron_runs` key belongs to. node-cron keys a distributed fire `<task name>:<slot ISO>`
 * (its `coordinatorKeyPrefix` is the task's name), and the catch-up sweep `catch-up-sweep:<hour>`,
 * so the job is everything before the first colon.
 */
export const jobOfKey = (key: string): string => {
  const colon = key.indexOf(':');
  return colon < 0 ? key : key.slice(0, colon);
};

export interface RunCoordinatorOptions {
  /** How long a claim holds without renewal before another process may take the run over. */
  leaseMs?: number;
  /** Where takeovers of our own runs and lost claims are logged. */
  logger?: Logger;
  /** Counts claims lost to another process. */
  telemetry?: Pick<Telemetry, 'scheduledRun'>;
  clock?: () => Date;
}

/** A fire's claim: ours now, and whose it was before when we took it over from a lapsed lease. */
export type Claim =
  | { claimed: false }
  | { claimed: true; previous: { claimedBy: string; claimedAt: Date } | null };

/** An open claim whose lease has lapsed: its process died (or stalled) before finishing the run. */
export interface AbandonedRun {
  key: string;
  job: string;
  claimedBy: string;
  claimedAt: Date;
  /** Null on a claim made before leases existed. */
  leaseUntil: Date | null;
}

const asDate = (value: string | Date): Date => (value instanceof Date ? value : new Date(value));

/** A claim this process holds: renewed until its run completes. */
interface Hold {
  timer: NodeJS.Timeout | undefined;
  /** Completed, or given up at stop: renew no more. */
  stopped: boolean;
  /** A renewal found it taken over (and said so). */
  lost: boolean;
  /** Settles once onComplete has recorded the run's end. */
  released: Promise<void>;
  release(): void;
}

/**
 * node-cron's RunCoordinator on PostgreSQL, with leases. The first process to insert a fire's key
 * runs it and renews `lease_until` every third of the lease until the run completes; every other
 * replica sees a live claim and skips. A claim still open when its lease has lapsed (the process
 * was killed) can be taken over by any process, by the same single statement that claims, so
 * exactly one of them gets it. A claim from before leases existed (`lease_until` null) lapses one
 * lease after `claimed_at`.
 *
 * Leases are compared on the processes' own clocks, as the outbox's are: replicas' clocks must
 * agree to well within a lease (NTP does).
 */
export class PostgresRunCoordinator implements RunCoordinator {
  /** Unique per coordinator, so two schedulers in one process (tests) are two claimants. */
  readonly processId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly leaseMs: number;
  private readonly clock: () => Date;
  private readonly holds = new Map<string, Hold>();

  constructor(
    private readonly db: Db,
    private readonly options: RunCoordinatorOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.clock = options.clock ?? (() => new Date());
  }

  /** node-cron asks at each fire: true when this process claimed it (and now holds it until onComplete). */
  async shouldRun(key: string): Promise<boolean> {
    return (await this.acquire(key)).claimed;
  }

  /** Claims `key` (logging a takeover) and keeps renewing the lease until `onComplete(key)`. */
  async acquire(key: string): Promise<Claim> {
    const claim = await this.claim(key);
    if (!claim.claimed) return claim;
    this.hold(key);
    if (claim.previous) {
      const job = jobOfKey(key);
      this.options.logger?.warn(
        {
          job,
          key,
          previousClaimant: claim.previous.claimedBy,
          previousClaimedAt: claim.previous.claimedAt.toISOString(),
          processId: this.processId,
        },
        'took over a scheduled run whose claimant stopped renewing its lease: running the job again to finish it',
      );
      this.options.telemetry?.scheduledRun({ job, outcome: 'taken-over' });
    }
    return claim;
  }

  /**
   * One statement: inserts the claim, or takes over an existing one that is open and whose lease
   * has lapsed. Under concurrent callers PostgreSQL re-checks the WHERE on the row as the first
   * taker left it, so the others find a live lease and get nothing.
   */
  async claim(key: string): Promise<Claim> {
    const now = this.clock();
    const until = new Date(now.getTime() + this.leaseMs);
    const rows = rowsOf<{ previous_by: string | null; previous_at: string | Date | null }>(
      await this.db.execute(sql`
        with previous as (select claimed_by, claimed_at from cron_runs where key = ${key})
        insert into cron_runs as r (key, claimed_by, claimed_at, lease_until)
        values (${key}, ${this.processId}, ${now.toISOString()}::timestamptz, ${until.toISOString()}::timestamptz)
        on conflict (key) do update
          set claimed_by = excluded.claimed_by, claimed_at = excluded.claimed_at, lease_until = excluded.lease_until
          where r.completed_at is null and ${this.lapsed(now, sql`r.`)}
        returning (select claimed_by from previous) as previous_by, (select claimed_at from previous) as previous_at`),
    );
    const [row] = rows;
    if (!row) return { claimed: false };
    return {
      claimed: true,
      previous:
        row.previous_by !== null && row.previous_at !== null
          ? { claimedBy: row.previous_by, claimedAt: asDate(row.previous_at) }
          : null,
    };
  }

  /** Extends our lease by a full lease from now; `lost` when another process holds the claim now (or closed it). */
  async renew(key: string): Promise<'renewed' | 'lost'> {
    const now = this.clock();
    const renewed = await this.db
      .update(cronRuns)
      .set({ leaseUntil: new Date(now.getTime() + this.leaseMs) })
      .where(and(eq(cronRuns.key, key), eq(cronRuns.claimedBy, this.processId), isNull(cronRuns.completedAt)))
      .returning({ key: cronRuns.key });
    return renewed.length > 0 ? 'renewed' : 'lost';
  }

  /** node-cron calls this when the run ends (finished or failed): stops renewing and marks the fire done if still ours. */
  async onComplete(key: string): Promise<void> {
    const hold = this.holds.get(key);
    if (hold) {
      hold.stopped = true;
      clearTimeout(hold.timer);
    }
    try {
      const done = await this.db
        .update(cronRuns)
        .set({ completedAt: this.clock() })
        .where(
          and(eq(cronRuns.key, key), eq(cronRuns.claimedBy, this.processId), isNull(cronRuns.completedAt)),
        )
        .returning({ key: cronRuns.key });
      // Not ours any more: the process that took it over completes it (ours ran too, which the jobs allow).
      if (done.length === 0 && !hold?.lost) this.reportLost(key);
    } finally {
      if (hold) {
        if (this.holds.get(key) === hold) this.holds.delete(key);
        hold.release();
      }
    }
  }

  /**
   * Waits (up to `timeoutMs`) until every claim this process holds is completed: node-cron records
   * a fire's end only after the job's promise settles, so a stopping process waits for this too,
   * or its last runs would be left open and run again elsewhere.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.holds.size > 0) {
      const released = [...this.holds.values()].map((hold) => hold.released);
      if (!(await settledWithin(released, deadline - Date.now()))) return false;
    }
    return true;
  }

  /**
   * Open claims of these jobs whose lease has lapsed, oldest claim first, but none this process
   * still runs (its renewals failed for a while: the next one that reaches the database restores
   * the lease). A job's name is the key's part before the first colon.
   */
  async abandoned(jobs: readonly string[]): Promise<AbandonedRun[]> {
    if (jobs.length === 0) return [];
    const now = this.clock();
    const rows = rowsOf<{
      key: string;
      claimed_by: string;
      claimed_at: string | Date;
      lease_until: string | Date | null;
    }>(
      await this.db.execute(sql`
        select key, claimed_by, claimed_at, lease_until from cron_runs
        where completed_at is null and ${this.lapsed(now, sql``)} and ${inJobs(jobs)}
        order by claimed_at, key`),
    );
    return rows
      .filter((row) => !this.holds.has(row.key))
      .map((row) => ({
        key: row.key,
        job: jobOfKey(row.key),
        claimedBy: row.claimed_by,
        claimedAt: asDate(row.claimed_at),
        leaseUntil: row.lease_until === null ? null : asDate(row.lease_until),
      }));
  }

  /** Whether any run of these jobs was claimed (or taken over) after `at`, finished or not. */
  async claimedAfter(jobs: readonly string[], at: Date): Promise<boolean> {
    const [row] = rowsOf<{ later: boolean }>(
      await this.db.execute(sql`
        select exists (
          select 1 from cron_runs where ${inJobs(jobs)} and claimed_at > ${at.toISOString()}::timestamptz
        ) as later`),
    );
    return row?.later === true;
  }

  /**
   * Marks an abandoned run done without running it (a later run covers it); false when it is no
   * longer abandoned. It is recorded as completed when it was claimed, not now: it did no work, so
   * it must not count as a sweep just done to the catch-up's 25 hours.
   */
  async close(key: string): Promise<boolean> {
    const now = this.clock();
    const closed = await this.db
      .update(cronRuns)
      .set({ completedAt: sql`${cronRuns.claimedAt}` })
      .where(and(eq(cronRuns.key, key), isNull(cronRuns.completedAt), this.lapsed(now, sql``)))
      .returning({ key: cronRuns.key });
    return closed.length > 0;
  }

  /** Stops every renewal: what this process still runs lapses and is taken over elsewhere. */
  stopRenewingAll(): void {
    for (const hold of this.holds.values()) {
      hold.stopped = true;
      clearTimeout(hold.timer);
    }
  }

  /** The lease has lapsed at `now`; a claim from before leases (null) lapses one lease after it was made. */
  private lapsed(now: Date, table: SQL): SQL {
    const lease = `${this.leaseMs} milliseconds`;
    return sql`coalesce(${table}lease_until, ${table}claimed_at + ${lease}::interval) < ${now.toISOString()}::timestamptz`;
  }

  /** Holds a claim just made: renews it every third of the lease until onComplete (or stop). */
  private hold(key: string): void {
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const hold: Hold = { timer: undefined, stopped: false, lost: false, released, release };
    this.stopHolding(key);
    this.holds.set(key, hold);
    const every = Math.max(1, Math.floor(this.leaseMs / 3));
    // A chain of timeouts, not an interval: a slow renewal never has another queued behind it.
    const next = () => {
      hold.timer = setTimeout(async () => {
        let outcome: 'renewed' | 'lost';
        try {
          outcome = await this.renew(key);
        } catch (err) {
          this.options.logger?.warn(
            { err, job: jobOfKey(key), key },
            'could not renew the lease on a scheduled run',
          );
          if (!hold.stopped) next();
          return;
        }
        if (hold.stopped) return;
        if (outcome === 'renewed') return next();
        hold.lost = true;
        this.reportLost(key);
      }, every);
      hold.timer.unref();
    };
    next();
  }

  /** Stops renewing `key` so a stop no longer waits for it. */
  private stopHolding(key: string): void {
    const hold = this.holds.get(key);
    if (!hold) return;
    hold.stopped = true;
    clearTimeout(hold.timer);
    this.holds.delete(key);
    hold.release();
  }

  private reportLost(key: string): void {
    const job = jobOfKey(key);
    this.options.logger?.warn(
      { job, key, processId: this.processId },
      'lost the claim on a scheduled run: its lease lapsed and another process took it over; this run goes on, which the jobs allow',
    );
    this.options.telemetry?.scheduledRun({ job, outcome: 'lost' });
  }
}

/** `split_part(key, ':', 1) in (…)`: the keys of these jobs. */
function inJobs(jobs: readonly string[]): SQL {
  return sql`split_part(key, ':', 1) in (${sql.join(
    jobs.map((job) => sql`${job}`),
    sql`, `,
  )})`;
}
