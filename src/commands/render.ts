import { DSPT_LABELS, type DsptStatus, type Organisation } from '../domain/organisation.js';
import { daysLeft, londonDate } from '../domain/time.js';
import type { JoinerResult, LeaverResult, ProvisionResult } from '../service/accounts.js';
import type { ActivityImportReport } from '../service/activity-import.js';
import type { AuditExport } from '../service/audit-export.js';
import type { LinkResult, SubscriptionChange, SubscriptionRow } from '../service/chat.js';
import type { LeaverImportReport, StarterImportReport } from '../service/hr-feed.js';
import type { FailedDelivery, RetryResult } from '../service/notifications.js';
import type { OrgImportReport } from '../service/org-import.js';
import type { RoleChange } from '../service/organisations.js';
import type { AuditRow, ContactResult, Expiry, StatusResult } from '../service/queries.js';
import type { ReminderReport, RemindResult } from '../service/reminders.js';
import type { SiteRegistration, SiteSummary } from '../service/sites.js';
import type { AccountView } from '../service/store.js';
import type { SweepReport } from '../service/sweep.js';
import type { TransferResult } from '../service/transfer.js';

/** Text and JSON for each command's result; chat adapters may build richer layouts from `data`. */
export interface Rendered {
  text: string;
  data: unknown;
}

const day = (iso: string) => iso.slice(0, 10);

function left(now: Date, iso: string): string {
  const n = daysLeft(now, new Date(iso));
  if (n <= 0) return 'overdue';
  return n === 1 ? '1 day left' : `${n} days left`;
}

/** The clock that matters for the account's status, in words. */
export function clockLine(a: AccountView, now: Date): string | null {
  if (a.status === 'leaver' && a.graceExpiresAt) {
    return `Grace period ends ${day(a.graceExpiresAt)} (${left(now, a.graceExpiresAt)}): a new organisation can accept them as a joiner until then.`;
  }
  if (a.status === 'active' && a.activityExpiresAt) {
    return `Activity window ends ${day(a.activityExpiresAt)} (${left(now, a.activityExpiresAt)}) unless they log in or send an email.`;
  }
  if (a.status === 'inactive' && a.deleteAfter) {
    return `Deleted on ${day(a.deleteAfter)} (${left(now, a.deleteAfter)}) unless reactivated.`;
  }
  if (a.status === 'deleted') {
    return a.restoreUntil
      ? `NAS can restore it until ${day(a.restoreUntil)} (${left(now, a.restoreUntil)}).`
      : 'Purged: it cannot be restored; the address stays reserved.';
  }
  if (a.status === 'pending') return 'Waiting for first login (password change and MFA registration).';
  return null;
}

export function accountText(a: AccountView, now: Date): string {
  const lines = [
    `${a.address}: ${a.status}${a.kind === 'shared' ? ' (shared mailbox)' : ''}, ${a.orgName} (${a.org})`,
  ];
  if (a.name) lines.push(`Name: ${a.name}`);
  const clock = clockLine(a, now);
  if (clock) lines.push(clock);
  if (a.leavesAt) {
    lines.push(
      `Leaving on ${londonDate(new Date(a.leavesAt))} (HR feed): marked as a leaver that day, and the grace period starts then.`,
    );
  }
  return lines.join('\n');
}

export function account(a: AccountView, now: Date, headline: string): Rendered {
  return { text: `${headline}.\n${accountText(a, now)}`, data: a };
}

export function status(r: StatusResult, now: Date): Rendered {
  const lines = [accountText(r.account, now)];
  if (r.transfer) {
    lines.push(
      `Transfer to ${r.transfer.to} requested ${day(r.transfer.requestedAt)}: leaver ${r.transfer.leaverDone ? 'marked' : 'not yet marked'}, ${r.transfer.to} ${r.transfer.accepted ? 'has accepted' : 'has not yet accepted'}.`,
    );
  }
  return { text: lines.join('\n'), data: { ...r.account, transfer: r.transfer } };
}

export function provisioned(
  r: Omit<ProvisionResult, 'duplicateOverride'> & Partial<ProvisionResult>,
): Rendered {
  const how =
    r.delivery.route === 'sms'
      ? `The temporary password was sent by SMS to ${r.delivery.recipient}.`
      : `The temporary password is in a Day 1 envelope letter (${r.delivery.recipient}).`;
  const lines = [
    `Created ${r.account.address} (pending) in ${r.account.orgName} (${r.account.org}).`,
    how,
    'At first login they must change the password and register Microsoft Authenticator; then record it with first-login.',
  ];
  if (r.duplicateOverride) {
    lines.push(
      `Duplicate check overridden (${r.duplicateOverride.matches.join(', ')}): ${r.duplicateOverride.reason}`,
    );
  }
  return {
    text: lines.join('\n'),
    data: { ...r.account, delivery: r.delivery, duplicateOverride: r.duplicateOverride ?? null },
  };
}

