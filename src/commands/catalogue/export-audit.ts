import { invalid } from '../../domain/errors.js';
import { BOT_YEARS, parseDate } from '../../domain/validation.js';
import { writeAuditCsv } from '../audit-csv.js';
import { defineCommand, filesOf } from '../command.js';
import { optional, required, str } from '../options.js';

export const exportAudit = defineCommand({
  name: 'export audit',
  usage: 'export audit --from YYYY-MM-DD --to YYYY-MM-DD [--out FILE]',
  summary:
    'Every audit entry of those days (London time, --to included), oldest first, as CSV: evidence for the DSPT (operator only).',
  operatorOnly: {
    to: 'operator',
    refusal: 'The audit trail is exported by the operator on the bot’s command line.',
  },
  options: { from: str, to: str, out: str },
  positionals: [0, 0],
  paths: { options: ['out'] },
  parse({ values, usage }) {
    const from = parseDate(required(values, 'from', usage), '--from date', BOT_YEARS);
    const to = parseDate(required(values, 'to', usage), '--to date', BOT_YEARS);
    if (from > to) {
      throw invalid(
        'INVALID_RANGE',
        `--from ${from} is after --to ${to}. Give the first day, then the last (both are included).`,
      );
    }
    const out = optional(values, 'out');
    if (out !== undefined && out.trim() === '') {
      throw invalid('MISSING_OPTION', `--out needs a file name. Usage: ${usage}`);
    }
    return { name: 'export audit', from, to, out };
  },
  async run(l, ctx, c, io) {
    const exported = await l.exportAudit(ctx, { from: c.from, to: c.to });
    if (c.out !== undefined) {
      const written = await filesOf(io).write(c.out, (out) => writeAuditCsv(exported, out, { end: true }));
      return { exported, rows: written.result, file: written.path };
    }
    if (!io.output) {
      throw invalid('OUT_REQUIRED', 'Say which file the CSV goes to: add --out FILE.');
    }
    return { exported, rows: await writeAuditCsv(exported, io.output), file: null };
  },
  render({ exported: e, rows, file }) {
    const data = { from: e.from, to: e.to, since: e.since, until: e.until, rows, file };
    return {
      text: `Wrote ${rows} audit ${rows === 1 ? 'entry' : 'entries'} of ${e.from} to ${e.to} (London days: ${e.since} to ${e.until}) to ${file ?? 'the output'}.`,
      data,
      // Without --out the CSV itself went to the caller's output: nothing more is printed.
      ...(file === null ? { streamed: true } : {}),
    };
  },
});
