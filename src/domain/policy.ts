import type { DsptStatus, OrgKind } from './organisation.js';

/** Every number of DESIGN.md section 2 is policy: these are the defaults, overridable by configuration. */
export interface Policy {
  /** Days a leaver keeps the account for a joiner to claim it. */
  graceDays: number;
  /** Days without a login or a sent email before an active account becomes inactive. */
  inactivityDays: number;
  /** Days before a window ends that warnings go out, most urgent last (e.g. [7, 3, 1]). */
  warningDays: number[];
  /** Days a new person's account may wait for its first login before it becomes inactive. */
  pendingDays: number;
  /** Days a disabled account (long-term absence) is kept before it is deleted: NHSmail keeps 18 months. */
  disabledRetentionDays: number;
  /** Days before a disabled account's deletion, or its return date, that warnings go out. */
  disabledWarningDays: number[];
  /** Days an inactive account is kept before deletion. */
  retentionDays: number;
  /** Days a deleted account can still be restored by NAS before it is purged. */
  restoreDays: number;
  /** Individual accounts per community site, the owner included. */
  siteAccountLimit: number;
  /**
   * Minimum DSPT status per sector, to register a site and to request accounts for it. NHSmail
   * publishes Approaching Standards for social care (care homes), Standards Met for the rest.
   */
  dsptMinimum: Record<OrgKind, DsptStatus>;
  /** Sectors whose staff may complete first login without registering MFA. */
  mfaExemptSectors: OrgKind[];
  /** Days before an HR starter's start date that the account is made, so credentials arrive before Day 1. */
  starterLeadDays: number;
  /**
   * Minutes a new user's Temporary Access Pass lasts (DIRECTORY_CREDENTIAL=tap), from the start
   * date or from its making. Graph allows 10 to 43,200; the tenant's TAP policy may allow less
   * (Entra's default maximum is 8 hours).
   */
  tapLifetimeMinutes: number;
}

export const DEFAULT_POLICY: Policy = {
  graceDays: 30,
  inactivityDays: 30,
  warningDays: [7, 3, 1],
  pendingDays: 30,
  disabledRetentionDays: 548,
  disabledWarningDays: [30, 7, 1],
  retentionDays: 30,
  restoreDays: 30,
  siteAccountLimit: 10,
  dsptMinimum: {
    trust: 'standards-met',
    icb: 'standards-met',
    'gp-practice': 'standards-met',
    pharmacy: 'standards-met',
    dental: 'standards-met',
    'care-home': 'approaching-standards',
    'gp-locum': 'standards-met',
  },
  mfaExemptSectors: [],
  starterLeadDays: 5,
  tapLifetimeMinutes: 480,
};

export const mfaRequired = (policy: Policy, sector: OrgKind): boolean =>
  !policy.mfaExemptSectors.includes(sector);
