import { pino } from 'pino';

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

/** UK mobile numbers as people type them: 07… or +44 7…, with or without spaces. */
const MOBILE = /(?:\+44\s?7|\b07)\d{3}\s?\d{3}\s?(\d{3})\b/g;

/** `07700 900123` → `07*** ***123`, wherever a number appears in a string. */
export const maskMobiles = (text: string): string =>
  text.replace(MOBILE, (_m, last: string) => `07*** ***${last}`);

function masked(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskMobiles(value);
  // Errors are left whole here: their serializer below keeps only what is safe.
  if (depth > 4 || value === null || typeof value !== 'object' || value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => masked(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v, depth + 1)]));
}

/**
 * An error as a log line shows it: what went wrong and where, never the request or response an
 * HTTP client hangs on it (those carry bearer tokens, request bodies and personal data).
 */
function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return masked(err);
  const e = err as Error & { code?: unknown; statusCode?: unknown; status?: unknown };
  return {
    type: e.name,
    message: maskMobiles(e.message),
    stack: e.stack ? maskMobiles(e.stack) : undefined,
    ...(e.code !== undefined ? { code: e.code } : {}),
    ...(e.statusCode !== undefined ? { statusCode: e.statusCode } : {}),
    ...(typeof e.status === 'number' ? { status: e.status } : {}),
  };
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
          const masks = args.map((a) => (typeof a === 'string' ? maskMobiles(a) : a));
          method.apply(this, masks as Parameters<typeof method>);
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
