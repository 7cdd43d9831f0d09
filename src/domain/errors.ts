/**
 * Expected failures are values with stable codes. `invalid` means the input was malformed
 * (exit code 2); `refused` means a rule or a permission stopped it (exit code 1).
 * Every message says what stopped the command and what to do instead.
 */
export type ErrorKind = 'invalid' | 'refused';

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: string,
    readonly kind: ErrorKind,
    message: string,
    /** Extra structured facts for adapters (e.g. the matching account of a duplicate). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const invalid = (code: string, message: string, details?: Record<string, unknown>) =>
  new DomainError(code, 'invalid', message, details);

export const refused = (code: string, message: string, details?: Record<string, unknown>) =>
  new DomainError(code, 'refused', message, details);

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;

/**
 * The world failed, not the input or a rule: a file could not be written, the database could not
 * be opened. Not a DomainError, since nothing the person typed was wrong: the command line answers
 * it with exit code 3 and this message (one line, saying what to check); chat answers it as any
 * failure of the bot. `code` names the underlying failure (EISDIR, ECONNREFUSED…).
 */
export class InfrastructureError extends Error {
  override readonly name: string = 'InfrastructureError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
