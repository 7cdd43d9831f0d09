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

/**
 * Layers point one way: domain ← db ← service ← commands ← adapters, with the jobs (driven by the
 * clock, as adapters are by people) beside commands, and the cross-cutting src/*.ts (config, the
 * logger, safe errors) usable by all but depending on domain and db only. Each layer may import
 * only the layers listed for it; an import pointing back up fails here with the file and spec.
 */
type Layer = 'domain' | 'db' | 'shared' | 'service' | 'commands' | 'jobs' | 'adapters';

const MAY_IMPORT: Record<Layer, readonly Layer[]> = {
  domain: ['domain'],
  db: ['db', 'domain'],
  shared: ['shared', 'db', 'domain'],
  service: ['service', 'db', 'domain', 'shared'],
  commands: ['commands', 'service', 'domain', 'shared'],
  jobs: ['jobs', 'service', 'db', 'domain', 'shared'],
  adapters: ['adapters', 'commands', 'jobs', 'service', 'db', 'domain', 'shared'],
};

/** The layer a repository path belongs to; null for what is outside the layers (tests, scripts). */
function layerOf(relative: string): Layer | null {
  const p = relative.split(path.sep).join('/');
  if (p.startsWith('src/domain/')) return 'domain';
  if (p.startsWith('src/service/')) return 'service';
  if (p.startsWith('src/commands/')) return 'commands';
  if (p.startsWith('src/jobs/')) return 'jobs';
  if (p.startsWith('src/')) return 'shared';
  if (p.startsWith('db/')) return 'db';
  if (p.startsWith('adapters/')) return 'adapters';
  return null;
}

/** Every relative import of every file of a layer that points somewhere the layer may not go. */
function backPointing(files: readonly string[], read: (file: string) => string): string[] {
  return files.flatMap((file) => {
    const from = layerOf(path.relative(root, file));
    if (!from) return [];
    return [...read(file).matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)].flatMap((m) => {
      const spec = m[1] ?? '';
      const to = layerOf(path.relative(root, path.resolve(path.dirname(file), spec)));
      return to && !MAY_IMPORT[from].includes(to)
        ? [`${path.relative(root, file)} (${from}) imports ${spec} (${to})`]
        : [];
    });
  });
}

describe('layers point one way', () => {
  const everything = [...sources('src'), ...sources('db'), ...sources('adapters')];
  const read = (file: string) => readFileSync(file, 'utf8');

  it.each(Object.keys(MAY_IMPORT) as Layer[])('%s imports only the layers beneath it', (layer) => {
    const files = everything.filter((file) => layerOf(path.relative(root, file)) === layer);
    expect(files.length).toBeGreaterThan(0);
    expect(backPointing(files, read)).toEqual([]);
  });

  it('catches an import that points back up (db → service, service → jobs, domain → db)', () => {
    const planted: Record<string, string> = {
      [path.join(root, 'db/schema.ts')]: "import { PLATFORMS } from '../src/service/context.js';",
      [path.join(root, 'src/service/lifecycle.ts')]: "import type { X } from '../jobs/delivery.js';",
      [path.join(root, 'src/domain/status.ts')]: "import { accounts } from '../../db/schema.js';",
      [path.join(root, 'src/commands/render.ts')]: "import { x } from '../../adapters/uri.js';",
    };
    expect(backPointing(Object.keys(planted), (file) => planted[file] ?? '')).toEqual([
      'db/schema.ts (db) imports ../src/service/context.js (service)',
      'src/service/lifecycle.ts (service) imports ../jobs/delivery.js (jobs)',
      'src/domain/status.ts (domain) imports ../../db/schema.js (db)',
      'src/commands/render.ts (commands) imports ../../adapters/uri.js (adapters)',
    ]);
  });
});
