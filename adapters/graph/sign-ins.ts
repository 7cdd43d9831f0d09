import { z } from 'zod';
import { directoryAddress } from '../../src/domain/adoption.js';
import { isDomainError } from '../../src/domain/errors.js';
import { parseAddress } from '../../src/domain/validation.js';
import type { ActivityObservation } from '../../src/service/activity-import.js';

/** What we ask Graph for: `GET /v1.0/users?$select=…&$top=…`. */
export const USER_FIELDS = ['id', 'userPrincipalName', 'mail', 'signInActivity'] as const;

/**
 * Users per page. Graph's maximum with `$select=signInActivity` was 999 and is documented as 500
 * since mid-2025; 500 is valid under both and is also recordObservedActivity's batch size.
 */
export const PAGE_SIZE = 500;

const instant = z.string().nullish();

/**
 * One user as Graph returns it. Any field may be missing or null: `signInActivity` is null for a
 * user who never signed in, and `lastSuccessfulSignInDateTime` exists only since December 2023.
 */
const graphUser = z.object({
  id: z.string().nullish(),
  userPrincipalName: z.string().nullish(),
  mail: z.string().nullish(),
  signInActivity: z
    .object({
      lastSignInDateTime: instant,
      lastNonInteractiveSignInDateTime: instant,
      lastSuccessfulSignInDateTime: instant,
    })
    .nullish(),
});
export type GraphUser = z.infer<typeof graphUser>;

export const usersPage = z.object({
  value: z.array(graphUser),
  '@odata.nextLink': z.string().optional(),
});

export type SignIn =
  | {
      kind: 'observation';
      observation: ActivityObservation;
      /** The last successful sign-in, with the user's directory id: what a first login needs. */
      successful: { directoryId: string; at: Date } | null;
    }
  | { kind: 'not-nhs-net' }
  | { kind: 'never-signed-in' }
  | { kind: 'invalid'; problem: string };

const NHS_NET = /@nhs\.net$/i;

/**
 * The @nhs.net address (mail, else user principal name) and the latest of the user's sign-in
 * times. Microsoft documents lastSignInDateTime and lastNonInteractiveSignInDateTime as the last
 * *attempt*, successful or not; the latest of all three is taken, so an account is never treated
 * as idle while Entra saw it in use.
 */
export function signInOf(user: GraphUser): SignIn {
  const raw = [user.mail, user.userPrincipalName].find((a) => a && NHS_NET.test(a.trim()));
  if (!raw) return { kind: 'not-nhs-net' };
  let address: string;
  try {
    address = parseAddress(raw);
  } catch (e) {
    return { kind: 'invalid', problem: isDomainError(e) ? e.message : String(e) };
  }
  const activity = user.signInActivity;
  const latest = [
    activity?.lastSignInDateTime,
    activity?.lastNonInteractiveSignInDateTime,
    activity?.lastSuccessfulSignInDateTime,
  ]
    .map((v) => (v ? new Date(v) : null))
    .filter((d): d is Date => d !== null && !Number.isNaN(d.getTime()))
    .sort((a, b) => b.getTime() - a.getTime())[0];
  if (!latest) return { kind: 'never-signed-in' };
  const success = activity?.lastSuccessfulSignInDateTime
    ? new Date(activity.lastSuccessfulSignInDateTime)
    : null;
  // A first login is the account's own user signing in: the user whose principal name is the
  // address (as import and drift match), not one that only has it as its mail.
  const upn = directoryAddress(user.userPrincipalName ?? null);
  const own = 'address' in upn && upn.address === address;
  return {
    kind: 'observation',
    observation: { address, at: latest },
    successful:
      own && user.id && success && !Number.isNaN(success.getTime())
        ? { directoryId: user.id, at: success }
        : null,
  };
}
