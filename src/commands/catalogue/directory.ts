import { describeCounts, driftCounts } from '../../domain/drift.js';
import { invalid } from '../../domain/errors.js';
import { parseAddress, parseOds } from '../../domain/validation.js';
import type { DriftReport, DriftRoundKind } from '../../service/directory-drift.js';
import type {
  DirectoryAdoption,
  DirectoryRetryResult,
  ParkedEffect,
} from '../../service/directory-effects.js';
import type { DirectoryImportReport } from '../../service/directory-import.js';
import type { DirectoryReapply } from '../../service/directory-reapply.js';
import { defineCommand, directoryOf } from '../command.js';
import { at, bool, numberOrAll, optional, str } from '../options.js';

/** Directory changes parked as failed or in conflict: listed, and the failed ones put back in the queue. */

const parkedLine = (r: ParkedEffect) =>
  `${String(r.id).padStart(6)}  ${r.createdAt}  ${r.state.padEnd(8)} ${r.kind.padEnd(11)} ${r.address}  after ${r.attempts} attempt(s): ${r.lastError ?? ''}`;

const CONFLICTS_ARE_NAS =
  'a conflict means the address is held in the directory by an account the bot did not make: retrying would meet it again. If that account is this very person, an operator or NAS adopts it with "directory retry NUMBER --adopt"; otherwise NAS must resolve it there (remove or rename the other object).';

export const directoryFailed = defineCommand({
  name: 'directory failed',
  usage: 'directory failed',
  summary: 'Directory changes that failed after their retries or met a conflict (operator only).',
  operatorOnly: {
    to: 'operator',
    refusal: 'Failed directory changes are listed for operators on the bot’s command line.',
  },
  options: {},
  positionals: [0, 0],
  parse: () => ({ name: 'directory failed' }),
  run: (l, ctx) => l.failedDirectoryEffects(ctx),
  render(rows) {
    if (rows.length === 0) return { text: 'No failed directory changes.', data: rows };
    const conflicts = rows.some((r) => r.state === 'conflict');
    return {
      text: [
        `${rows.length} directory change(s) are parked; until one is applied, its account’s later changes wait:`,
        ...rows.map(parkedLine),
        'Retry a failed one with "directory retry NUMBER" (the first column), or all with "directory retry --all".',
        ...(conflicts ? [`Conflicts are not retried: ${CONFLICTS_ARE_NAS}`] : []),
      ].join('\n'),
      data: rows,
    };
  },
});

export const directoryRetry = defineCommand({
  name: 'directory retry',
  usage: 'directory retry ID|--all [--adopt]',
  summary:
    'Put a failed directory change (its number in "directory failed"), or all of them, back in the directory queue (operator only). Conflicts are not retried; --adopt takes over the directory account holding a new account’s address, once you have checked it is this person (operator or NAS; audited).',
  options: { all: bool, adopt: bool },
  positionals: [0, 1],
  parse: (args): { name: 'directory retry'; id: number | undefined; all: boolean; adopt?: true } => {
    const target = numberOrAll(args, 'directory change', 'directory failed', 'directory retry 42');
    if (args.values.adopt !== true) return { name: 'directory retry', ...target };
    if (target.id === undefined) {
      throw invalid(
        'MISSING_ARGUMENT',
        'Adopting a directory account is decided one change at a time, after checking it is this person: name the change, e.g. directory retry 42 --adopt.',
      );
    }
    return { name: 'directory retry', ...target, adopt: true };
  },
  // Not restricted to the operator as a whole: NAS may adopt from chat. The service refuses
  // everyone but the operator a plain retry (OPERATOR_ONLY), and everyone but NAS an adoption.
  run: (l, ctx, c): Promise<DirectoryRetryResult | DirectoryAdoption> =>
    c.adopt && c.id !== undefined
      ? l.adoptDirectoryEffect(ctx, { id: c.id })
      : l.retryDirectoryEffects(ctx, c),
  render(r, { id }) {
    if ('adopted' in r) {
      const text = [
        `Requeued directory change ${id} to adopt the directory account holding ${r.adopted.address}: the directory worker marks it as the bot’s, sets a new credential (delivered as for a new account) and puts it in its organisation’s group on its next pass.`,
        parkedLine(r.adopted),
      ].join('\n');
      return { text, data: r };
    }
    const left = r.conflicts > 0 ? [`${r.conflicts} conflict(s) left parked: ${CONFLICTS_ARE_NAS}`] : [];
    if (r.requeued.length === 0) {
      return { text: ['No failed directory changes to retry.', ...left].join('\n'), data: r };
    }
    const shown = r.requeued.slice(0, 50);
    const text = [
      id === undefined
        ? `Requeued ${r.requeued.length} failed directory change(s); the directory worker applies them, and the changes they held back, on its next passes:`
        : `Requeued directory change ${id}; the directory worker applies it, and the changes it held back, on its next passes:`,
      ...shown.map(parkedLine),
      ...(r.requeued.length > shown.length ? ['  (list shortened; --json has them all)'] : []),
      ...left,
    ].join('\n');
    return { text, data: r };
  },
});

const adoptedLine = (r: DirectoryImportReport) =>
  `${r.adopted} ${r.dryRun ? 'to adopt' : 'adopted'} (${r.active} active, ${r.inactive} inactive)`;

