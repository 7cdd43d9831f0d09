import path from 'node:path';
import { invalid } from '../../domain/errors.js';
import { ODS_FILE_KINDS, ORG_KINDS, type OrgKind } from '../../domain/organisation.js';
import { parseOrgKind } from '../../domain/validation.js';
import { defineCommand, filesOf } from '../command.js';
import { at, bool, optional, str } from '../options.js';

export const importOrgs = defineCommand({
  name: 'import orgs',
  usage: `import orgs FILE.csv [--kind ${ORG_KINDS.join('|')}] [--dry-run]`,
  summary:
    'Add organisations from an NHS ODS extract (etr.csv, epraccur.csv…) and update their names; closed ones are reported, nothing is deleted (operator only).',
  operatorOnly: {
    to: 'operator',
    refusal: 'Organisation data is imported by the operator on the bot’s command line.',
  },
  options: { kind: str, 'dry-run': bool },
  positionals: [1, 1],
  paths: { positional: 0 },
  parse({ values, positionals, usage }) {
    const file = at(positionals, 0);
    const kind = optional(values, 'kind');
    const byName = ODS_FILE_KINDS[(file.split(/[\\/]/).pop() ?? '').toLowerCase().replace(/\.csv$/, '')];
    if (kind === undefined && byName === undefined) {
      throw invalid(
        'MISSING_OPTION',
        `--kind is required: an ODS file does not say what kind of organisation it lists (only ${Object.keys(
          ODS_FILE_KINDS,
        )
          .map((n) => `${n}.csv`)
          .join(', ')} are known by name). Usage: ${usage}`,
      );
    }
    return {
      name: 'import orgs',
      file,
      kind: kind === undefined ? (byName as OrgKind) : parseOrgKind(kind),
      dryRun: values['dry-run'] === true,
    };
  },
  run: (l, ctx, c, io) =>
    filesOf(io).read(c.file, 'the ODS extract', (opened) =>
      l.importOrganisations(
        { ...ctx, platform: 'import' },
        { source: opened.stream(), kind: c.kind, dryRun: c.dryRun, file: path.basename(c.file) },
      ),
    ),
  render(r) {
    const would = (done: string, maybe: string) => (r.dryRun ? maybe : done);
    const d = r.details;
    const lines = [
      `${r.dryRun ? 'Dry run, nothing was changed. ' : ''}Read ${r.rows} ${r.kind} row(s): ${would('added', 'would add')} ${r.added}, ${would('renamed', 'would rename')} ${r.updated}, unchanged ${r.unchanged}, closed ${r.closed}, rejected ${r.rejected}.`,
      ...d.renamed.slice(0, 50).map((x) => `  row ${x.row}: ${x.ods} "${x.from}" → "${x.to}"`),
      ...d.closed
        .slice(0, 50)
        .map(
          (x) =>
            `  row ${x.row}: ${x.ods} ${x.name} closed on ${x.closedOn}: ${x.registered ? 'registered with the bot, left as it is (see its accounts)' : 'not added'}`,
        ),
      ...d.rejected.slice(0, 50).map((x) => `  row ${x.row}: rejected: ${x.problem}`),
      ...(r.notRegistered > 0
        ? [
            `  ${r.notRegistered} ${r.kind} site(s) in the file are not registered with the bot and were not added: NAS registers community sites with "site register" (DSPT check, shared mailbox, owner).`,
          ]
        : []),
    ];
    if (r.truncated || d.renamed.length > 50 || d.closed.length > 50 || d.rejected.length > 50) {
      lines.push('  (lists shortened; --json has more)');
    }
    return { text: lines.join('\n'), data: r };
  },
});
