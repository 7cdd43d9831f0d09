import { DSPT_LABELS, type Organisation, SITE_KINDS, type SiteKind } from '../../domain/organisation.js';
import { parseDspt, parseOds, parseOrgKind, parseOrgName, siteCqcLocation } from '../../domain/validation.js';
import type { ManualStep } from '../../service/manual-steps.js';
import { defineCommand } from '../command.js';
import { at, optional, person, personOptions, required, str } from '../options.js';
import { credentialLine, provisioned } from './provision.js';

/** Community sites (pharmacies, dental practices, care homes), their owners and their accounts. */

export const siteRegister = defineCommand({
  name: 'site register',
  usage:
    'site register --ods ODS --kind pharmacy|dental|care-home --name NAME --dspt STATUS [--cqc-location 1-DIGITS] --owner-given G --owner-family F [--owner-mobile M] [--owner-dob YYYY-MM-DD] [--owner-reg BODY:NUMBER] [--owner-delivery sms|envelope] [--owner-override-duplicate REASON]',
  summary:
    'NAS: register a community site, its shared mailbox and its owner (a care home gives its CQC location ID).',
  options: {
    ods: str,
    kind: str,
    name: str,
    dspt: str,
    'cqc-location': str,
    'owner-given': str,
    'owner-family': str,
    'owner-mobile': str,
    'owner-dob': str,
    'owner-reg': str,
    'owner-delivery': str,
    'owner-override-duplicate': str,
  },
  positionals: [0, 0],
  parse({ values, now, usage }) {
    const kind = parseOrgKind(required(values, 'kind', usage), SITE_KINDS) as SiteKind;
    return {
      name: 'site register',
      ods: parseOds(required(values, 'ods', usage)),
      kind,
      siteName: parseOrgName(required(values, 'name', usage)),
      dspt: parseDspt(required(values, 'dspt', usage)),
      cqcLocation: siteCqcLocation(kind, optional(values, 'cqc-location')),
      owner: person(values, now, usage, 'owner-'),
    };
  },
  run: (l, ctx, c) =>
    l.registerSite(ctx, {
      ods: c.ods,
      kind: c.kind,
      name: c.siteName,
      dspt: c.dspt,
      cqcLocation: c.cqcLocation,
      owner: c.owner,
    }),
  render(r) {
    const text = [
      `Registered ${r.site.name} (${r.site.ods}), ${r.site.kind}${cqcNote(r.site)}.`,
      `Shared mailbox: ${r.sharedMailbox.address} (active).`,
      `Owner: ${r.owner.address} (pending, site-owner of ${r.site.ods}). ${credentialLine(r.delivery)}.`,
      ...(r.manualStep ? [manualStepLine(r.manualStep)] : []),
    ].join('\n');
    return { text, data: r };
  },
});

export const siteRequestAccount = defineCommand({
  name: 'site request-account',
  usage:
    'site request-account --site ODS --given G --family F [--mobile M] [--dob YYYY-MM-DD] [--reg BODY:NUMBER] [--delivery sms|envelope] [--override-duplicate REASON]',
  summary: 'Site owner: request an account for a member of staff (at most 10 per site).',
  options: { ...personOptions, site: str },
  positionals: [0, 0],
  parse({ values, now, usage }) {
    return {
      name: 'site request-account',
      site: parseOds(required(values, 'site', usage)),
      person: person(values, now, usage),
    };
  },
  run: (l, ctx, c) => l.requestSiteAccount(ctx, { ...c.person, site: c.site }),
  render: (r) => provisioned(r),
});

export const siteShow = defineCommand({
  name: 'site show',
  usage: 'site show ODS',
  summary:
    'A site’s DSPT status, CQC location (a care home’s), directory group, owner, and accounts used of its limit.',
  options: {},
  positionals: [1, 1],
  parse: ({ positionals }) => ({ name: 'site show', ods: parseOds(at(positionals, 0)) }),
  run: (l, ctx, c) => l.showSite(ctx, c),
  render(r) {
    const lines = [
      `${r.site.name} (${r.site.ods}), ${r.site.kind}${cqcNote(r.site)}: DSPT ${r.site.dspt ? DSPT_LABELS[r.site.dspt] : 'not recorded'} (needs ${DSPT_LABELS[r.dsptMinimum]}).`,
      `Accounts: ${r.used} of ${r.limit} used${r.canRequestAccounts ? '' : '; no new accounts can be requested until the DSPT meets the minimum'}.`,
      `Directory group: ${r.site.directoryGroup ?? 'none (NAS sets it with "org group")'}.`,
      `Owner: ${r.owners.join(', ') || 'none'}`,
      ...r.accounts.map((a) => `  ${a.address} ${a.status}${a.kind === 'shared' ? ' (shared mailbox)' : ''}`),
      ...r.manualSteps.map(manualStepLine),
    ];
    return { text: lines.join('\n'), data: r };
  },
});

/** A care home's CQC location ID, after its kind; nothing for other sites. */
const cqcNote = (site: Organisation) => (site.cqcLocation ? `, CQC location ${site.cqcLocation}` : '');

/** Graph cannot make a shared mailbox: the step is NAS's, and said so until it is done. */
const manualStepLine = (step: ManualStep) =>
  `Not made yet: the shared mailbox ${step.address} is a step for NAS (the directory cannot make one). ${step.instructions}`;

export const siteMailboxDone = defineCommand({
  name: 'site mailbox-done',
  usage: 'site mailbox-done ODS',
  summary: 'NAS: say a site’s shared mailbox has been made in Exchange (the directory cannot make one).',
  options: {},
  positionals: [1, 1],
  parse: ({ positionals }) => ({ name: 'site mailbox-done', ods: parseOds(at(positionals, 0)) }),
  run: (l, ctx, c) => l.markSharedMailboxMade(ctx, c),
  render: (r) => ({
    text: `${r.site.name} (${r.site.ods}): shared mailbox ${r.done.map((s) => s.address).join(', ')} recorded as made.`,
    data: r,
  }),
});
