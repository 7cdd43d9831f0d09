import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { parseActivityReport, readActivityReport } from '../../src/service/activity-import.js';
import { NotPlainCsv, plainCsvRecords } from '../../src/service/plain-csv.js';

async function plain(text: string, chunk = 7): Promise<string[][]> {
  const chunks = [];
  for (let i = 0; i < text.length; i += chunk) chunks.push(Buffer.from(text.slice(i, i + chunk)));
  const out: string[][] = [];
  for await (const records of plainCsvRecords(chunks)) out.push(...records);
  return out;
}

const csvParse = (text: string) =>
  parse(text, { skip_empty_lines: true, trim: true, bom: true }) as string[][];

describe('the plain-CSV reader (issue 17)', () => {
  it('reads what csv-parse reads: quotes, doubled quotes, commas and line breaks in quotes, CRLF, a BOM, blank lines', async () => {
    for (const text of [
      'a,b,c\nx, y ,z\n',
      '\ufeffEmail Address,Last Logon Time\r\njane@nhs.net,20/11/2026 08:15\r\n\r\nsam@nhs.net,Never',
      '"Display Name","Email Address"\r\n"Doe, Jane ""JD""",jane@nhs.net\r\n"two\r\nlines",sam@nhs.net\r\n',
      'a,b\n,\n"",x\n',
    ]) {
      for (const chunk of [1, 3, 1000]) expect(await plain(text, chunk)).toEqual(csvParse(text));
    }
  });

  it('gives up on what it does not read exactly as csv-parse would', async () => {
    for (const text of [
      'a,b\n"never closed,x\n',
      'a,b\nx"y,z\n',
      'a,b\n "x",y\n',
      'a,b\n"x" ,y\n',
      'a,b\rc,d\r',
      'a,b\r\nc,d\ne,f\n',
      'a,b\nc\n',
      'a,b\n   \nc,d\n',
    ]) {
      await expect(plain(text)).rejects.toBeInstanceOf(NotPlainCsv);
    }
  });

  it('hands what it gives up on to csv-parse: the same report or the same refusal as before', async () => {
    const odd = 'Email Address,Last Logon Time\na@nhs.net, "20/11/2026 08:15"\n';
    await expect(readActivityReport(() => [odd])).resolves.toEqual(parseActivityReport(odd));
    const broken = 'Email Address,Last Logon Time\na@nhs.net,"20/11/2026\n';
    await expect(readActivityReport(() => [broken], '"r.csv"')).rejects.toThrow(
      /^"r\.csv" is not readable CSV: Quote Not Closed/,
    );
  });
});
