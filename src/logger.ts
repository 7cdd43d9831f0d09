import { format } from 'node:util';
import { pino } from 'pino';
import { describeError, errorFields, isErrorLike, safeText } from './safe-errors.js';

/** Fields that must never reach a log line, whatever object they arrive in. */
export const REDACT_PATHS = [
  'password',
  'temporaryPassword',
  '*.temporaryPassword',
  'temporary_password',
  '*.temporary_password',
  'mobile',
  '*.mobile',
  'phone_number',
  '*.phone_number',
  'e164',
  '*.e164',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  'headers',
  '*.headers',
  'body',
  '*.body',
  'payload',
  '*.payload',
];

export type Logger = pino.Logger;

export { maskMobiles } from './safe-errors.js';

function masked(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return safeText(value);
  // An error anywhere in the object, not only under `err`: its own enumerable fields (drizzle's
  // `params`, an HTTP client's `request`) would otherwise be written out whole.
  if (isErrorLike(value)) return errorFields(value);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  if (depth > 6) return '[…]';
  if (Array.isArray(value)) return value.map((v) => masked(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v, depth + 1)]));
}

const serializeError = (err: unknown): unknown => (isErrorLike(err) ? errorFields(err) : masked(err));

/**
 * The arguments of a log call, made safe: strings masked and stripped of query parameters, an
 * error interpolated into the message described in one line. An error logged without a message
 * (`log.error(err)`, `log.error({ err })`) gets its description: pino would otherwise take the
 * error's raw message, parameters and all.
 */
function safeArgs(args: unknown[]): unknown[] {
  const [first, ...rest] = args;
  let all = args;
  if (isErrorLike(first)) {
    all = [{ err: first }, ...(typeof rest[0] === 'string' ? rest : [describeError(first), ...rest])];
  } else if (
    typeof first === 'object' &&
    first !== null &&
    isErrorLike((first as { err?: unknown }).err) &&
    typeof rest[0] !== 'string'
  ) {
    all = [first, describeError((first as { err: unknown }).err), ...rest];
  }
  return all.map((a, i) =>
    typeof a === 'string' ? safeText(a) : i > 0 && isErrorLike(a) ? describeError(a) : a,
  );
}

/**
 * Structured JSON logs with personal data kept out: secrets, tokens, headers, request bodies and
 * notification payloads are redacted by name, errors are reduced to their message, and any UK
 * mobile number in a message or field is masked. The CLI sends logs to stderr so that stdout stays
 * the command's output; a stream destination is for tests that read every line the bot writes.
 */
export function createLogger(options: {
  level: string;
  destination?: 'stdout' | 'stderr' | pino.DestinationStream;
}): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'nhsmail-bot' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: serializeError, error: serializeError },
      formatters: { log: (object) => masked(object) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(this, safeArgs(args) as Parameters<typeof method>);
        },
      },
    },
    typeof options.destination === 'object'
      ? options.destination
      : pino.destination(options.destination === 'stderr' ? 2 : 1),
  );
}

/** A logger that writes nothing: the default where no one reads the log (tests, one-off scripts). */
export const silentLogger = (): Logger => pino({ level: 'silent' });

const CONSOLE_LEVELS = {
  log: 'info',
  info: 'info',
  dir: 'info',
  warn: 'warn',
  error: 'error',
  debug: 'debug',
  trace: 'trace',
} as const;

/**
 * Sends what libraries write to the console (botbuilder's `console.error(err)`, a stack over
 * many lines and an HTTP error's request) into the log instead: one JSON line each, tagged
 * `source: 'console'`, errors reduced and objects redacted as every other line is. For the
 * long-running process, whose output is read line by line. Returns a function that puts the
 * console back.
 */
export function routeConsoleToLogger(logger: Logger): () => void {
  const log = logger.child({ source: 'console' });
  const saved = Object.keys(CONSOLE_LEVELS).map((name) => [name, Reflect.get(console, name)] as const);
  for (const [name, level] of Object.entries(CONSOLE_LEVELS)) {
    Reflect.set(console, name, (...args: unknown[]) => {
      const err = args.find(isErrorLike);
      const text = format(...args.map((a) => (typeof a === 'string' ? a : describeError(a))));
      if (err) log[level]({ err }, text);
      else log[level](text);
    });
  }
  return () => {
    for (const [name, original] of saved) Reflect.set(console, name, original);
  };
}
