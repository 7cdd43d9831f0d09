// `npm run build`: compiles src/, adapters/ and db/ to JavaScript and copies the SQL migrations
// beside db/migrate.js, which applies them at every start. The container image runs exactly this
// output. `npm run build -- --out-dir DIR` builds elsewhere (test/build.test.ts does, so that it
// never rewrites dist/ under another process).
import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { 'out-dir': { type: 'string', default: 'dist' } } });
const outDir = path.resolve(root, values['out-dir']);

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir], {
  cwd: root,
  stdio: 'inherit',
});
cpSync(path.join(root, 'db/migrations'), path.join(outDir, 'db/migrations'), { recursive: true });