export const directoryImport = defineCommand({
  name: 'directory import',
  usage: 'directory import [--org ODS] [--dry-run]',
  summary:
    'Adopt the directory’s existing accounts: each user placed in the organisation whose group holds it, enabled ones active, disabled ones inactive; the bot’s own addresses matched, never duplicated (operator only).',
  operatorOnly: {
    to: 'operator',
    refusal: 'The directory is imported by the operator on the bot’s command line ("directory import").',
  },
  options: { org: str, 'dry-run': bool },
  positionals: [0, 0],
  parse: ({ values }) => {
    const org = optional(values, 'org');
    return {
      name: 'directory import',
      org: org === undefined ? undefined : parseOds(org),
      dryRun: values['dry-run'] === true,
    };
  },
  run: (l, ctx, c, io) => {
    const reader = directoryOf(io);
    const progress = io.progress;
    return l.importDirectory(ctx, {
      reader,
      org: c.org,
      dryRun: c.dryRun,
      onProgress: progress ? (read, total) => progress({ rows: read, bytes: read, size: total }) : undefined,
    });
  },
  render(r) {
    const scope = r.org === null ? 'the directory' : `${r.org}’s directory group`;
    const lines = [
      `${r.dryRun ? 'Dry run (nothing changed): read' : 'Read'} ${r.users} user(s) of ${scope}: ${adoptedLine(r)}, ${r.matched} already the bot’s (matched), ${r.unplaced} in no organisation’s group, ${r.refused} refused.`,
      ...r.details.adopted.map(
        (a) => `  ${r.dryRun ? 'would adopt' : 'adopted'} ${a.address} (${a.org}, ${a.status})`,
      ),
      ...r.details.unplaced.map((u) => `  unplaced ${u.address ?? u.id}${u.name ? ` (${u.name})` : ''}`),
      ...(r.unplaced > 0
        ? [
            '  Unplaced users are adopted once their organisation’s group is known: "org group --ods ODS --group OBJECT_ID", then import again.',
          ]
        : []),
      ...r.details.refused.map((f) => `  refused ${f.address ?? f.id}: ${f.reason}`),
      ...(r.truncated ? ['  (lists shortened; --json has the first 1000 of each)'] : []),
      ...(r.deltaLinkStored ? ['The directory’s change link is kept for the drift report.'] : []),
    ];
    return { text: lines.join('\n'), data: r };
  },
});

const ROUNDS: Record<DriftRoundKind, string> = {
  full: 'a full read of the directory',
  changes: 'the directory’s changes since the last run',
  resync: 'a full read (Graph had forgotten the last run’s place)',
};

/** `directory drift`'s text: when the report was made, its counts, then a line each with what settles it. */
export function driftText(r: DriftReport): string {
  if (r.run === null) {
    return 'No drift report yet: the Graph job (GRAPH_SCHEDULE, with DIRECTORY=entra) makes one on each run, after a first "directory import".';
  }
  const scope = r.org === null ? '' : ` for ${r.org}`;
  const kinds = describeCounts(driftCounts(r.lines));
  const head = `Directory drift${scope}, as of ${r.run.at} (${ROUNDS[r.run.round]}; ${r.run.users} user(s) read): ${r.lines.length} line(s)${kinds ? ` — ${kinds}` : ''}.`;
  if (r.lines.length === 0) return `${head}\nThe directory and the bot agree.`;
  return [
    head,
    ...r.lines.map(
      (l) =>
        `  ${l.kind.padEnd(20)} ${l.address ?? l.directoryId ?? ''}${l.org ? ` (${l.org})` : ''}: ${l.detail.says}. Settle: ${l.detail.settle}`,
    ),
  ].join('\n');
}

export const directoryDrift = defineCommand({
  name: 'directory drift',
  usage: 'directory drift [--org ODS]',
  summary:
    'Where the directory and the bot disagree, from the last run of the Graph job, each line with the command that settles it (operator and NAS; a local administrator with --org of their organisation).',
  options: { org: str },
  positionals: [0, 0],
  parse: ({ values }) => {
    const org = optional(values, 'org');
    return { name: 'directory drift', org: org === undefined ? undefined : parseOds(org) };
  },
  run: (l, ctx, c) => l.driftReport(ctx, { org: c.org }),
  render: (r) => ({ text: driftText(r), data: r }),
});

export const directoryReapply = defineCommand({
  name: 'directory reapply',
  usage: 'directory reapply ADDRESS',
  summary:
    'Put the directory back in line with the bot for one account where "directory drift" found them apart: restored, enabled or blocked as its status says, the bot’s names, its home group only (a local administrator of its organisation, NAS or the operator; audited).',
  options: {},
  positionals: [1, 1],
  parse: ({ positionals }) => ({
    name: 'directory reapply',
    address: parseAddress(at(positionals, 0)),
  }),
  run: (l, ctx, c) => l.reapplyToDirectory(ctx, c),
  render(r: DirectoryReapply) {
    const text = [
      `Queued directory change ${r.effectId} to put ${r.address} back as the bot has it; the directory worker applies it on its next pass, and the next drift report drops what it settles:`,
      ...r.settles.map((s) => `  ${s.kind}: ${s.says}`),
      `If it cannot be applied it is parked: "directory failed" lists it, and "status ${r.address}" shows where it stands.`,
    ].join('\n');
    return { text, data: r };
  },
});
