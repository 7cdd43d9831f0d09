import { fail, type Reply } from './graph-routes.js';

/**
 * The `$filter` the stand-in's GET /users takes, as Graph v1.0 takes it without advanced query
 * parameters (no ConsistencyLevel header, which the stand-in does not model): one clause,
 * `property eq 'value'` or `property in ('a','b',…)`, on a property Graph filters users by with
 * `eq`/`in` by default. Values are OData string literals (single-quoted, a quote inside doubled);
 * property names match whatever their case, values case-insensitively, as Entra compares strings.
 *
 * Refusals, as Graph words them:
 * - a clause that does not parse (an unclosed quote or parenthesis, an `in` without its list):
 *   400 BadRequest "Invalid filter clause" (microsoftgraph/msgraph-sdk-dotnet#1190,
 *   microsoftgraph/microsoft-graph-docs#3044);
 * - a property or operator not supported by default: 400 Request_UnsupportedQuery "Unsupported or
 *   invalid query filter clause specified for property '…' of resource 'User'." (MicrosoftDocs/
 *   azure-docs#38560);
 * - more than 15 values in an `in` ("the request is limited to 15 expressions in the filter clause
 *   by default", learn.microsoft.com/graph/filter-query-parameter): 400 Request_UnsupportedQuery
 *   "Too many child clauses specified in search filter expression containing 'OR' operators: 16.
 *   Max allowed: 15." (microsoftgraph/microsoft-graph-docs#21098).
 */

/** User properties filtered with eq and in by default (resources/user: "Supports $filter (eq, …, in…)"). */
const FILTERABLE = ['userPrincipalName', 'employeeId', 'mail', 'mailNickname', 'id', 'displayName'];
export const MAX_IN_VALUES = 15;

/** One parsed clause: the property (as the type spells it) and the values it may equal. */
export interface UserFilter {
  property: string;
  values: string[];
}

const LITERAL = "'(?:[^']|'')*'";
const EQ = new RegExp(`^\\s*(\\w+)\\s+eq\\s+(${LITERAL})\\s*$`, 'i');
const IN = new RegExp(`^\\s*(\\w+)\\s+in\\s*\\(\\s*(${LITERAL}(?:\\s*,\\s*${LITERAL})*)\\s*\\)\\s*$`, 'i');

const invalidClause = () => fail(400, 'BadRequest', 'Invalid filter clause');
const unsupported = (property: string) =>
  fail(
    400,
    'Request_UnsupportedQuery',
    `Unsupported or invalid query filter clause specified for property '${property}' of resource 'User'.`,
  );
const unquote = (literal: string) => literal.slice(1, -1).replaceAll("''", "'");

export function parseUserFilter(filter: string): UserFilter | Reply {
  // The clause with every complete literal taken out: a quote left over was never closed.
  const bare = filter.replace(new RegExp(LITERAL, 'g'), 'v');
  const count = (c: string) => bare.split(c).length - 1;
  if (bare.includes("'") || count('(') !== count(')')) return invalidClause();
  const clause = EQ.exec(filter) ?? IN.exec(filter);
  const named = clause?.[1] ?? filter.trim().split(/\s/)[0] ?? '';
  if (!clause) return /^\s*\w+\s+in\b/i.test(bare) ? invalidClause() : unsupported(named);
  const property = FILTERABLE.find((p) => p.toLowerCase() === named.toLowerCase());
  if (property === undefined) return unsupported(named);
  const values = (clause[2]?.match(new RegExp(LITERAL, 'g')) ?? []).map(unquote);
  if (values.length > MAX_IN_VALUES) {
    return fail(
      400,
      'Request_UnsupportedQuery',
      `Too many child clauses specified in search filter expression containing 'OR' operators: ${values.length}. Max allowed: ${MAX_IN_VALUES}.`,
    );
  }
  return { property, values };
}
