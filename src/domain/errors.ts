import type { ErrorCode, ErrorDetails } from './error-codes.js';

export { ERROR_CODES, type ErrorCode, type ErrorDetails, type ErrorDetailsByCode } from './error-codes.js';

/**
 * Expected failures are values with stable codes. `invalid` means the input was malformed
 * (exit code 2); `refused` means a rule or a permission stopped it (exit code 1).
 * Every message says what stopped the command and what to do instead.
 */
export type ErrorKind = 'invalid' | 'refused';

/**
 * The details argument for a code: required for a code that carries details, optional for one
 * whose details are all optional or that carries none. A code not known at compile time (an
 * error's own code, passed on) takes any of its codes' details.
 */
export type DetailsArg<C extends ErrorCode> =
  Record<string, never> extends ErrorDetails<C> ? [details?: ErrorDetails<C>] : [details: ErrorDetails<C>];

export class DomainError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: C,
    readonly kind: ErrorKind,
    message: string,
    /** Extra structured facts for adapters (e.g. the matching accounts of a duplicate). */
    readonly details: ErrorDetails<C>,
  ) {
    super(message);
  }

  /** Narrows the code, and with it the details' type: `if (e.is('DUPLICATE_PERSON')) e.details.matches`. */
  is<K extends ErrorCode>(code: K): this is DomainError<K> {
    return (this.code as ErrorCode) === code;
  }

  /** The error as plain data (a Reply's `error`), its details still typed by its code. */
  value(): DomainErrorValue {
    return {
      code: this.code,
      kind: this.kind,
      message: this.message,
      details: this.details,
    } as DomainErrorValue;
  }
}

/**
 * A DomainError of any one code: comparing `e.code` with a code narrows `e.details` to that
 * code's details, as a `switch (e.code)` does.
 */
export type AnyDomainError = { [K in ErrorCode]: DomainError<K> }[ErrorCode];

/** A domain error as plain data, discriminated by its code: `error.code === 'X'` types `error.details`. */
export type DomainErrorValue<C extends ErrorCode = ErrorCode> = {
  [K in C]: { code: K; kind: ErrorKind; message: string; details: ErrorDetails<K> };
}[C];

/** The details given, or none. */
const detailsOf = <C extends ErrorCode>(details: DetailsArg<C>): ErrorDetails<C> =>
  (details[0] ?? {}) as ErrorDetails<C>;

export const invalid = <C extends ErrorCode>(code: C, message: string, ...details: DetailsArg<C>) =>
  new DomainError(code, 'invalid', message, detailsOf<C>(details));

export const refused = <C extends ErrorCode>(code: C, message: string, ...details: DetailsArg<C>) =>
  new DomainError(code, 'refused', message, detailsOf<C>(details));

/** Whether `e` is a DomainError; given a code, whether it is one with that code (its details typed). */
export function isDomainError(e: unknown): e is AnyDomainError;
export function isDomainError<K extends ErrorCode>(e: unknown, code: K): e is DomainError<K>;
export function isDomainError(e: unknown, code?: ErrorCode): boolean {
  return e instanceof DomainError && (code === undefined || e.code === code);
}

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
