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
