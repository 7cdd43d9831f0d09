import { pino } from 'pino';

/** Fields that must never reach a log line, whatever object they arrive in. */
export const REDACT_PATHS = [
  'password',
  'temporaryPassword',
  '*.temporaryPassword',
  'mobile',
  '*.mobile',
  'e164',
  '*.e164',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
];

export type Logger = pino.Logger;

/**
 * Structured JSON logs; the CLI sends them to stderr so that stdout stays the command's output.
 * A stream destination is for tests that read every line the bot writes.
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
    },
    typeof options.destination === 'object'
      ? options.destination
      : pino.destination(options.destination === 'stderr' ? 2 : 1),
  );
}

/** A logger that writes nothing: the default where no one reads the log (tests, one-off scripts). */
export const silentLogger = (): Logger => pino({ level: 'silent' });
