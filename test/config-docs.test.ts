import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIRECTORY_PERMISSIONS } from '../adapters/directory/entra-permissions.js';
import { ENVIRONMENT_VARIABLES } from '../src/config.js';

const root = path.resolve(import.meta.dirname, '..');

/** The configuration table of the README: variable → default, as documented. */
function documented(): Map<string, string> {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'));
  const rows = [...section.matchAll(/^\|\s*`([A-Za-z_][A-Za-z0-9_]*)`\s*\|\s*([^|]*)\|/gm)];
  return new Map(rows.map((m) => [m[1] ?? '', (m[2] ?? '').trim()]));
}

function sources(...dirs: string[]): string[] {
  return dirs.flatMap((dir) =>
    readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile() && e.name.endsWith('.ts'))
      .map((e) => path.join(e.parentPath, e.name)),
  );
}

describe('every setting is documented', () => {
  it('lists every variable the configuration schema reads in the README, with its default', () => {
    const table = documented();
    const missing = ENVIRONMENT_VARIABLES.filter((name) => !table.has(name));
    expect(missing).toEqual([]);
    for (const name of ENVIRONMENT_VARIABLES) expect(table.get(name), name).not.toBe('');
  });

  it('reads no variable outside the schema, and documents none it does not read', () => {
    const read = sources('src', 'adapters', 'db').flatMap((file) =>
      [
        ...readFileSync(file, 'utf8').matchAll(
          /process\.env(?:\.([A-Za-z_]\w*)|\[['"]([A-Za-z_]\w*)['"]\])/g,
        ),
      ].map((m) => ({ file: path.relative(root, file), name: m[1] ?? m[2] ?? '' })),
    );
    expect(read.filter((r) => !ENVIRONMENT_VARIABLES.includes(r.name))).toEqual([]);
    // TEST_DATABASE_URL is the test suite's own setting.
    const stale = [...documented().keys()].filter(
      (name) => !ENVIRONMENT_VARIABLES.includes(name) && name !== 'TEST_DATABASE_URL',
    );
    expect(stale).toEqual([]);
  });
});

describe('the deploy guide', () => {
  it('lists every Graph permission DIRECTORY=entra checks at start, with what it is for', () => {
    const guide = readFileSync(path.join(root, 'docs', 'deploy.md'), 'utf8');
    const rows = new Map(
      [...guide.matchAll(/^\|\s*`([\w.-]+)`\s*\|[^|\n]*\|\s*([^|\n]*?)\s*\|$/gm)].map((m) => [m[1], m[2]]),
    );
    for (const p of DIRECTORY_PERMISSIONS) expect(rows.get(p.name), p.name).toBe(p.for);
    for (const p of DIRECTORY_PERMISSIONS)
      for (const higher of p.orHigher ?? []) expect(guide).toContain(higher);
  });
});