export function leaver(r: LeaverResult, now: Date): Rendered {
  if (r.outcome === 'requested') {
    return {
      text: `Your request to leave was sent to ${r.sentTo}. Your account stays ${r.account.status} until they mark you as a leaver.`,
      data: { ...r.account, outcome: r.outcome, sentTo: r.sentTo },
    };
  }
  const text = r.transferCompleted
    ? `Marked as a leaver, and the transfer ${r.transferCompleted.to} had accepted is now complete.\n${accountText(r.account, now)}`
    : `Marked as a leaver.\n${accountText(r.account, now)}`;
  return { text, data: { ...r.account, outcome: r.outcome, transferCompleted: r.transferCompleted } };
}

export function joiner(r: JoinerResult, now: Date): Rendered {
  if (r.outcome === 'accepted') {
    return {
      text: `Transfer accepted. ${r.account.address} moves here as soon as ${r.waitingFor} marks them as a leaver.\n${accountText(r.account, now)}`,
      data: { ...r.account, outcome: r.outcome, waitingFor: r.waitingFor },
    };
  }
  return {
    text: `Joined from ${r.from}: same address, same mailbox.\n${accountText(r.account, now)}`,
    data: { ...r.account, outcome: r.outcome, from: r.from },
  };
}

export function transfer(r: TransferResult): Rendered {
  const text = [
    `Transfer of ${r.account.address} from ${r.from} to ${r.to} requested.`,
    `1. ${r.leaverAskedOf} is asked to mark them as a leaver (a ${r.graceDays}-day grace period then starts).`,
    `2. ${r.to} is asked to accept them as a joiner ("joiner ${r.account.address} --org ${r.to}").`,
    'The move completes when both have happened, in either order.',
    ...(r.superseded ? [`This replaces the earlier request to ${r.superseded}.`] : []),
  ].join('\n');
  return {
    text,
    data: { ...r.account, transfer: { from: r.from, to: r.to, leaverAskedOf: r.leaverAskedOf } },
  };
}

export function expiring(rows: Expiry[], now: Date, within: number): Rendered {
  if (rows.length === 0) return { text: `Nothing ends in the next ${within} days.`, data: rows };
  const what = {
    grace: 'grace period ends',
    inactivity: 'inactive unless used',
    retention: 'deleted unless reactivated',
  };
  const lines = rows.map(
    (r) =>
      `${day(r.dueAt)}  ${left(now, r.dueAt).padEnd(12)} ${r.address} (${r.org}, ${r.status}): ${what[r.reason]}`,
  );
  return { text: [`${rows.length} ending within ${within} days:`, ...lines].join('\n'), data: rows };
}

export function audit(rows: AuditRow[], address: string | undefined): Rendered {
  if (rows.length === 0) return { text: `No audit entries${address ? ` for ${address}` : ''}.`, data: rows };
  const lines = rows.map((r) => {
    const change = r.from === r.to ? (r.to ?? '') : `${r.from ?? '—'} → ${r.to ?? '—'}`;
    return `${r.at}  ${r.action.padEnd(18)} ${change.padEnd(20)} by ${r.actor} (${r.platform})${r.reason ? `: ${r.reason}` : ''}`;
  });
  return { text: lines.join('\n'), data: rows };
}

export function auditExport(e: AuditExport, rows: number, file: string | null): Rendered {
  const data = { from: e.from, to: e.to, since: e.since, until: e.until, rows, file };
  return {
    text: `Wrote ${rows} audit ${rows === 1 ? 'entry' : 'entries'} of ${e.from} to ${e.to} (London days: ${e.since} to ${e.until}) to ${file ?? 'the output'}.`,
    data,
  };
}

export function contact(r: ContactResult): Rendered {
  const lines = [`Who to contact (${r.category}): ${r.who}`, r.route];
  if (r.localAdmins.length > 0) lines.push(`Administrators of ${r.org}: ${r.localAdmins.join(', ')}`);
  return { text: lines.join('\n'), data: r };
}

export function organisation(headline: string, org: Organisation): Rendered {
  return {
    text: `${headline} ${org.name} (${org.ods}), ${org.kind}${org.dspt ? `, DSPT ${DSPT_LABELS[org.dspt]}` : ''}.`,
    data: org,
  };
}

