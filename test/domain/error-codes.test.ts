import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { HTTP_STATUS, httpError } from '../../adapters/http-error.js';
import { ERROR_CODES_DOC, errorCodesDoc } from '../../scripts/error-codes-doc.js';
import type { DuplicateMatch } from '../../src/domain/duplicates.js';
import { ERROR_CODE_LIST, ERROR_CODES, type ErrorCode } from '../../src/domain/error-codes.js';
import {
  type AnyDomainError,
  type DomainError,
  type DomainErrorValue,
  invalid,
  isDomainError,
  refused,
} from '../../src/domain/errors.js';

const root = path.resolve(import.meta.dirname, '..', '..');
/** Where the catalogue and the status table are declared: they name every code, so they prove no use. */
const DECLARING = new Set(['src/domain/error-codes.ts', 'adapters/http-error.ts']);

const sources = (...dirs: string[]) =>
  dirs.flatMap((dir) =>
    readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile() && e.name.endsWith('.ts'))
      .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
      .filter((file) => !DECLARING.has(file))
      .map((file) => ({ file, text: readFileSync(path.join(root, file), 'utf8') })),
  );

/**
 * The codes a source raises or compares: `refused('X'`, `invalid('X'` (the code may be on the
 * next line), `httpError('X'`, `code: 'X'`, `code === 'X'`, `isDomainError(e, 'X')`,
 * `errorResponse(400, 'X'`, `? 'X' : 'Y'` beside `satisfies ErrorCode`.
 */
const USES = [
  /\b(?:refused|invalid|httpError)\(\s*'([A-Z][A-Z0-9_]+)'/g,
  /\bcode(?:\?)?\s*(?:===|!==|:)\s*'([A-Z][A-Z0-9_]+)'/g,
  /\b(?:isDomainError\(\s*\w+|\.is|errorResponse\(\s*\d+)\s*,?\s*\(?\s*'([A-Z][A-Z0-9_]+)'/g,
  /'([A-Z][A-Z0-9_]+)'\s*(?::\s*'([A-Z][A-Z0-9_]+)')?\)\s*satisfies ErrorCode/g,
];

/** Node's system error codes (ENOENT, ECONNREFUSED…), compared as `e.code` too: not the bot's. */
const SYSTEM_CODE = /^E[A-Z0-9]+$/;

function usedCodes(): Array<{ file: string; code: string }> {
  return sources('src', 'adapters').flatMap(({ file, text }) =>
    USES.flatMap((re) =>
      [...text.matchAll(re)].flatMap((m) =>
        m
          .slice(1)
          .filter((c): c is string => c !== undefined && !SYSTEM_CODE.test(c))
          .map((code) => ({ file, code })),
      ),
    ),
  );
}

describe('the catalogue of error codes', () => {
  it('lists every code the sources raise or compare', () => {
    const used = usedCodes();
    expect(used.length).toBeGreaterThan(150);
    expect(used.filter(({ code }) => !(code in ERROR_CODES))).toEqual([]);
  });

  it('has no dead codes: each is used somewhere outside the catalogue', () => {
    const used = new Set(usedCodes().map(({ code }) => code));
    expect(ERROR_CODE_LIST.filter((code) => !used.has(code))).toEqual([]);
  });

  it('says in one line when each code happens', () => {
    for (const code of ERROR_CODE_LIST) {
      const when = ERROR_CODES[code];
      expect(when.trim(), code).not.toBe('');
      expect(when, code).not.toMatch(/\n/);
      expect(when, code).toMatch(/^[A-Z"].*\.$/);
      expect(when.length, code).toBeLessThanOrEqual(120);
    }
  });

  it('is published in docs/errors.md, as generated (npm run docs:errors)', () => {
    expect(readFileSync(ERROR_CODES_DOC, 'utf8')).toBe(errorCodesDoc());
    expect(readFileSync(path.join(root, 'README.md'), 'utf8')).toContain('(docs/errors.md)');
  });

  it('answers a domain error over HTTP as its kind did: malformed 400, refused 403', () => {
    // Each code is raised with one kind only; a body over the limit is the one that says 413.
    const kinds = new Map<string, Set<string>>();
    for (const { text } of sources('src', 'adapters')) {
      for (const m of text.matchAll(/\b(refused|invalid)\(\s*'([A-Z][A-Z0-9_]+)'/g)) {
        const [, kind = '', code = ''] = m;
        kinds.set(code, (kinds.get(code) ?? new Set()).add(kind));
      }
    }
    for (const [code, kind] of kinds) {
      expect([...kind], code).toHaveLength(1);
      const expected = code === 'BODY_TOO_LARGE' ? 413 : kind.has('invalid') ? 400 : 403;
      expect(HTTP_STATUS[code as ErrorCode], code).toBe(expected);
    }
  });
});

describe('codes and details are types', () => {
  it('types the details by the code, and narrows them by comparing the code', () => {
    const matches = [{ address: 'jane.doe@nhs.net', reasons: ['mobile' as const] }];
    const e: unknown = refused('DUPLICATE_PERSON', 'This person may already have an account.', { matches });
    expect(isDomainError(e, 'DUPLICATE_PERSON') && e.details.matches).toEqual(matches);
    if (!isDomainError(e)) throw new Error('not a DomainError');
    expectTypeOf(e).toEqualTypeOf<AnyDomainError>();
    if (e.code === 'DUPLICATE_PERSON')
      expectTypeOf(e.details.matches[0]?.address).toEqualTypeOf<string | undefined>();
    const value = e.value();
    if (value.code === 'DUPLICATE_PERSON')
      expectTypeOf(value.details).toEqualTypeOf<{ matches: DuplicateMatch[] }>();
    expectTypeOf(invalid('INVALID_DATE', 'x')).toEqualTypeOf<DomainError<'INVALID_DATE'>>();
    expectTypeOf(value).toEqualTypeOf<DomainErrorValue>();
    expect(httpError('INVALID_EVENTS', 'bad rows', { rows: [1] })).toEqual({
      error: { code: 'INVALID_EVENTS', message: 'bad rows', details: { rows: [1] } },
    });
    expect(httpError('NOT_FOUND', 'Nothing is served at /x.')).toEqual({
      error: { code: 'NOT_FOUND', message: 'Nothing is served at /x.' },
    });
  });

  it('refuses an unknown code, and wrong or missing details, at compile time', () => {
    const compileOnly = () => {
      // @ts-expect-error not a code in the catalogue
      refused('NO_SUCH_CODE', 'x');
      // @ts-expect-error DUPLICATE_PERSON carries its matches
      refused('DUPLICATE_PERSON', 'x');
      // @ts-expect-error matches are {address, reasons}, not addresses
      refused('DUPLICATE_PERSON', 'x', { matches: ['jane.doe@nhs.net'] });
      // @ts-expect-error a renamed key fails
      refused('DUPLICATE_PERSON', 'x', { match: [] });
      // @ts-expect-error a code without details takes none
      invalid('INVALID_DATE', 'x', { date: '2026-02-30' });
      // @ts-expect-error an HTTP error's code is a catalogue code too
      httpError('not found', 'x');
      // @ts-expect-error the status table is exhaustive, and only has catalogue codes
      void HTTP_STATUS.NO_SUCH_CODE;
    };
    expect(compileOnly).toBeTypeOf('function');
  });
});
