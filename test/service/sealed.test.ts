import { describe, expect, it } from 'vitest';
import { Sealer } from '../../src/service/sealed.js';

describe('Sealer', () => {
  const sealer = new Sealer(Buffer.alloc(32, 7));

  it('opens what it sealed, with a fresh IV each time, across refills of its random bytes', () => {
    const sealed = Array.from({ length: 600 }, (_, i) =>
      sealer.seal(`+4477009${String(i).padStart(5, '0')}`),
    );
    expect(sealed.map((s) => sealer.open(s))).toEqual(
      Array.from({ length: 600 }, (_, i) => `+4477009${String(i).padStart(5, '0')}`),
    );
    const ivs = new Set(sealed.map((s) => s.split('.')[1]));
    expect(ivs.size).toBe(600);
    for (const s of sealed) {
      const [version, iv, tag] = s.split('.');
      expect(version).toBe('v1');
      expect(Buffer.from(iv ?? '', 'base64url')).toHaveLength(12);
      expect(Buffer.from(tag ?? '', 'base64url')).toHaveLength(16);
      expect(s).not.toContain('447700');
    }
  });

  it('refuses a value tampered with, or sealed under another key', () => {
    const sealed = sealer.seal('+447700900123');
    const [v, iv, tag, body] = sealed.split('.');
    const flipped = Buffer.from(body ?? '', 'base64url');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => sealer.open([v, iv, tag, flipped.toString('base64url')].join('.'))).toThrow();
    expect(() => new Sealer(Buffer.alloc(32, 8)).open(sealed)).toThrow();
    expect(() => sealer.open('not sealed')).toThrow('not a sealed value');
  });
});
