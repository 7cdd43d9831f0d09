import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { DetailsArg, ErrorCode, ErrorDetails } from '../src/domain/errors.js';

/** The statuses an HTTP endpoint of the bot answers an error with. */
export type HttpErrorStatus = 400 | 401 | 403 | 404 | 405 | 413 | 500;

/**
 * The status every code is answered with over HTTP: malformed input 400, a rule or permission
 * 403, and the failures of HTTP itself as HTTP names them. Exhaustive, so that a new code needs
 * a decision here; codes no endpoint answers today (the CLI's, Graph's) get what their kind says.
 */
export const HTTP_STATUS = {
  ACCOUNT_NOT_FOUND: 403,
  ADDRESS_REQUIRED: 400,
  ADDRESS_TAKEN: 403,
  ALREADY_DISABLED: 403,
  ALREADY_GP_LOCUM: 403,
  ALREADY_LEAVER: 403,
  BAD_OPTION: 400,
  BODY_TOO_LARGE: 413,
  CANNOT_KEEP_MOBILE: 403,
  CATEGORY_REQUIRED: 400,
  CHANNEL_REQUIRED: 400,
  COMMAND_LINE_ONLY: 403,
  CQC_LOCATION_REQUIRED: 400,
  DELIVERY_UNAVAILABLE: 403,
  DIRECTORY_BUSY: 403,
  DIRECTORY_CONFLICT: 403,
  DIRECTORY_EFFECT_NOT_CONFLICT: 403,
  DIRECTORY_EFFECT_NOT_FAILED: 403,
  DIRECTORY_EFFECT_NOT_FOUND: 403,
  DIRECTORY_NOT_CONFIGURED: 403,
  DIRECTORY_PERMISSIONS_MISSING: 403,
  DSPT_TOO_LOW: 403,
  DUPLICATE_PERSON: 403,
  EMPLOYEE_AMBIGUOUS: 403,
  EMPLOYEE_NOT_KNOWN: 403,
  EMPTY_COMMAND: 400,
  FILE_EMPTY: 400,
  FILE_LAYOUT: 400,
  FILE_NOT_READABLE: 400,
  FIRST_LOGIN_NEEDED: 403,
  FIRST_LOGIN_NOT_SELF: 403,
  FUTURE_TIME: 400,
  GRACE_EXPIRED: 403,
  GRANT_NOT_ALLOWED: 403,
  GRAPH_ERROR: 403,
  GRAPH_LICENCE_REQUIRED: 403,
  GRAPH_PERMISSION_DENIED: 403,
  GRAPH_THROTTLED: 403,
  GRAPH_TOKEN_REFUSED: 403,
  GRAPH_UNREACHABLE: 403,
  IDENTITY_NOT_VERIFIED: 403,
  INFRASTRUCTURE: 500,
  INTERNAL_ERROR: 500,
  INVALID_ADDRESS: 400,
  INVALID_BODY: 400,
  INVALID_CATEGORY: 400,
  INVALID_CHAT_USER: 400,
  INVALID_CQC_LOCATION: 400,
  INVALID_DATE: 400,
  INVALID_DELIVERY: 400,
  INVALID_DSPT: 400,
  INVALID_EMPLOYEE_NUMBER: 400,
  INVALID_EVENTS: 400,
  INVALID_FILE: 400,
  INVALID_GROUP: 400,
  INVALID_ID: 400,
  INVALID_KIND: 400,
  INVALID_MOBILE: 400,
  INVALID_NAME: 400,
  INVALID_NUMBER: 400,
  INVALID_ODS: 400,
  INVALID_RANGE: 400,
  INVALID_REGISTRATION: 400,
  INVALID_REPORT: 400,
  INVALID_ROLE: 400,
  INVALID_TIME: 400,
  INVALID_REASON: 400,
  INVALID_UNTIL: 400,
  LINK_BEYOND_YOUR_ROLES: 403,
  LINK_NOT_ALLOWED: 403,
  LINK_NOT_SELF: 403,
  LINK_NOT_YOURS: 403,
  MALFORMED_REQUEST: 400,
  METHOD_NOT_ALLOWED: 405,
  MFA_REQUIRED: 403,
  MISSING_ARGUMENT: 400,
  MISSING_OPTION: 400,
  MOBILE_REQUIRED: 400,
  NAS_ONLY: 403,
  NOT_DISABLED: 403,
  NO_GP_LOCUM_ORG: 403,
  NO_MANUAL_STEP: 403,
  NOT_ACTIVE: 403,
  NOT_A_FILE: 400,
  NOT_A_LEAVER: 403,
  NOT_A_SITE: 403,
  NOT_FOUND: 404,
  NOT_INACTIVE: 403,
  NOT_NHS_NET: 400,
  NOT_PENDING: 403,
  NOT_SITE_OWNER: 403,
  NOT_YOUR_ORGANISATION: 403,
  NOTHING_TO_REAPPLY: 403,
  NOTHING_TO_REMIND: 403,
  NOTIFICATION_NOT_FAILED: 403,
  NOTIFICATION_NOT_FOUND: 403,
  NO_DIRECTORY_GROUP: 403,
  NO_ORGANISATION: 403,
  OPERATOR_ONLY: 403,
  ORG_EXISTS: 403,
  ORG_NOT_EXPECTED: 400,
  ORG_NOT_FOUND: 403,
  ORG_REQUIRED: 400,
  OUT_REQUIRED: 400,
  OVERRIDE_NOT_ALLOWED: 403,
  PURGED: 403,
  REASON_REQUIRED: 400,
  REMINDED_RECENTLY: 403,
  RESTORE_WINDOW_ENDED: 403,
  RETENTION_ENDED: 403,
  ROW_NOT_WRITTEN: 400,
  SAME_ORGANISATION: 403,
  SHARED_MAILBOX: 403,
  SITE_ACCOUNT_LIMIT: 403,
  SITE_DSPT_LAPSED: 403,
  SMS_NOT_SENT: 403,
  TOO_MANY_WORDS: 400,
  UNAUTHORISED: 401,
  UNCLOSED_QUOTE: 400,
  UNKNOWN_ACTION: 400,
  UNKNOWN_COMMAND: 400,
} as const satisfies Record<ErrorCode, HttpErrorStatus>;

/**
 * The one shape of every error an HTTP endpoint of the bot answers (the shape of the CLI's
 * `--json` errors): `{"error": {"code", "message"}}`, with `details` when the code carries any.
 */
export interface HttpErrorBody<C extends ErrorCode = ErrorCode> {
  error: { code: C; message: string; details?: ErrorDetails<C> };
}

/** An error body for `code`, its details typed by the code (left out when there are none). */
export function httpError<C extends ErrorCode>(
  code: C,
  message: string,
  ...details: DetailsArg<C>
): HttpErrorBody<C> {
  const [facts] = details;
  return {
    error: {
      code,
      message,
      ...(facts !== undefined && Object.keys(facts).length > 0 ? { details: facts } : {}),
    },
  };
}

/** Answers the error with its code's status, as JSON never cached; `headers` add to (or replace) those. */
export function sendError(res: ServerResponse, body: HttpErrorBody, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(HTTP_STATUS[body.error.code], {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(JSON.stringify(body));
}
