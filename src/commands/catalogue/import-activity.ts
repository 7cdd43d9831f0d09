import { quote } from '../../domain/quote.js';
import { readActivityReport } from '../../service/activity-import.js';
import { defineCommand, filesOf } from '../command.js';
import { at } from '../options.js';

export const importActivity = defineCommand({
  name: 'import activity',
  usage: 'import activity FILE.csv',
  summary:
    'Record logins and sent mail from NHSmail’s weekly mailbox report; list what disagrees (operator only).',
  operatorOnly: {
    to: 'operator',
    refusal: 'Activity reports are imported by the operator on the bot’s command line.',
  },
  options: {},
  positionals: [1, 1],
  paths: { positional: 0 },
  parse: ({ positionals }) => ({ name: 'import activity', file: at(positionals, 0) }),
  async run(l, ctx, c, io) {
    const parsed = await filesOf(io).read(c.file, "the report's CSV file", (file) =>
      readActivityReport(() => file.stream(), quote(c.file)),
    );
    return l.recordObservedActivity({ ...ctx, platform: 'import' }, parsed);
  },
  render(r) {
    const lines = [
      `Read ${r.rows} rows: activity recorded for ${r.recorded}, already up to date ${r.unchanged}, unknown addresses ${r.unknown.length}, unreadable rows ${r.invalid.length}, disagreements ${r.disagreements.length}${r.failed.length > 0 ? `, not recorded (write failed) ${r.failed.length}` : ''}.`,
      ...r.invalid.slice(0, 50).map((i) => `  row ${i.row}: ${i.problem}`),
      ...r.failed.slice(0, 50).map((f) => `  not recorded: ${f.address}: ${f.problem}`),
      ...r.unknown.slice(0, 50).map((a) => `  unknown: ${a}`),
      ...r.disagreements
        .slice(0, 200)
        .map((d) => `  ${d.address} (${d.status}), active ${d.at.slice(0, 10)}: ${d.note}`),
    ];
    if (
      r.unknown.length > 50 ||
      r.invalid.length > 50 ||
      r.failed.length > 50 ||
      r.disagreements.length > 200
    )
      lines.push('  (lists shortened; --json has them all)');
    return { text: lines.join('\n'), data: r };
  },
});
