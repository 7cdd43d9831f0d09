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

/** Structured JSON logs; the CLI sends them to stderr so that stdout stays the command's output. */
export function createLogger(options: { level: string; destination?: 'stdout' | 'stderr' }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'nhsmail-bot' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    pino.destination(options.destination === 'stderr' ? 2 : 1),
  );
}
