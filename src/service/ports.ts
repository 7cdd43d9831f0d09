import type { OrgKind } from '../domain/organisation.js';
import type { Mobile } from '../domain/validation.js';

export const DELIVERY_ROUTES = ['sms', 'envelope'] as const;
export type DeliveryRoute = (typeof DELIVERY_ROUTES)[number];

/** What a credential delivery needs: the secret travels in memory only, through this call. */
export interface CredentialRequest {
  address: string;
  given: string;
  family: string;
  /** The new home organisation; its kind says whom the holder asks for help. */
  org: { ods: string; name: string; kind: OrgKind };
  /** Whether the first login must register MFA (policy may exempt the organisation's sector). */
  mfaRequired: boolean;
  route: DeliveryRoute;
  mobile?: Mobile | undefined;
  temporaryPassword: string;
}

/** What may be recorded about a delivery: the route and a masked recipient, never the secret. */
export interface DeliveryReceipt {
  route: DeliveryRoute;
  /** e.g. `07*** ***123`, or where the Day 1 envelope letter was written. */
  recipient: string;
}

/** Delivers a new account's temporary password by a secure route (SMS to the HR mobile, or a Day 1 envelope). */
export interface CredentialDelivery {
  /** Throws a DomainError when the route is unavailable; the account is then not created. */
  deliver(request: CredentialRequest): Promise<DeliveryReceipt>;
}
