import { inflateSync } from 'node:zlib';

/** What a reader of the PDF sees: its page count and each piece of drawn text, in drawing order. */
export interface PdfText {
  pages: number;
  /** One entry per text-showing operator (a line, a label, a password), joined by newlines in `text`. */
  runs: string[];
  text: string;
  /** The document information dictionary (Title, Subject, Creator, …), references resolved. */
  info: Record<string, string>;
}

// Windows-1252 is Latin-1 but for 0x80-0x9F; Node 20's TextDecoder('windows-1252') drops those.
const CP1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';
const cp1252 = (bytes: Buffer): string =>
  [...bytes].map((b) => (b >= 0x80 && b <= 0x9f ? CP1252_HIGH[b - 0x80] : String.fromCharCode(b))).join('');

/**
 * Reads back the text of a PDF that pdfkit drew with the standard fonts: each content stream is
 * inflated as the file says (FlateDecode), and the strings of its Tj/TJ operators are decoded from
 * Windows-1252, the encoding pdfkit uses for those fonts. Enough for our letters; not a general
 * PDF parser (no embedded fonts, no object streams).
 */
export function pdfText(pdf: Buffer): PdfText {
  const raw = pdf.toString('latin1');
  const runs: string[] = [];
  const header = /<<((?:(?!>>)[\s\S])*?)>>\s*stream\r?\n/g;
  for (let m = header.exec(raw); m; m = header.exec(raw)) {
    const dictionary = m[1] ?? '';
    const length = Number(/\/Length (\d+)/.exec(dictionary)?.[1]);
    if (!Number.isInteger(length)) throw new Error(`a stream without a direct /Length: <<${dictionary}>>`);
    const start = m.index + m[0].length;
    const body = pdf.subarray(start, start + length);
    const content = /\/Filter\s*\/FlateDecode/.test(dictionary) ? inflateSync(body) : body;
    runs.push(...textRuns(content.toString('latin1')));
    header.lastIndex = start + length;
  }
  const pages = raw.match(/\/Type\s*\/Page\b(?!s)/g)?.length ?? 0;
  return { pages, runs, text: runs.join('\n'), info: information(raw) };
}

function information(raw: string): Record<string, string> {
  const object = (ref: string): string =>
    new RegExp(`(?:^|\\s)${ref.split(' ')[0]} 0 obj\\s*([\\s\\S]*?)\\s*endobj`).exec(raw)?.[1] ?? '';
  const info: Record<string, string> = {};
  const ref = /\/Info (\d+ 0 R)/.exec(raw)?.[1];
  if (!ref) return info;
  for (const [, key, value] of object(ref).matchAll(
    /\/(\w+)\s+(\d+ 0 R|<[0-9a-fA-F]*>|\((?:\\.|[^\\)])*\))/g,
  )) {
    if (key && value) info[key] = decodeString(value.endsWith('R') ? object(value) : value);
  }
  return info;
}

function textRuns(content: string): string[] {
  const runs: string[] = [];
  const operator =
    /\[((?:<[0-9a-fA-F]*>|\((?:\\.|[^\\)])*\)|[-\d.\s])*)\]\s*TJ|(<[0-9a-fA-F]*>|\((?:\\.|[^\\)])*\))\s*Tj/g;
  for (let m = operator.exec(content); m; m = operator.exec(content)) {
    const strings = (m[1] ?? m[2] ?? '').match(/<[0-9a-fA-F]*>|\((?:\\.|[^\\)])*\)/g) ?? [];
    runs.push(strings.map(decodeString).join(''));
  }
  return runs;
}

function decodeString(token: string): string {
  if (token.startsWith('<')) return cp1252(Buffer.from(token.slice(1, -1), 'hex'));
  const literal = token
    .slice(1, -1)
    .replace(/\\([0-7]{1,3}|.)/g, (_, e: string) =>
      /^[0-7]/.test(e)
        ? String.fromCharCode(Number.parseInt(e, 8))
        : ({ n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' }[e] ?? e),
    );
  return cp1252(Buffer.from(literal, 'latin1'));
}
