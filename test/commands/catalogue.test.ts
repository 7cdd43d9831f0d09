import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/grammar.js';

const root = path.resolve(import.meta.dirname, '../..');

/** The README's list of commands: the code block under "### Commands". */
async function readmeCommands(): Promise<string[]> {
  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  const block = readme.split('### Commands')[1]?.split('```')[1] ?? '';
  return block.split('\n').filter((line) => line.trim() !== '');
}

describe('the command catalogue', () => {
  it('is what the README lists: every usage, and no command the bot does not have', async () => {
    const lines = await readmeCommands();
    const listed = (usage: string) => lines.some((l) => l === usage || l.startsWith(`${usage} `));
    expect(COMMANDS.filter((c) => !listed(c.usage)).map((c) => c.usage)).toEqual([]);
    const known = (line: string) => COMMANDS.some((c) => line === c.usage || line.startsWith(`${c.usage} `));
    expect(lines.filter((line) => !known(line))).toEqual([]);
    expect(lines).toHaveLength(COMMANDS.length);
  });

  it('names each command once', () => {
    const names = COMMANDS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('opens no file itself: the callers that name files open them (CommandIo.files)', async () => {
    const dir = path.join(root, 'src/commands');
    const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.ts'));
    const opening = [];
    for (const file of files) {
      const source = await readFile(path.join(dir, file), 'utf8');
      if (/from 'node:fs(\/promises)?'/.test(source)) opening.push(file);
    }
    expect(files.length).toBeGreaterThan(10);
    expect(opening).toEqual([]);
  });
});
