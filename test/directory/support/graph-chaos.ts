/**
 * Throttling and outages for the Graph stand-in: seeded random 429s and 503s, and a write budget
 * shaped like Microsoft Entra's, with counters a benchmark can read.
 *
 * Entra ID's write quota (learn.microsoft.com/graph/throttling-limits, "Identity and access service
 * limits"): 3,000 writes per 2 minutes 30 seconds per application+tenant pair. Over it Graph answers
 * 429 Too Many Requests with a Retry-After header in seconds (learn.microsoft.com/graph/throttling);
 * requests inside a $batch are evaluated against the limits one by one (learn.microsoft.com/graph/
 * json-batching, "Batch size limitations"). A 503 may also carry Retry-After (learn.microsoft.com/
 * graph/errors: serviceNotAvailable). Tests scale the quota down, e.g. { writes: 10, windowMs: 1000 }.
 */

/** Random failures, drawn once per request (a top-level request or one batch item), in order. */
export interface ChaosOptions {
  /** Seed of the generator: the same seed and the same requests give the same failures. */
  seed: number;
  /** Fraction of requests answered 429 with Retry-After (0..1). */
  throttleRate?: number;
  /** Fraction of requests answered 503 with Retry-After (0..1). */
  unavailableRate?: number;
  /** The Retry-After the random failures carry, in seconds (default 1; 0 keeps tests fast). */
  retryAfterSeconds?: number;
}

/** Graph's write quota, scaled down: at most `writes` writes in any `windowMs`. */
export interface WriteBudget {
  writes: number;
  windowMs: number;
}

/** What a benchmark reads: per second of the stand-in's clock, and in total. */
export interface GraphTrafficSecond {
  /** Start of the second, epoch milliseconds. */
  at: number;
  requests: number;
  writesAccepted: number;
  throttled: number;
  unavailable: number;
}
export interface GraphTraffic {
  requests: number;
  writesAccepted: number;
  /** 429s sent, random or over the budget. */
  throttled: number;
  /** Of those, the ones the write budget sent. */
  throttledByBudget: number;
  unavailable: number;
  perSecond: GraphTrafficSecond[];
}

/** mulberry32: small, fast and deterministic for a given 32-bit seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Verdict =
  | { kind: 'pass' }
  | { kind: 'throttled'; retryAfter: number; byBudget: boolean }
  | { kind: 'unavailable'; retryAfter: number };

export class Throttle {
  private chaos: ChaosOptions | undefined;
  private random: () => number = Math.random;
  private budget: WriteBudget | undefined;
  /** Times (epoch ms) of the writes the budget let through, oldest first. */
  private window: number[] = [];
  private traffic: GraphTraffic = Throttle.empty();

  constructor(chaos?: ChaosOptions, budget?: WriteBudget) {
    this.setChaos(chaos);
    this.budget = budget;
  }

  private static empty(): GraphTraffic {
    return {
      requests: 0,
      writesAccepted: 0,
      throttled: 0,
      throttledByBudget: 0,
      unavailable: 0,
      perSecond: [],
    };
  }

  /** New random failures (undefined: none), restarting the sequence from the seed. */
  setChaos(chaos: ChaosOptions | undefined): void {
    this.chaos = chaos;
    if (chaos) this.random = seeded(chaos.seed);
  }

  setBudget(budget: WriteBudget | undefined): void {
    this.budget = budget;
    this.window = [];
  }

  /** Forgets the traffic and the budget's window, and restarts the chaos sequence from its seed. */
  reset(): void {
    this.traffic = Throttle.empty();
    this.window = [];
    this.setChaos(this.chaos);
  }

  /** Judges one request at `now` (epoch ms): whether it goes through, and counts it. */
  judge(write: boolean, now: number): Verdict {
    const second = this.second(now);
    this.traffic.requests++;
    second.requests++;
    const verdict = this.decide(write, now);
    if (verdict.kind === 'throttled') {
      this.traffic.throttled++;
      second.throttled++;
      if (verdict.byBudget) this.traffic.throttledByBudget++;
    } else if (verdict.kind === 'unavailable') {
      this.traffic.unavailable++;
      second.unavailable++;
    } else if (write) {
      this.traffic.writesAccepted++;
      second.writesAccepted++;
    }
    return verdict;
  }

  private decide(write: boolean, now: number): Verdict {
    if (this.chaos) {
      const draw = this.random();
      const throttleRate = this.chaos.throttleRate ?? 0;
      const retryAfter = this.chaos.retryAfterSeconds ?? 1;
      if (draw < throttleRate) return { kind: 'throttled', retryAfter, byBudget: false };
      if (draw < throttleRate + (this.chaos.unavailableRate ?? 0)) return { kind: 'unavailable', retryAfter };
    }
    if (write && this.budget) {
      const { writes, windowMs } = this.budget;
      while (this.window.length > 0 && (this.window[0] ?? 0) <= now - windowMs) this.window.shift();
      if (this.window.length >= writes) {
        const frees = (this.window[0] ?? now) + windowMs;
        return {
          kind: 'throttled',
          retryAfter: Math.max(1, Math.ceil((frees - now) / 1000)),
          byBudget: true,
        };
      }
      this.window.push(now);
    }
    return { kind: 'pass' };
  }

  private second(now: number): GraphTrafficSecond {
    const at = Math.floor(now / 1000) * 1000;
    let last = this.traffic.perSecond.at(-1);
    if (last?.at !== at) {
      last = { at, requests: 0, writesAccepted: 0, throttled: 0, unavailable: 0 };
      this.traffic.perSecond.push(last);
    }
    return last;
  }

  /** A copy of the counters so far. */
  stats(): GraphTraffic {
    return { ...this.traffic, perSecond: this.traffic.perSecond.map((s) => ({ ...s })) };
  }
}
