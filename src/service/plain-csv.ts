/**
 * A fast reader for plain CSV, the common case of a large report: fields separated by commas,
 * optionally in double quotes (`""` inside them for a quote, line breaks allowed), lines ending in
 * LF or CRLF. csv-parse reads every character through its state machine, which made reading a
 * million-row weekly mailbox report cost more than writing it (issue 17). This reader splits a
 * line without quotes on its commas and reads quoted fields only where a line has a quote.
 *
 * It gives exactly what csv-parse gives with `bom`, `trim` and `skip_empty_lines`, or gives up:
 * anything it does not handle the same way for certain (a quote inside a field, a space outside
 * quotes, a line that is only spaces, a lone CR, mixed line ends, records of different lengths, a
 * quote never closed) throws `NotPlainCsv`, and the caller reads the file again with csv-parse,
 * which then either reads it or says precisely what is wrong, as before.
 */
import { StringDecoder } from 'node:string_decoder';

export class NotPlainCsv extends Error {}

/** Spaces and tabs are all it trims; csv-parse trims more, so any other blank gives up. */
function trimField(field: string): string {
  const trimmed = field.trim();
  if (trimmed.length !== field.length && !/^[ \t]*$/.test(field.replace(trimmed, ''))) {
    throw new NotPlainCsv('a field with blanks other than spaces around it');
  }
  return trimmed;
}

/** Records of the text `source` carries, in arrays (one per chunk read), as csv-parse would. */
export async function* plainCsvRecords(
  source: AsyncIterable<string | Buffer> | Iterable<string | Buffer>,
): AsyncGenerator<string[][]> {
  const decoder = new StringDecoder('utf8');
  let text = '';
  let first = true;
  let width = -1;
  let crlf: boolean | null = null;

  const lineEnd = (isCrlf: boolean) => {
    if (crlf === null) crlf = isCrlf;
    else if (crlf !== isCrlf) throw new NotPlainCsv('mixed line ends');
  };
  const emit = (out: string[][], record: string[]) => {
    if (width === -1) width = record.length;
    else if (record.length !== width) throw new NotPlainCsv('records of different lengths');
    out.push(record);
  };

  /** Reads the records that are complete in `text`; answers where the unread rest starts. */
  const read = (out: string[][], final: boolean): number => {
    let pos = 0;
    const n = text.length;
    while (pos < n) {
      const nl = text.indexOf('\n', pos);
      if (nl === -1 && !final) return pos;
      const end = nl === -1 ? n : nl;
      let line = text.slice(pos, end);
      if (line.indexOf('"') === -1) {
        if (nl !== -1) {
          const isCrlf = line.endsWith('\r');
          if (isCrlf) line = line.slice(0, -1);
          lineEnd(isCrlf);
        }
        if (line.indexOf('\r') !== -1) throw new NotPlainCsv('a lone CR');
        pos = nl === -1 ? n : nl + 1;
        if (line === '') continue;
        if (line.trim() === '') throw new NotPlainCsv('a line of blanks');
        emit(out, line.split(',').map(trimField));
        continue;
      }
      // A line with a quote: read field by field; a quoted field may run over line breaks.
      const record: string[] = [];
      let i = pos;
      for (;;) {
        if (text[i] === '"') {
          let value = '';
          let j = i + 1;
          for (;;) {
            const q = text.indexOf('"', j);
            if (q === -1) {
              if (final) throw new NotPlainCsv('a quote never closed');
              return pos;
            }
            if (q + 1 >= n && !final) return pos;
            value += text.slice(j, q);
            if (text[q + 1] === '"') {
              value += '"';
              j = q + 2;
              continue;
            }
            i = q + 1;
            break;
          }
          record.push(value);
        } else {
          let j = i;
          while (j < n && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') j++;
          const raw = text.slice(i, j);
          if (raw.indexOf('"') !== -1) throw new NotPlainCsv('a quote inside a field');
          record.push(trimField(raw));
          i = j;
        }
        if (i >= n) {
          if (!final) return pos;
          pos = n;
          break;
        }
        const c = text[i];
        if (c === ',') {
          i++;
          continue;
        }
        if (c === '\n') {
          lineEnd(false);
          pos = i + 1;
          break;
        }
        if (c === '\r') {
          if (i + 1 >= n && !final) return pos;
          if (text[i + 1] !== '\n') throw new NotPlainCsv('a lone CR');
          lineEnd(true);
          pos = i + 2;
          break;
        }
        throw new NotPlainCsv('something after a closing quote');
      }
      emit(out, record);
    }
    return pos;
  };

  for await (const chunk of source) {
    text += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const out: string[][] = [];
    const rest = read(out, false);
    text = text.slice(rest);
    if (out.length > 0) yield out;
  }
  text += decoder.end();
  if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const out: string[][] = [];
  read(out, true);
  if (out.length > 0) yield out;
}
