import { quote } from '../../domain/quote.js';
import {
  checkHrCsv,
  type HrLayout,
  LEAVER_COLUMNS,
  readHrCsv,
  STARTER_COLUMNS,
} from '../../service/hr-feed.js';
import type { CommandIo, ParseInput, Restriction } from '../command.js';
import { defineCommand, filesOf } from '../command.js';
import { at, bool } from '../options.js';

/** Starters and leavers from HR's CSV extract, on the command line (HR systems POST them instead). */

const COMMAND_LINE: Restriction = {
  to: 'command line',
  refusal:
    'HR files are imported on the bot’s command line ("import starters FILE.csv"), or pushed by HR systems to POST /hr/starters and /hr/leavers.',
};

const hrArguments = ({ values, positionals }: ParseInput) => ({
  file: at(positionals, 0),
  dryRun: values['dry-run'] === true,
});

type HrRecords = ReturnType<typeof readHrCsv>;
type OnProgress = ((rows: number) => void) | undefined;

/**
 * Reads HR's file twice from its start: checked whole, then applied (see checkHrCsv), reporting
 * progress as it applies.
 */
function withHrRecords<T>(
  io: CommandIo,
  file: string,
  layout: HrLayout,
  apply: (records: HrRecords, onProgress: OnProgress) => Promise<T>,
): Promise<T> {
  return filesOf(io).read(file, "HR's CSV file", async (opened) => {
    const name = quote(file);
    await checkHrCsv(opened.stream(), layout, name);
    const size = await opened.size();
    const stream = opened.stream();
    const progress = io.progress;
    const onProgress = progress
      ? (rows: number) => progress({ rows, bytes: stream.bytesRead, size })
      : undefined;
    return apply(readHrCsv(stream, layout, name), onProgress);
  });
}

const rowsWord = (n: number) => `${n} row${n === 1 ? '' : 's'}`;

export const importStarters = defineCommand({
  name: 'import starters',
  usage: 'import starters FILE.csv [--dry-run]',
  summary:
    'Provision new starters from the HR extract (or schedule them before their start date); report every row (command line).',
  operatorOnly: COMMAND_LINE,
  options: { 'dry-run': bool },
  positionals: [1, 1],
  paths: { positional: 0 },
  parse: (input) => ({ name: 'import starters', ...hrArguments(input) }),
  run: (l, ctx, c, io) =>
    withHrRecords(io, c.file, STARTER_COLUMNS, (records, onProgress) =>
      l.importStarters(ctx, { records, dryRun: c.dryRun, onProgress }),
    ),
  render(r) {
    const lines = [
      `${r.dryRun ? 'Dry run (nothing changed): would import' : 'Imported'} ${rowsWord(r.rows)} of starters: ${r.created} ${r.dryRun ? 'to create' : 'created'} now, ${r.scheduled} scheduled for their provisioning day, ${r.existing} already imported, ${r.duplicates.length} already ${r.duplicates.length === 1 ? 'has' : 'have'} an account, ${r.errors.length} rejected.`,
      ...(r.dryRun ? [] : r.createdAddresses.map((a) => `  created ${a}`)),
      ...r.duplicates.map(
        (d) =>
          `  row ${d.row} (${d.employeeNumber}): already has ${d.address}; not created. Mark them as a joiner instead ("joiner ${d.address} --org ODS").`,
      ),
      ...r.errors.map((e) => `  row ${e.row}: ${e.message}`),
    ];
    return { text: lines.join('\n'), data: r };
  },
});

export const importLeavers = defineCommand({
  name: 'import leavers',
  usage: 'import leavers FILE.csv [--dry-run]',
  summary: 'Mark leavers from the HR extract, now or on their leaving date; report every row (command line).',
  operatorOnly: COMMAND_LINE,
  options: { 'dry-run': bool },
  positionals: [1, 1],
  paths: { positional: 0 },
  parse: (input) => ({ name: 'import leavers', ...hrArguments(input) }),
  run: (l, ctx, c, io) =>
    withHrRecords(io, c.file, LEAVER_COLUMNS, (records, onProgress) =>
      l.importLeavers(ctx, { records, dryRun: c.dryRun, onProgress }),
    ),
  render(r) {
    const lines = [
      `${r.dryRun ? 'Dry run (nothing changed): would import' : 'Imported'} ${rowsWord(r.rows)} of leavers: ${r.marked} marked as leavers now, ${r.scheduled} scheduled for their leaving date, ${r.existing} already done, ${r.errors.length} rejected.`,
      ...r.errors.map((e) => `  row ${e.row}: ${e.message}`),
    ];
    return { text: lines.join('\n'), data: r };
  },
});
