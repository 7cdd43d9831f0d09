import { fail, type Reply } from './graph-routes.js';
import type { GraphSchema } from './graph-schema.js';

/**
 * `GET /reports/authenticationMethods/userRegistrationDetails`, as Graph v1.0 answers it
 * (graph/api/authenticationmethodsroot-list-userregistrationdetails, resources/
 * userregistrationdetails):
 * - One entry per user: id (the user's object id), userPrincipalName, userDisplayName,
 *   isMfaRegistered and the other flags, methodsRegistered, lastUpdatedDateTime…; each answer is
 *   checked against the types file, so a property Graph does not have fails the test that sent it.
 * - "This method supports only the $filter and $orderBy OData query parameters" (the v1.0 page
 *   until 2023): `$select` is refused. Graph's wording for it was not found; the stand-in uses
 *   OData's own refusal of a query option a service does not allow (inferred, not recorded).
 * - `$filter` takes `eq` (and `startswith` on names) on the documented properties; the stand-in
 *   takes `id eq '…'` (the request; `id` is not in the documented table, but the entity's
 *   key, and Graph also serves `…/userRegistrationDetails/{id}`) and `userPrincipalName eq '…'`.
 *   Anything else, `in` included, is refused as Graph refuses an unsupported clause on users:
 *   400 Request_UnsupportedQuery (inferred for this endpoint).
 * - A tenant without Microsoft Entra ID P1/P2: 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant
 *   "Neither tenant is B2C or tenant doesn't have premium license" (Microsoft's troubleshooting
 *   article of that title names sign-in activity and user registration details).
 * - Permission: AuditLog.Read.All.
 */

type Props = Record<string, unknown>;

export const NOT_PREMIUM = {
  code: 'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
  message: "Neither tenant is B2C or tenant doesn't have premium license",
};
export const notPremium = () => fail(403, NOT_PREMIUM.code, NOT_PREMIUM.message);

const LITERAL = "'((?:[^']|'')*)'";
const CLAUSE = new RegExp(`^\\s*(id|userPrincipalName)\\s+eq\\s+${LITERAL}\\s*$`, 'i');

export class Registrations {
  /** When each user registered MFA, by user id; absent: not registered. */
  private readonly mfa = new Map<string, string>();

  constructor(
    private readonly schema: GraphSchema,
    private readonly now: () => Date,
    private readonly base: () => string,
  ) {}

  clear(): void {
    this.mfa.clear();
  }

  /** Marks a user's MFA as registered (or not) from now on. */
  setMfaRegistered(userId: string, registered: boolean): void {
    if (registered) this.mfa.set(userId, this.now().toISOString());
    else this.mfa.delete(userId);
  }

  list(users: ReadonlyMap<string, Props>, query: URLSearchParams): Reply {
    if (query.has('$select')) {
      return fail(
        400,
        'BadRequest',
        "Query option 'Select' is not allowed. To allow it, set the 'AllowedQueryOptions' property on EnableQueryAttribute or QueryValidationSettings.",
      );
    }
    let chosen = [...users.values()];
    const filter = query.get('$filter');
    if (filter !== null) {
      const clause = CLAUSE.exec(filter);
      if (!clause) {
        const named = filter.trim().split(/\s/)[0] ?? '';
        return fail(
          400,
          'Request_UnsupportedQuery',
          `Unsupported or invalid query filter clause specified for property '${named}' of resource 'userRegistrationDetails'.`,
        );
      }
      const property = clause[1]?.toLowerCase() === 'id' ? 'id' : 'userPrincipalName';
      const value = (clause[2] ?? '').replaceAll("''", "'").toLowerCase();
      chosen = chosen.filter((u) => String(u[property]).toLowerCase() === value);
    }
    const value = chosen.map((u) => this.entry(u));
    for (const item of value) {
      const problem = this.schema.check('userRegistrationDetails', item);
      if (problem) throw new Error(`the stand-in's own userRegistrationDetails is not Graph's: ${problem}`);
    }
    return {
      status: 200,
      body: {
        '@odata.context': `${this.base()}/$metadata#reports/authenticationMethods/userRegistrationDetails`,
        value,
      },
    };
  }

  private entry(user: Props): Props {
    const id = String(user.id);
    const registeredAt = this.mfa.get(id);
    const registered = registeredAt !== undefined;
    return {
      id,
      userPrincipalName: String(user.userPrincipalName),
      userDisplayName: String(user.displayName ?? ''),
      userType: 'member',
      isAdmin: false,
      isSsprRegistered: false,
      isSsprEnabled: false,
      isSsprCapable: false,
      isMfaRegistered: registered,
      isMfaCapable: registered,
      isPasswordlessCapable: false,
      isSystemPreferredAuthenticationMethodEnabled: true,
      methodsRegistered: registered ? ['microsoftAuthenticatorPush'] : [],
      systemPreferredAuthenticationMethods: registered ? ['push'] : [],
      userPreferredMethodForSecondaryAuthentication: registered ? 'push' : 'none',
      lastUpdatedDateTime: registeredAt ?? String(user.createdDateTime ?? this.now().toISOString()),
    };
  }
}
