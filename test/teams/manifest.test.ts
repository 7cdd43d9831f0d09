import JSZip from 'jszip';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { buildTeamsPackage } from '../../adapters/cli/teams-package.js';

interface Manifest {
  manifestVersion: string;
  id: string;
  icons: { color: string; outline: string };
  bots: Array<{
    botId: string;
    scopes: string[];
    commandLists: Array<{ commands: Array<{ title: string }> }>;
  }>;
}

const APP_ID = '00000000-0000-4000-8000-00000000b0b1';

describe('the Teams app package (npm run manifest:teams)', () => {
  it('fills in the app id, declares the bot in every scope with its commands, and ships both icons', async () => {
    const zip = await JSZip.loadAsync(await buildTeamsPackage(APP_ID));
    expect(Object.keys(zip.files).sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    const manifest = JSON.parse((await zip.file('manifest.json')?.async('string')) ?? '{}') as Manifest;
    expect(Number(manifest.manifestVersion)).toBeGreaterThanOrEqual(1.16);
    expect(manifest.id).toBe(APP_ID);
    expect(manifest.bots[0]?.botId).toBe(APP_ID);
    expect(manifest.bots[0]?.scopes.sort()).toEqual(['groupChat', 'personal', 'team']);
    const commands = manifest.bots[0]?.commandLists[0]?.commands.map((c) => c.title) ?? [];
    expect(commands).toEqual(expect.arrayContaining(['help', 'status', 'leaver', 'joiner', 'transfer to']));
    expect(commands.length).toBeLessThanOrEqual(10);

    const color = PNG.sync.read(
      Buffer.from(await (zip.file('color.png')?.async('uint8array') ?? new Uint8Array())),
    );
    expect([color.width, color.height]).toEqual([192, 192]);
    const outline = PNG.sync.read(
      Buffer.from(await (zip.file('outline.png')?.async('uint8array') ?? new Uint8Array())),
    );
    expect([outline.width, outline.height]).toEqual([32, 32]);
    // Outline icons are white on transparent: every pixel is either fully transparent or white.
    for (let i = 0; i < outline.data.length; i += 4) {
      const [r, g, b, a] = [outline.data[i], outline.data[i + 1], outline.data[i + 2], outline.data[i + 3]];
      expect(a === 0 || (r === 255 && g === 255 && b === 255)).toBe(true);
    }
  });

  it('refuses an app id that is not a GUID', async () => {
    await expect(buildTeamsPackage('my-bot')).rejects.toThrow('not a Microsoft App ID');
  });
});
