import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

const importsOf = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map(
    (m) => m[1] ?? '',
  );

describe('one core, thin adapters', () => {
  it('src/ never imports a chat platform SDK (@slack/*, botbuilder, botframework-*) or an adapter', () => {
    const offending = sources('src').flatMap((file) =>
      importsOf(file)
        .filter((spec) => /^(@slack\/|botbuilder|botframework-)/.test(spec) || /(^|\/)adapters\//.test(spec))
        .map((spec) => `${path.relative(root, file)} imports ${spec}`),
    );
    expect(offending).toEqual([]);
  });

  it('src/domain/ does no I/O: no database, file, network or process imports', () => {
    const offending = sources('src/domain').flatMap((file) =>
      importsOf(file)
        .filter((spec) => /^(node:|drizzle|postgres|@electric-sql|pino)/.test(spec) || spec.includes('/db/'))
        .map((spec) => `${path.relative(root, file)} imports ${spec}`),
    );
    expect(offending).toEqual([]);
  });
});
