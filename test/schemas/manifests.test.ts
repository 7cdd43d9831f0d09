import { readFileSync } from 'node:fs';
import path from 'node:path';
import JSZip from 'jszip';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildTeamsPackage } from '../../adapters/cli/teams-package.js';
import { projectRoot } from '../support/processes.js';
import { validateSlackManifest, validateTeamsManifest } from '../support/schemas.js';

const APP_ID = '00000000-0000-4000-8000-00000000b0b1';

/** The package as `npm run manifest:teams` builds it, unzipped. */
async function teamsPackage() {
  const zip = await JSZip.loadAsync(await buildTeamsPackage(APP_ID));
  const file = async (name: string) => {
    const entry = zip.file(name);
    if (!entry) throw new Error(`${name} is not in the package`);
    return Buffer.from(await entry.async('uint8array'));
  };
  return {
    manifest: JSON.parse((await file('manifest.json')).toString('utf8')) as Record<string, unknown>,
    file,
  };
}

describe('the Teams app package against the published manifest schema (v1.19)', () => {
  it('is valid as packaged, with the app id filled in', async () => {
    const { manifest } = await teamsPackage();
    expect(manifest.manifestVersion).toBe('1.19');
    expect(validateTeamsManifest(manifest)).toEqual([]);
  });

  it('ships the icons it names, at the sizes Teams requires: colour 192×192, outline 32×32', async () => {
    // test/teams/manifest.test.ts checks that the outline is white on transparent.
    const { manifest, file } = await teamsPackage();
    const icons = manifest.icons as { color: string; outline: string };
    const color = PNG.sync.read(await file(icons.color));
    expect([color.width, color.height]).toEqual([192, 192]);
    const outline = PNG.sync.read(await file(icons.outline));
    expect([outline.width, outline.height]).toEqual([32, 32]);
  });

  it('refuses a manifest that breaks the schema', async () => {
    const { manifest } = await teamsPackage();
    expect(validateTeamsManifest({ ...manifest, manifestVersion: '1.20', colour: '#005EB8' })).toEqual([
      '(root) must NOT have the property "colour"',
      '/manifestVersion must be "1.19"',
    ]);
    const name = manifest.name as Record<string, unknown>;
    expect(validateTeamsManifest({ ...manifest, name: { ...name, short: 'N'.repeat(31) } })).toEqual([
      '/name/short must NOT have more than 30 characters',
    ]);
  });
});

describe('manifest/slack.yaml against the published Slack manifest schema', () => {
  const manifest = parse(readFileSync(path.join(projectRoot, 'manifest', 'slack.yaml'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;

  it('is valid', () => {
    expect(validateSlackManifest(manifest)).toEqual([]);
  });

  it('refuses what the schema refuses, background_color’s pattern (under `regex`) included', () => {
    const display = manifest.display_information ?? {};
    expect(
      validateSlackManifest({ ...manifest, display_information: { ...display, background_color: '#005eb' } }),
    ).toEqual([
      '/display_information/background_color must match pattern "^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$"',
    ]);
    expect(
      validateSlackManifest({ ...manifest, settings: { ...manifest.settings, socket_mode: true } }),
    ).toEqual(['/settings must NOT have the property "socket_mode"']);
    expect(
      validateSlackManifest({
        ...manifest,
        _metadata: { major_version: 2 },
        display_information: { name: '' },
      }),
    ).toEqual(['/display_information/name must NOT have fewer than 1 characters']);
  });
});
