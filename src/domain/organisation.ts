export const ORG_KINDS = [
  'trust',
  'icb',
  'gp-practice',
  'pharmacy',
  'dental',
  'care-home',
  'gp-locum',
] as const;
export type OrgKind = (typeof ORG_KINDS)[number];

/**
 * NHS ODS's CSV extracts, by file name, for the kinds the bot knows: NHS trusts, GP practices,
 * dispensaries (community pharmacies) and general dental practices. Others need `--kind`.
 */
export const ODS_FILE_KINDS: Readonly<Record<string, OrgKind>> = {
  etr: 'trust',
  epraccur: 'gp-practice',
  edispensary: 'pharmacy',
  egdpprac: 'dental',
};

/** Community sites register through NAS: site first, then at most N individual accounts. */
export const SITE_KINDS = ['pharmacy', 'dental', 'care-home'] as const;
export type SiteKind = (typeof SITE_KINDS)[number];
export const isSiteKind = (kind: OrgKind): kind is SiteKind =>
  (SITE_KINDS as readonly string[]).includes(kind);

/** Data Security and Protection Toolkit statuses, best first. */
export const DSPT_STATUSES = [
  'standards-exceeded',
  'standards-met',
  'approaching-standards',
  'standards-not-met',
  'not-published',
] as const;
export type DsptStatus = (typeof DSPT_STATUSES)[number];

/** True when `status` is at or above `minimum` (the list is ordered best first). */
export const dsptMeets = (status: DsptStatus | null, minimum: DsptStatus): boolean =>
  status !== null && DSPT_STATUSES.indexOf(status) <= DSPT_STATUSES.indexOf(minimum);

export const DSPT_LABELS: Record<DsptStatus, string> = {
  'standards-exceeded': 'Standards Exceeded',
  'standards-met': 'Standards Met',
  'approaching-standards': 'Approaching Standards',
  'standards-not-met': 'Standards Not Met',
  'not-published': 'Not Published',
};

export interface Organisation {
  ods: string;
  name: string;
  kind: OrgKind;
  dspt: DsptStatus | null;
  /**
   * The Entra group its accounts belong to (an object id, lower-case), from `org group`; null when
   * none is set. Absent where the organisation was built without reading it (a domain test's literal).
   */
  directoryGroup?: string | null;
  /**
   * A care home's CQC location ID, given at registration; null for every other kind. Absent where
   * the organisation was built without reading it, as directoryGroup.
   */
  cqcLocation?: string | null;
}
