/**
 * Builds the Teams app package: `npm run manifest:teams -- --app-id GUID [--out FILE]`.
 * Fills the bot's Microsoft App ID into manifest/teams/manifest.json, draws the colour (192×192)
 * and outline (32×32) icons, and zips the three into the package that Teams admin centre uploads.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import JSZip from 'jszip';
import { PNG } from 'pngjs';
import { isEntrypoint } from '../entrypoint.js';

const here = path.resolve(import.meta.dirname, '../../manifest/teams');
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Paint = (x: number, y: number, size: number) => [number, number, number, number];

function icon(size: number, paint: Paint): Buffer {
  const png = new PNG({ width: size, height: size });
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = paint(x, y, size);
      const i = (y * size + x) * 4;
      png.data[i] = r;
      png.data[i + 1] = g;
      png.data[i + 2] = b;
      png.data[i + 3] = a;
    }
  }
  return PNG.sync.write(png);
}

/** An envelope: a rectangle with its flap's two diagonals, at 20%–80% of the square. */
function onEnvelope(x: number, y: number, size: number, stroke: number): boolean {
  const [left, right, top, bottom] = [size * 0.2, size * 0.8, size * 0.3, size * 0.7];
  if (x < left || x > right || y < top || y > bottom) return false;
  const edge = x - left < stroke || right - x < stroke || y - top < stroke || bottom - y < stroke;
  const mid = (left + right) / 2;
  const flapY = top + ((bottom - top) / 2) * (1 - Math.abs(x - mid) / (mid - left));
  return edge || Math.abs(y - flapY) < stroke;
}

/** Full-colour icon: a white envelope on NHS blue. */
export const colorIcon = () =>
  icon(192, (x, y, s) => (onEnvelope(x, y, s, 6) ? [255, 255, 255, 255] : [0, 94, 184, 255]));

/** Outline icon: the white envelope on transparent, as Teams requires. */
export const outlineIcon = () =>
  icon(32, (x, y, s) => (onEnvelope(x, y, s, 1.5) ? [255, 255, 255, 255] : [0, 0, 0, 0]));

export async function buildTeamsPackage(appId: string): Promise<Buffer> {
  if (!GUID.test(appId))
    throw new Error(
      `"${appId}" is not a Microsoft App ID (a GUID such as 00000000-0000-0000-0000-000000000000).`,
    );
  const manifest = readFileSync(path.join(here, 'manifest.json'), 'utf8').replaceAll(
    '{{MICROSOFT_APP_ID}}',
    appId,
  );
  const zip = new JSZip();
  zip.file('manifest.json', manifest);
  zip.file('color.png', colorIcon());
  zip.file('outline.png', outlineIcon());
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'app-id': { type: 'string' }, out: { type: 'string' } } });
  const appId = values['app-id'] ?? process.env.MicrosoftAppId ?? '';
  const out = path.resolve(values.out ?? 'dist/nhsmail-teams.zip');
  const zip = await buildTeamsPackage(appId);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, zip);
  process.stdout.write(
    `Wrote ${out} (${zip.length} bytes). Upload it in Teams: Apps → Manage your apps → Upload an app.\n`,
  );
}

if (isEntrypoint(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  });
}
