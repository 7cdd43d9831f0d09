import { NAS_GP_LOCUM_MAILBOX } from './contact.js';
import { type DomainError, refused } from './errors.js';
import type { Notification } from './notifications.js';
import type { Organisation } from './organisation.js';
import { isoDate } from './time.js';

/**
 * The employee → freelance GP locum route (DESIGN.md, "GP locums"): the home organisation marks a
 * leaver *for the GP-locum route*; the NAS GP-locum team then joins the account to the GP-locum
 * organisation (a normal joiner) within the grace period, or grace ends as for any leaver.
 */

/** Where a GP-locum leaver goes next, and who marked it (for the team's claim card). */
export interface GpLocumRoute {
  org: Organisation;
  markedBy: string;
}

/**
 * The one GP-locum organisation among `registered` (every organisation of kind gp-locum), or the
 * refusal: the route needs exactly one, NAS-managed, to send the leaver to.
 */
export function gpLocumHome(registered: readonly Organisation[], address: string): Organisation {
  const [only, ...others] = registered;
  if (only && others.length === 0) return only;
  throw refused(
    'NO_GP_LOCUM_ORG',
    only
      ? `More than one GP-locum organisation is registered (${registered.map((o) => o.ods).join(', ')}), so it is not clear which one ${address} would join. NAS keeps exactly one; an operator must settle which. Nothing was changed.`
      : `No GP-locum organisation is registered, so ${address} cannot be marked for the GP-locum route: NAS's GP-locum team has no organisation to join them to. An operator registers it first ("org add --ods ODS --name NAME --kind gp-locum"); until then nothing was changed. A plain "leaver ${address}" still works.`,
  );
}

/** Why an account already homed in the GP-locum organisation cannot take that route again. */
export const refuseGpLocumLeaver = (
  account: { address: string; homeOrg: string },
  route: GpLocumRoute,
): DomainError | null =>
  account.homeOrg === route.org.ods
    ? refused(
        'ALREADY_GP_LOCUM',
        `${account.address} is already homed in ${route.org.name} (${route.org.ods}), the GP-locum organisation, so the GP-locum route does not apply. Only NAS administrators act on GP-locum accounts: contact the NAS GP-locum team (${NAS_GP_LOCUM_MAILBOX}).`,
      )
    : null;

/** What the holder's `leaver` notification carries for the route. */
export const gpLocumPayload = (route: GpLocumRoute) => ({
  org: route.org.ods,
  mailbox: NAS_GP_LOCUM_MAILBOX,
});

/** The NAS GP-locum team's claim card, to the GP-locum organisation's subscribed channels. */
export function gpLocumClaim(
  address: string,
  from: string,
  route: GpLocumRoute,
  graceDays: number,
  graceExpiresAt: Date,
): Notification {
  return {
    kind: 'gp-locum-claim',
    audience: { type: 'mailbox', address: NAS_GP_LOCUM_MAILBOX, ods: route.org.ods },
    payload: {
      address,
      from,
      to: route.org.ods,
      markedBy: route.markedBy,
      daysLeft: graceDays,
      graceExpiresAt: graceExpiresAt.toISOString(),
    },
  };
}

/** The audit reason's addition: where the leaver is to go, and by when. */
export const gpLocumReason = (route: GpLocumRoute, graceExpiresAt: Date) =>
  `; for the GP-locum route: the NAS GP-locum team (${NAS_GP_LOCUM_MAILBOX}) is asked to join them to ${route.org.ods} by ${isoDate(graceExpiresAt)}`;
