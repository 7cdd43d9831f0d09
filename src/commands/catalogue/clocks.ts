import { LAPSES } from '../../domain/lapses.js';
import { parseAddress } from '../../domain/validation.js';
import { defineCommand } from '../command.js';
import { at, bool } from '../options.js';
import { day } from '../render.js';

/** Applying the clocks (the sweep), and reminding holders before a clock runs out. */

export const sweep = defineCommand({
  name: 'sweep',
  usage: 'sweep [--dry-run]',
  summary: 'Apply the clocks now: grace, inactivity, retention, restore; queue due warnings (operator only).',
  operatorOnly: {
    to: 'operator',
    refusal: 'Only the operator and the scheduler run sweeps ("sweep" on the operator CLI).',
  },
  options: { 'dry-run': bool },
  positionals: [0, 0],
  parse: ({ values }) => ({ name: 'sweep', dryRun: values['dry-run'] === true }),
  run: (l, ctx, c) => l.sweep(ctx, c),
  render(r) {
    const c = r.counts;
    const text = [
      `${r.dryRun ? 'Dry run: would change' : 'Sweep done'} at ${r.at}:`,
      `  HR starters provisioned on their day: ${c['hr-starters']}`,
      `  HR leavers marked on their leaving date: ${c['hr-leavers']}`,
      ...r.startersFailed.map(
        (f) => `  HR starter ${f.employeeNumber} (${f.org}) not provisioned: ${f.message}`,
      ),
      ...LAPSES.map((lapse) => `  ${lapse.label}: ${c[lapse.step]}`),
      `  warnings ${r.dryRun ? 'due' : 'queued'}: ${c.warnings}`,
      ...r.changes.map((ch) => `  ${ch.address} (${ch.org}): ${ch.from} → ${ch.to} [${ch.step}]`),
      ...(r.truncated ? ['  (list truncated; counts are complete)'] : []),
    ].join('\n');
    return { text, data: r };
  },
});

export const reminders = defineCommand({
  name: 'reminders',
  usage: 'reminders [--dry-run]',
  summary:
    'Remind holders of accounts still pending first login, and list them to their organisations (operator only).',
  operatorOnly: {
    to: 'operator',
    refusal:
      'Only the operator and the scheduler send the pending-account reminders ("reminders" on the operator CLI).',
  },
  options: { 'dry-run': bool },
  positionals: [0, 0],
  parse: ({ values }) => ({ name: 'reminders', dryRun: values['dry-run'] === true }),
  run: (l, ctx, c) => l.remindPending(ctx, c),
  render(r) {
    const text = [
      `${r.dryRun ? 'Dry run: would remind' : 'Reminded'} ${r.reminded} holder${r.reminded === 1 ? '' : 's'} of accounts still pending first login, at ${r.at}${r.reminded ? ':' : '.'}`,
      ...r.reminders.map(
        (p) =>
          `  ${p.address} (${p.org}): pending ${p.pendingDays} day${p.pendingDays === 1 ? '' : 's'}, password by ${p.route ?? 'unknown route'}`,
      ),
      ...(r.truncated ? ['  (list truncated; the count is complete)'] : []),
    ].join('\n');
    return { text, data: r };
  },
});

export const remind = defineCommand({
  name: 'remind',
  usage: 'remind ADDRESS',
  summary: 'Send the holder a direct message with what to do to keep their account (once an hour at most).',
  options: {},
  positionals: [1, 1],
  parse: ({ positionals }) => ({ name: 'remind', address: parseAddress(at(positionals, 0)) }),
  run: (l, ctx, c) => l.remind(ctx, c),
  render(r) {
    const what =
      r.status === 'pending'
        ? 'how to sign in for the first time'
        : r.status === 'leaver'
          ? `how to keep the account before its grace period ends${r.dueAt ? ` on ${day(r.dueAt)}` : ''}`
          : `how to keep the account active${r.dueAt ? ` before ${day(r.dueAt)}` : ''}`;
    const text = `Reminder queued for ${r.address}: a direct message in Slack or Teams, wherever the bot can reach them, says ${what}.`;
    return { text, data: r };
  },
});
