import type { Platform } from './context.js';

/** A finished command, as metrics count it. */
export interface CommandEvent {
  command: string | null;
  platform: Platform;
  /** `done`, or the refusal's code (`NOT_YOUR_ORGANISATION`, `INVALID_ADDRESS`…), or `INTERNAL_ERROR`. */
  outcome: string;
  seconds: number;
}

/** One send by the outbox worker, as metrics count it. */
export interface DeliveryEvent {
  platform: string;
  kind: string;
  outcome: 'delivered' | 'rate-limited' | 'retry' | 'parked';
}

/**
 * A scheduled run changing hands: `taken-over` when this process took over a run whose claimant
 * stopped renewing its lease, `lost` when this process found a run it holds taken over.
 */
export interface ScheduledRunEvent {
  job: string;
  outcome: 'taken-over' | 'lost';
}

/**
 * What the service and its jobs report about themselves. The bot process counts it in Prometheus
 * metrics (adapters/server/metrics.ts); the CLI and tests ignore it.
 */
export interface Telemetry {
  command(event: CommandEvent): void;
  sweep(event: { seconds: number; counts: Record<string, number> }): void;
  delivery(event: DeliveryEvent): void;
  scheduledRun(event: ScheduledRunEvent): void;
}

export const NO_TELEMETRY: Telemetry = {
  command: () => {},
  sweep: () => {},
  delivery: () => {},
  scheduledRun: () => {},
};

/**
 * Work in progress (commands), so a stopping process can let it finish: `drain` waits for what
 * is running, up to a deadline, and reports whether everything finished.
 */
export class InFlight {
  private readonly running = new Set<Promise<unknown>>();

  get size(): number {
    return this.running.size;
  }

  track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    const forget = () => this.running.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Resolves true once nothing is running (work started meanwhile included), or false when `timeoutMs` passes first. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.running.size > 0) {
      if (!(await settledWithin([...this.running], deadline - Date.now()))) return false;
    }
    return true;
  }
}

/** Waits for every promise to settle, up to `timeoutMs`: true when they all did in time. */
export async function settledWithin(work: readonly Promise<unknown>[], timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.allSettled(work).then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