export function dspt(
  r: Organisation & { previous: DsptStatus | null; canRequestAccounts: boolean | null },
): Rendered {
  const lines = [
    `${r.name} (${r.ods}): DSPT ${r.previous ? DSPT_LABELS[r.previous] : 'not recorded'} → ${r.dspt ? DSPT_LABELS[r.dspt] : ''}.`,
  ];
  if (r.canRequestAccounts === false)
    lines.push('This site can request no new accounts until its DSPT meets its sector’s minimum.');
  if (r.canRequestAccounts === true) lines.push('This site can request new accounts.');
  return { text: lines.join('\n'), data: r };
}

export function role(r: RoleChange, verb: 'grant' | 'revoke'): Rendered {
  const what = `${r.role}${r.org ? ` of ${r.org}` : ''}`;
  const text =
    verb === 'grant'
      ? r.changed
        ? `${r.address} is now ${what}.`
        : `${r.address} was already ${what}; nothing changed.`
      : r.changed
        ? `${r.address} is no longer ${what}.`
        : `${r.address} was not ${what}; nothing changed.`;
  return { text, data: r };
}

export function siteRegistered(r: SiteRegistration): Rendered {
  const text = [
    `Registered ${r.site.name} (${r.site.ods}), ${r.site.kind}.`,
    `Shared mailbox: ${r.sharedMailbox.address} (active).`,
    `Owner: ${r.owner.address} (pending, site-owner of ${r.site.ods}); temporary password ${r.delivery.route === 'sms' ? `sent by SMS to ${r.delivery.recipient}` : 'in a Day 1 envelope letter'}.`,
  ].join('\n');
  return { text, data: r };
}

export function site(r: SiteSummary): Rendered {
  const lines = [
    `${r.site.name} (${r.site.ods}), ${r.site.kind}: DSPT ${r.site.dspt ? DSPT_LABELS[r.site.dspt] : 'not recorded'} (needs ${DSPT_LABELS[r.dsptMinimum]}).`,
    `Accounts: ${r.used} of ${r.limit} used${r.canRequestAccounts ? '' : '; no new accounts can be requested until the DSPT meets the minimum'}.`,
    `Owner: ${r.owners.join(', ') || 'none'}`,
    ...r.accounts.map((a) => `  ${a.address} ${a.status}${a.kind === 'shared' ? ' (shared mailbox)' : ''}`),
  ];
  return { text: lines.join('\n'), data: r };
}

export function sweep(r: SweepReport): Rendered {
  const c = r.counts;
  const text = [
    `${r.dryRun ? 'Dry run: would change' : 'Sweep done'} at ${r.at}:`,
    `  HR starters provisioned on their day: ${c['hr-starters']}`,
    `  HR leavers marked on their leaving date: ${c['hr-leavers']}`,
    ...r.startersFailed.map(
      (f) => `  HR starter ${f.employeeNumber} (${f.org}) not provisioned: ${f.message}`,
    ),
    `  leavers past grace → inactive: ${c['grace-ended']}`,
    `  idle accounts → inactive: ${c.inactivity}`,
    `  inactive past retention → deleted: ${c['retention-ended']}`,
    `  deleted past restore window → purged: ${c.purge}`,
    `  warnings ${r.dryRun ? 'due' : 'queued'}: ${c.warnings}`,
    ...r.changes.map((ch) => `  ${ch.address} (${ch.org}): ${ch.from} → ${ch.to} [${ch.step}]`),
    ...(r.truncated ? ['  (list truncated; counts are complete)'] : []),
  ].join('\n');
  return { text, data: r };
}

const rowsWord = (n: number) => `${n} row${n === 1 ? '' : 's'}`;

export function starterImport(r: StarterImportReport): Rendered {
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
}

export function leaverImport(r: LeaverImportReport): Rendered {
  const lines = [
    `${r.dryRun ? 'Dry run (nothing changed): would import' : 'Imported'} ${rowsWord(r.rows)} of leavers: ${r.marked} marked as leavers now, ${r.scheduled} scheduled for their leaving date, ${r.existing} already done, ${r.errors.length} rejected.`,
    ...r.errors.map((e) => `  row ${e.row}: ${e.message}`),
  ];
  return { text: lines.join('\n'), data: r };
}

export function reminders(r: ReminderReport): Rendered {
  const text = [
    `${r.dryRun ? 'Dry run: would remind' : 'Reminded'} ${r.reminded} holder${r.reminded === 1 ? '' : 's'} of accounts still pending first login, at ${r.at}${r.reminded ? ':' : '.'}`,
    ...r.reminders.map(
      (p) =>
        `  ${p.address} (${p.org}): pending ${p.pendingDays} day${p.pendingDays === 1 ? '' : 's'}, password by ${p.route ?? 'unknown route'}`,
    ),
    ...(r.truncated ? ['  (list truncated; the count is complete)'] : []),
  ].join('\n');
  return { text, data: r };
}

