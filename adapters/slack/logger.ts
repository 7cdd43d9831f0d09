import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { Logger } from '../../src/logger.js';
import { describeError, isErrorLike } from '../../src/safe-errors.js';

/**
 * Bolt's logger interface over our pino logger, so Bolt's lines are structured and redacted too:
 * an error Bolt passes is logged as `err` (reduced as every error is), and the line's text gives
 * it in one line, never its raw message (a failed query's carries the row's values).
 */
export function boltLogger(logger: Logger): BoltLogger {
  const log = logger.child({ component: 'slack' });
  let level: LogLevel = LogLevel.INFO;
  const at =
    (method: 'debug' | 'info' | 'warn' | 'error') =>
    (...parts: unknown[]) => {
      const err = parts.find(isErrorLike);
      const text = parts.map((p) => (typeof p === 'string' ? p : describeError(p))).join(' ');
      if (err) log[method]({ err }, text);
      else log[method](text);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
