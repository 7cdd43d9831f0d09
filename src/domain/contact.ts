import type { OrgKind } from './organisation.js';

export const CONTACT_CATEGORIES = [
  'trust',
  'icb',
  'locum',
  'agency',
  'gp-locum',
  'pharmacy',
  'dental',
  'care-home',
] as const;
export type ContactCategory = (typeof CONTACT_CATEGORIES)[number];

export const NAS_GP_LOCUM_MAILBOX = 'locumadmin@nhs.net';

export interface ContactAnswer {
  category: ContactCategory;
  who: string;
  /** How an account comes to exist for this kind of person. */
  route: string;
}

/** DESIGN.md section 2, "Account holders and their routes". */
const TABLE: Record<ContactCategory, Omit<ContactAnswer, 'category'>> = {
  trust: {
    who: 'Your organisation’s IT helpdesk or Local Administrator (LA).',
    route: 'The account is provisioned during onboarding, once HR paperwork is done.',
  },
  icb: {
    who: 'Your ICB’s IT helpdesk or Local Administrator (LA).',
    route: 'The account is provisioned during onboarding, once HR paperwork is done.',
  },
  locum: {
    who: 'The IT team of the organisation you are joining; the National Administration Service (NAS) if they cannot help.',
    route:
      'You keep one account for life: your old organisation marks you as a leaver, your new one as a joiner. Ask the bot: transfer --to ODS.',
  },
  agency: {
    who: 'The IT team of the organisation you are joining; the National Administration Service (NAS) if they cannot help.',
    route:
      'You keep one account for life and move it with leaver and joiner. Ask the bot: transfer --to ODS.',
  },
  'gp-locum': {
    who: `The NAS GP-locum team: ${NAS_GP_LOCUM_MAILBOX}.`,
    route: `Freelance GP locum accounts are managed centrally by NAS, not by a practice. Leaving an employed post to work as a freelance GP locum: your local administrator marks you as a leaver for the GP-locum route ("leaver ADDRESS --gp-locum"); then email ${NAS_GP_LOCUM_MAILBOX} before your grace period ends, and the NAS GP-locum team joins your account to its organisation: same address, same mailbox.`,
  },
  pharmacy: {
    who: 'The NAS admin team.',
    route:
      'Through NAS registration: the pharmacy registers as a site first, then its owner requests individual accounts.',
  },
  dental: {
    who: 'The NAS admin team.',
    route:
      'Through NAS registration: the practice registers as a site first, then its owner requests individual accounts.',
  },
  'care-home': {
    who: 'The registered manager of your home, and NAS.',
    route:
      'Through NAS registration: the care home registers as a site first, then its registered manager requests individual accounts.',
  },
};

export const contactFor = (category: ContactCategory): ContactAnswer => ({ category, ...TABLE[category] });

/** The category that fits an account homed in an organisation of this kind. */
export function categoryForOrgKind(kind: OrgKind): ContactCategory {
  switch (kind) {
    case 'trust':
    case 'gp-practice':
      return 'trust';
    case 'icb':
      return 'icb';
    case 'gp-locum':
      return 'gp-locum';
    case 'pharmacy':
    case 'dental':
    case 'care-home':
      return kind;
  }
}
