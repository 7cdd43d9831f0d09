import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { slackSignature } from '../slack/support/fake-slack.js';
import type { LoadSlack } from './chat-slack.js';

export interface LoadOptions {
  /** The server's POST /slack/events. */
  url: string;
  secret: string;
  /** Requests a second, and seconds measured after `warmSeconds` unmeasured. */
  rate: number;
  seconds: number;
  warmSeconds: number;
  /** How long to wait for late acks and answers once the last request is sent. */
  drainMs: number;
  slack: LoadSlack;
  /** The slash command's fields for request `i` (response_url and trigger_id are added). */
  fields(i: number): Record<string, string>;
  /** What request `i`'s answer must contain to count as answered rightly. */
  expect(i: number): string;
}

/** Latencies in ms from each request's scheduled send time. */
export interface Latencies {
  count: number;
  p50: number;
  p99: number;
  max: number;
  /** Requests with no ack, or no answer, within the drain: their latency counts as a lower bound. */
  missing: number;
  /** Acks other than 200, connection errors, or answers without the expected text. */
  errors: number;
  /** True when missing requests reach the p99: it is then only a lower bound (the drain's end). */
  p99LowerBound: boolean;
}

/** One measured request: its scheduled send time (performance.now()) and latencies from it, in ms. */
export interface Measured {
  scheduled: number;
  ack: number;
  ackMissing: boolean;
  ackError: boolean;
  answer: number;
  answerMissing: boolean;
  answerError: boolean;
}

export interface LoadResult {
  measured: Measured[];
  /** When the measured part began and ended (performance.now()). */
  from: number;
  to: number;
  /** How late the generator sent, worst case (ms after the scheduled time): a check that it kept up. */
  sendLagMax: number;
}

interface Sample {
  scheduled: number;
  sentLag: number;
  ackAt?: number;
  ackOk?: boolean;
  error?: boolean;
}

/**
 * Open-loop load: request i is sent at start + i/rate whether or not earlier ones were answered,
 * and every latency counts from that scheduled time, so a server that stalls is charged for the
 * whole stall (no coordinated omission). Each request is a slash command signed as Slack signs it.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const target = new URL(o.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2_000 });
  const total = Math.round(o.rate * (o.warmSeconds + o.seconds));
  const warm = Math.round(o.rate * o.warmSeconds);
  const run = randomBytes(4).toString('hex');
  const samples: Sample[] = [];
  const start = performance.now() + 20;
  const at = (i: number) => start + (i * 1000) / o.rate;

  const fire = (i: number) => {
    const sample: Sample = { scheduled: at(i), sentLag: performance.now() - at(i) };
    samples[i] = sample;
    const timestamp = Math.floor(Date.now() / 1000);
    const body = new URLSearchParams({
      ...o.fields(i),
      response_url: o.slack.responseUrl(`${run}-${i}`),
      trigger_id: `${timestamp}.${i}.${run}${randomBytes(6).toString('hex')}`,
    }).toString();
    const req = http.request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          'x-slack-request-timestamp': String(timestamp),
          'x-slack-signature': slackSignature(o.secret, timestamp, body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          sample.ackAt = performance.now();
          sample.ackOk = res.statusCode === 200;
        });
      },
    );
    req.on('error', () => {
      sample.error = true;
    });
    req.end(body);
  };

  await new Promise<void>((resolve) => {
    let next = 0;
    const tick = () => {
      const now = performance.now();
      while (next < total && at(next) <= now) fire(next++);
      if (next >= total) resolve();
      else setTimeout(tick, Math.max(0, at(next) - performance.now()));
    };
    tick();
  });
  const settled = () =>
    samples.every((s, i) => s.error || (s.ackAt !== undefined && o.slack.arrivals.has(`${run}-${i}`)));
  const deadline = performance.now() + o.drainMs;
  while (!settled() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const end = performance.now();
  agent.destroy();

  const measured: Measured[] = samples.slice(warm).map((s, k) => {
    const arrival = o.slack.arrivals.get(`${run}-${warm + k}`);
    return {
      scheduled: s.scheduled,
      ack: (s.ackAt ?? end) - s.scheduled,
      ackMissing: s.ackAt === undefined,
      ackError: Boolean(s.error) || (s.ackAt !== undefined && !s.ackOk),
      answer: (arrival?.at ?? end) - s.scheduled,
      answerMissing: arrival === undefined,
      answerError: arrival !== undefined && !arrival.text.includes(o.expect(warm + k)),
    };
  });
  return {
    measured,
    from: at(warm),
    to: at(total),
    sendLagMax: Math.max(...samples.map((s) => s.sentLag)),
  };
}

/** Ack and answer latencies of these requests (all of a phase's, or those sent in some window). */
export function latencies(measured: readonly Measured[]): { ack: Latencies; answer: Latencies } {
  return {
    ack: summarise(
      measured.map((m) => ({ ms: m.ack, missing: m.ackMissing })),
      measured.filter((m) => m.ackError).length,
    ),
    answer: summarise(
      measured.map((m) => ({ ms: m.answer, missing: m.answerMissing })),
      measured.filter((m) => m.answerError).length,
    ),
  };
}

function summarise(values: Array<{ ms: number; missing: boolean }>, errors: number): Latencies {
  const sorted = [...values].sort((a, b) => a.ms - b.ms);
  const q = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
  const firstMissing = sorted.findIndex((v) => v.missing);
  return {
    count: sorted.length,
    p50: q(0.5)?.ms ?? Number.NaN,
    p99: q(0.99)?.ms ?? Number.NaN,
    max: sorted.at(-1)?.ms ?? Number.NaN,
    missing: sorted.filter((v) => v.missing).length,
    errors,
    p99LowerBound: firstMissing >= 0 && firstMissing <= Math.ceil(0.99 * sorted.length) - 1,
  };
}
