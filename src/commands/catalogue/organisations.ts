import { DSPT_LABELS, type Organisation } from '../../domain/organisation.js';
import {
  parseDirectoryGroup,
  parseDspt,
  parseOds,
  parseOrgKind,
  parseOrgName,
} from '../../domain/validation.js';
import { defineCommand } from '../command.js';
import { optional, required, str } from '../options.js';
import type { Rendered } from '../render.js';

export const orgAdd = defineCommand({
  name: 'org add',
  usage:
    'org add --ods ODS --name NAME --kind trust|icb|gp-practice|pharmacy|dental|care-home|gp-locum [--dspt STATUS]',
  summary: 'Add an organisation (operator only).',
  operatorOnly: {
    to: 'operator',
    refusal:
      'Only the operator adds organisations ("org add" on the operator CLI). Community sites are registered by NAS with "site register".',
  },
  options: { ods: str, name: str, kind: str, dspt: str },
  positionals: [0, 0],
  parse({ values, usage }) {
    const name = parseOrgName(required(values, 'name', usage));
    const dspt = optional(values, 'dspt');
    return {
      name: 'org add',
      ods: parseOds(required(values, 'ods', usage)),
      orgName: name,
      kind: parseOrgKind(required(values, 'kind', usage)),
      dspt: dspt === undefined ? undefined : parseDspt(dspt),
    };
  },
  run: (l, ctx, c) => l.addOrganisation(ctx, { ods: c.ods, name: c.orgName, kind: c.kind, dspt: c.dspt }),
  render: (org) => organisation('Added', org),
});

export const orgDspt = defineCommand({
  name: 'org dspt',
  usage:
    'org dspt --ods ODS --dspt standards-exceeded|standards-met|approaching-standards|standards-not-met|not-published',
  summary: 'Record an organisation’s published DSPT status (operator or NAS).',
  options: { ods: str, dspt: str },
  positionals: [0, 0],
  parse({ values, usage }) {
    return {
      name: 'org dspt',
      ods: parseOds(required(values, 'ods', usage)),
      dspt: parseDspt(required(values, 'dspt', usage)),
    };
  },
  run: (l, ctx, c) => l.updateDspt(ctx, { ods: c.ods, dspt: c.dspt }),
  render(r) {
    const lines = [
      `${r.name} (${r.ods}): DSPT ${r.previous ? DSPT_LABELS[r.previous] : 'not recorded'} → ${r.dspt ? DSPT_LABELS[r.dspt] : ''}.`,
    ];
    if (r.canRequestAccounts === false)
      lines.push('This site can request no new accounts until its DSPT meets its sector’s minimum.');
    if (r.canRequestAccounts === true) lines.push('This site can request new accounts.');
    return { text: lines.join('\n'), data: r };
  },
});

export const orgGroup = defineCommand({
  name: 'org group',
  usage: 'org group --ods ODS --group OBJECT_ID',
  summary:
    'Set the directory (Entra) group an organisation’s accounts belong to, by its object id (operator or NAS).',
  options: { ods: str, group: str },
  positionals: [0, 0],
  parse({ values, usage }) {
    return {
      name: 'org group',
      ods: parseOds(required(values, 'ods', usage)),
      group: parseDirectoryGroup(required(values, 'group', usage)),
    };
  },
  run: (l, ctx, c) => l.setDirectoryGroup(ctx, { ods: c.ods, group: c.group }),
  render(r) {
    const text = r.changed
      ? `${r.name} (${r.ods}): directory group ${r.previous ?? 'none'} → ${r.group}.`
      : `${r.name} (${r.ods}) is already in directory group ${r.group}: nothing was changed.`;
    return { text, data: r };
  },
});

function organisation(headline: string, org: Organisation): Rendered {
  return {
    text: `${headline} ${org.name} (${org.ods}), ${org.kind}${org.dspt ? `, DSPT ${DSPT_LABELS[org.dspt]}` : ''}.`,
    data: org,
  };
}
