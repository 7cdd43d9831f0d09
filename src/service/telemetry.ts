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
 * What the service and its jobs report about themselves. The bot process counts it in Prometheus
 * metrics (adapters/server/metrics.ts); the CLI and tests ignore it.
 */
export interface Telemetry {
  command(event: CommandEvent): void;
  sweep(event: { seconds: number; counts: Record<string, number> }): void;
  delivery(event: DeliveryEvent): void;
}

export const NO_TELEMETRY: Telemetry = {
  command: () => {},
  sweep: () => {},
  delivery: () => {},
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

  /** Resolves true once nothing is running, or false when `timeoutMs` passes first. */
  async drain(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      while (this.running.size > 0) {
        const finished = await Promise.race([
          Promise.allSettled([...this.running]).then(() => true as const),
          deadline,
        ]);
        if (!finished) return false;
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }
}
