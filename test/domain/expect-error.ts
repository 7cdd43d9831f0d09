import { expect } from 'vitest';
import { type DomainError, type ErrorKind, isDomainError } from '../../src/domain/errors.js';

/** Runs `fn`, which must throw a DomainError, and returns that error for further assertions. */
export function domainError(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (e) {
    if (isDomainError(e)) return e;
    throw e;
  }
  throw new Error('expected a DomainError, but nothing was thrown');
}

/** Asserts `fn` throws a DomainError of this code and kind whose message matches `message`. */
export function expectDomainError(
  fn: () => unknown,
  code: string,
  kind: ErrorKind,
  message: RegExp,
): DomainError {
  const error = domainError(fn);
  expect({ code: error.code, kind: error.kind }).toEqual({ code, kind });
  expect(error.message).toMatch(message);
  return error;
}

/** The common case: malformed input. */
export const expectInvalid = (fn: () => unknown, code: string, message: RegExp): DomainError =>
  expectDomainError(fn, code, 'invalid', message);