export function reminded(r: RemindResult): Rendered {
  const what =
    r.status === 'pending'
      ? 'how to sign in for the first time'
      : r.status === 'leaver'
        ? `how to keep the account before its grace period ends${r.dueAt ? ` on ${day(r.dueAt)}` : ''}`
        : `how to keep the account active${r.dueAt ? ` before ${day(r.dueAt)}` : ''}`;
  const text = `Reminder queued for ${r.address}: a direct message in Slack or Teams, wherever the bot can reach them, says ${what}.`;
  return { text, data: r };
}

export function linked(r: LinkResult): Rendered {
  const text = `${r.user.platform} user ${r.user.userId} now acts as ${r.address}${r.previous && r.previous !== r.address ? ` (was ${r.previous})` : ''}.`;
  return { text, data: r };
}

export function subscription(r: SubscriptionChange, verb: 'subscribe' | 'unsubscribe'): Rendered {
  const what = `${r.orgName} (${r.org})`;
  const text =
    verb === 'subscribe'
      ? r.changed
        ? `This channel now receives alerts for ${what}.`
        : `This channel already receives alerts for ${what}.`
      : r.changed
        ? `This channel no longer receives alerts for ${what}.`
        : `This channel was not receiving alerts for ${what}.`;
  return { text, data: r };
}

export function subscriptions(rows: SubscriptionRow[], org: string | undefined): Rendered {
  if (rows.length === 0) {
    return {
      text: org
        ? `No channel receives alerts for ${org}.`
        : 'This channel receives no organisation’s alerts.',
      data: rows,
    };
  }
  const lines = org
    ? rows.map(
        (r) => `  ${r.platform} channel ${r.channelId} (since ${day(r.subscribedAt)}, by ${r.subscribedBy})`,
      )
    : rows.map((r) => `  ${r.org} (since ${day(r.subscribedAt)}, by ${r.subscribedBy})`);
  return {
    text: [org ? `Alerts for ${org} go to:` : 'This channel receives alerts for:', ...lines].join('\n'),
    data: rows,
  };
}

export function activityImport(r: ActivityImportReport): Rendered {
  const lines = [
    `Read ${r.rows} rows: activity recorded for ${r.recorded}, already up to date ${r.unchanged}, unknown addresses ${r.unknown.length}, unreadable rows ${r.invalid.length}, disagreements ${r.disagreements.length}.`,
    ...r.invalid.slice(0, 50).map((i) => `  row ${i.row}: ${i.problem}`),
    ...r.unknown.slice(0, 50).map((a) => `  unknown: ${a}`),
    ...r.disagreements
      .slice(0, 200)
      .map((d) => `  ${d.address} (${d.status}), active ${d.at.slice(0, 10)}: ${d.note}`),
  ];
  if (r.unknown.length > 50 || r.invalid.length > 50 || r.disagreements.length > 200)
    lines.push('  (lists shortened; --json has them all)');
  return { text: lines.join('\n'), data: r };
}

const parkedLine = (r: FailedDelivery) =>
  `${String(r.id).padStart(6)}  ${r.createdAt}  ${r.kind.padEnd(16)} ${r.target}  after ${r.attempts} attempt(s): ${r.lastError ?? ''}`;

export function failedNotifications(rows: FailedDelivery[]): Rendered {
  if (rows.length === 0) return { text: 'No failed notifications.', data: rows };
  return {
    text: [
      `${rows.length} notification(s) could not be delivered:`,
      ...rows.map(parkedLine),
      'Send one again with "notifications retry NUMBER" (the first column), or all with "notifications retry --all".',
    ].join('\n'),
    data: rows,
  };
}

export function retriedNotifications(r: RetryResult, id: number | undefined): Rendered {
  if (r.requeued.length === 0) return { text: 'No failed notifications to retry.', data: r };
  const shown = r.requeued.slice(0, 50);
  const text = [
    id === undefined
      ? `Requeued ${r.requeued.length} parked notification(s); the delivery worker sends them again within seconds:`
      : `Requeued notification ${id}; the delivery worker sends it again within seconds:`,
    ...shown.map(parkedLine),
    ...(r.requeued.length > shown.length ? ['  (list shortened; --json has them all)'] : []),
  ].join('\n');
  return { text, data: r };
}

export function orgImport(r: OrgImportReport): Rendered {
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
}
