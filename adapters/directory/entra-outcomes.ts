import type { EffectOutcome } from '../../src/service/ports.js';
import type { GraphResponse } from './entra-batch.js';

/** An outcome that is not a success: what a failed step makes of its effect. */
export type Failure = Extract<EffectOutcome, { ok: false }>;

/** A step Graph accepted: its status and body. */
export interface Accepted {
  ok: true;
  status: number;
  body: unknown;
}

/** When Graph says 429 without Retry-After: its docs then ask for a backoff of the client's choosing. */
export const DEFAULT_RETRY_AFTER_MS = 10_000;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Graph's error code and the first line of its message, kept short for one log line. */
export function graphError(response: GraphResponse): { code: string; message: string } {
  const error = isObject(response.body) && isObject(response.body.error) ? response.body.error : {};
  const message = typeof error.message === 'string' ? error.message : '';
  return {
    code: typeof error.code === 'string' ? error.code : '',
    message: (message.split(/\r?\n/)[0] ?? '').slice(0, 300),
  };
}

/**
 * How long Graph asked us to wait: Retry-After in seconds (or an HTTP date), else the RateLimit-Reset
 * seconds some workloads send with their throttle headers, else a default backoff.
 */
export function retryAfterMs(headers: Readonly<Record<string, string>>, now = Date.now()): number {
  const after = headers['retry-after']?.trim();
  if (after !== undefined && after !== '') {
    if (/^\d+(\.\d+)?$/.test(after)) return Math.round(Number(after) * 1000);
    const at = Date.parse(after);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  const reset = headers['ratelimit-reset']?.trim();
  if (reset !== undefined && /^\d+$/.test(reset)) return Number(reset) * 1000;
  return DEFAULT_RETRY_AFTER_MS;
}

/** Replaces every secret (a password, a pass) that a message might echo: none reaches an error. */
export function scrub(text: string, secrets: readonly string[]): string {
  return secrets.filter((s) => s.length > 0).reduce((t, s) => t.split(s).join('[redacted]'), text);
}

/** What a step was for: the words of its error, and the permission a 403 asks for. */
export interface StepPurpose {
  /** e.g. "create the user jane.doe@nhs.net". */
  what: string;
  /** The Microsoft Graph application permission(s) the request needs. */
  needs: string;
}

/**
 * Judges one answer to one step: a 2xx, or a status the step counts as done, is accepted;
 * 429 waits for Retry-After; 5xx and no answer are retried; anything else is permanent, with
 * Graph's code and message (and, for 403, the permission to grant).
 */
export function judge(
  response: GraphResponse,
  purpose: StepPurpose,
  secrets: readonly string[],
  countsAsDone: (response: GraphResponse) => boolean = () => false,
): Accepted | Failure {
  const { status } = response;
  if ((status >= 200 && status < 300) || countsAsDone(response)) {
    return { ok: true, status, body: response.body };
  }
  const { code, message } = graphError(response);
  const said = scrub(`HTTP ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`, secrets);
  const error = (text: string) => scrub(text, secrets);
  if (status === 429) {
    return {
      ok: false,
      retryAfterMs: retryAfterMs(response.headers),
      error: error(`Microsoft Graph throttled the request to ${purpose.what} (${said}).`),
    };
  }
  if (status === 0) {
    return {
      ok: false,
      permanent: false,
      conflict: false,
      error: error(`Microsoft Graph could not be asked to ${purpose.what}: ${message || 'no answer'}.`),
    };
  }
  if (status >= 500 || status === 401) {
    return {
      ok: false,
      permanent: false,
      conflict: false,
      error: error(`Microsoft Graph could not ${purpose.what} for now (${said}).`),
    };
  }
  if (status === 403) {
    return {
      ok: false,
      permanent: true,
      conflict: false,
      error: error(
        `Microsoft Graph refused to ${purpose.what} (${said}). Grant the app registration the Microsoft Graph application permission ${purpose.needs}, with admin consent.`,
      ),
    };
  }
  return {
    ok: false,
    permanent: true,
    conflict: false,
    error: error(`Microsoft Graph refused to ${purpose.what} (${said}).`),
  };
}
