import { sql } from 'drizzle-orm';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type Db, rowsOf } from '../../db/index.js';
import { LAPSES } from '../../src/domain/lapses.js';
import type { Logger } from '../../src/logger.js';
import type {
  CommandEvent,
  DeliveryEvent,
  ScheduledRunEvent,
  Telemetry,
} from '../../src/service/telemetry.js';

/**
 * The bot's Prometheus metrics, served at GET /metrics. Labels are command names, refusal codes,
 * platforms and notification kinds: never an address or anything personal. Counters are per
 * process; the outbox gauges are read from the database, so every replica reports the same.
 */
export class PrometheusTelemetry implements Telemetry {
  readonly registry = new Registry();
  private readonly commands: Counter<'command' | 'outcome' | 'platform'>;
  private readonly commandSeconds: Histogram<'command' | 'platform'>;
  private readonly sweepSeconds: Histogram;
  private readonly sweepChanged: Counter<'step'>;
  private readonly deliveries: Counter<'platform' | 'kind' | 'outcome'>;
  private readonly deliveryFailures: Counter<'platform' | 'outcome'>;
  private readonly rateLimitWaits: Counter<'platform'>;
  private readonly scheduledRuns: Counter<'job' | 'outcome'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'nhsmail_' });
    this.commands = new Counter({
      name: 'nhsmail_commands_total',
      help: 'Commands run, by command, outcome (done or the refusal code) and platform.',
      labelNames: ['command', 'outcome', 'platform'],
      registers,
    });
    this.commandSeconds = new Histogram({
      name: 'nhsmail_command_duration_seconds',
      help: 'Time to run a command, from the words to the answer.',
      labelNames: ['command', 'platform'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.sweepSeconds = new Histogram({
      name: 'nhsmail_sweep_duration_seconds',
      help: 'Time a sweep took.',
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.sweepChanged = new Counter({
      name: 'nhsmail_sweep_accounts_changed_total',
      help: `Accounts a sweep changed, by step (${LAPSES.map((lapse) => lapse.step).join(', ')}), and warnings queued.`,
      labelNames: ['step'],
      registers,
    });
    this.deliveries = new Counter({
      name: 'nhsmail_deliveries_total',
      help: 'Notification sends, by platform, kind and outcome (delivered, rate-limited, retry, parked).',
      labelNames: ['platform', 'kind', 'outcome'],
      registers,
    });
    this.deliveryFailures = new Counter({
      name: 'nhsmail_delivery_failures_total',
      help: 'Failed notification sends: retry (will be tried again) or parked (given up; see "notifications failed").',
      labelNames: ['platform', 'outcome'],
      registers,
    });
    this.rateLimitWaits = new Counter({
      name: 'nhsmail_delivery_rate_limit_waits_total',
      help: 'Sends refused with Retry-After by a platform; the target waits that long.',
      labelNames: ['platform'],
      registers,
    });
    this.scheduledRuns = new Counter({
      name: 'nhsmail_scheduled_runs_taken_over_total',
      help: 'Scheduled runs (daily-sweep, pending-reminders…) changing hands: taken-over by this process from one that stopped renewing its claim, or lost by this process to another.',
      labelNames: ['job', 'outcome'],
      registers,
    });
  }

  command(e: CommandEvent): void {
    const command = e.command ?? 'unparsed';
    this.commands.inc({ command, outcome: e.outcome, platform: e.platform });
    this.commandSeconds.observe({ command, platform: e.platform }, e.seconds);
  }

  sweep(e: { seconds: number; counts: Record<string, number> }): void {
    this.sweepSeconds.observe(e.seconds);
    for (const [step, n] of Object.entries(e.counts)) this.sweepChanged.inc({ step }, n);
  }

  delivery(e: DeliveryEvent): void {
    this.deliveries.inc({ platform: e.platform, kind: e.kind, outcome: e.outcome });
    if (e.outcome === 'retry' || e.outcome === 'parked') {
      this.deliveryFailures.inc({ platform: e.platform, outcome: e.outcome });
    }
    if (e.outcome === 'rate-limited') this.rateLimitWaits.inc({ platform: e.platform });
  }

  scheduledRun(e: ScheduledRunEvent): void {
    this.scheduledRuns.inc({ job: e.job, outcome: e.outcome });
  }

  /** Gauges read from the database at each scrape: outbox depth, parked count, oldest undelivered. */
  watchOutbox(db: Db, logger: Logger): void {
    let reading: Promise<void> | null = null;
    // One database read per scrape, shared by the three gauges (each calls collect).
    const collect = async () => {
      reading ??= read().finally(() => {
        reading = null;
      });
      await reading;
    };
    const registers = [this.registry];
    const depth = new Gauge({
      name: 'nhsmail_outbox_depth',
      help: 'Undelivered notifications: queued (not yet fanned out to channels) and sending (per channel and part).',
      labelNames: ['stage'],
      registers,
      collect,
    });
    const parked = new Gauge({
      name: 'nhsmail_deliveries_parked',
      help: 'Deliveries parked as failed (listed by "notifications failed").',
      registers,
      collect,
    });
    const oldest = new Gauge({
      name: 'nhsmail_outbox_oldest_undelivered_seconds',
      help: 'Age of the oldest undelivered notification; 0 when nothing waits.',
      registers,
      collect,
    });
    async function read(): Promise<void> {
      try {
        const [row] = rowsOf<{
          queued: number;
          sending: number;
          parked: number;
          oldest: string | Date | null;
        }>(
          await db.execute(sql`
            select
              (select count(*)::int from outbox where state = 'pending') as queued,
              (select count(*)::int from deliveries where state = 'pending') as sending,
              (select count(*)::int from deliveries where state = 'failed') as parked,
              least(
                (select min(created_at) from outbox where state = 'pending'),
                (select min(created_at) from deliveries where state = 'pending')
              ) as oldest`),
        );
        depth.set({ stage: 'queued' }, Number(row?.queued ?? 0));
        depth.set({ stage: 'sending' }, Number(row?.sending ?? 0));
        parked.set(Number(row?.parked ?? 0));
        oldest.set(row?.oldest ? Math.max(0, (Date.now() - new Date(row.oldest).getTime()) / 1000) : 0);
      } catch (err) {
        logger.warn({ err }, 'metrics: could not read the outbox');
      }
    }
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
