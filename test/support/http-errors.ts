import { expect } from 'vitest';
import { HTTP_STATUS, type HttpErrorBody } from '../../adapters/http-error.js';
import type { ErrorCode } from '../../src/domain/errors.js';

/**
 * Asserts that `res` is an error in the one shape every HTTP endpoint of the bot answers with,
 * `{"error": {"code", "message", "details"?}}`, with its code's status; returns the error.
 */
export async function expectHttpError<C extends ErrorCode>(
  res: Response,
  code: C,
): Promise<HttpErrorBody<C>['error']> {
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status: HTTP_STATUS[code] });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(text) as HttpErrorBody<C>;
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).filter((k) => !['code', 'message', 'details'].includes(k))).toEqual([]);
  expect(body.error.code).toBe(code);
  expect(body.error.message).toMatch(/\S/);
  return body.error;
}
