import type { DuplicateMatch } from './duplicates.js';
import type { DsptStatus } from './organisation.js';
import type { Status } from './status.js';

/**
 * Every error code the bot answers with, and when it happens: the refusals and the malformed
 * input of the commands (DomainError), and the few failures only an adapter names (a request
 * without the feed's secret, a bug). Adapters switch on these; a code not listed here does not
 * compile, and docs/errors.md is checked against this list.
 */
export const ERROR_CODES = {
  ACCOUNT_NOT_FOUND: 'The address is not an account the bot manages.',
  ADDRESS_REQUIRED: 'A command that acts on one account was given no address.',
  ADDRESS_TAKEN: 'A site’s shared mailbox address was used once before, and addresses are never reused.',
  ALREADY_DISABLED:
    'A disable was asked for an account already disabled with the same reason and return date.',
  ALREADY_GP_LOCUM:
    'The GP-locum route (leaver --gp-locum) was asked for an account already homed in the GP-locum organisation.',
  ALREADY_LEAVER: 'A leaver, or a transfer, was asked for an account that is already a leaver.',
  BAD_OPTION: 'An option is not one the command takes, has no value, or was given twice.',
  BODY_TOO_LARGE: 'An HTTP request body (or its number of events) is over the endpoint’s limit.',
  CANNOT_KEEP_MOBILE:
    'An SMS sent later (a starter due later, or a directory user) needs the mobile kept, and HR_DATA_KEY is not set.',
  CATEGORY_REQUIRED: '"contact" was given no category.',
  CHANNEL_REQUIRED: 'A channel subscription was asked for outside a Slack or Teams channel.',
  COMMAND_LINE_ONLY: 'An HR import was asked for from chat: it runs on the command line or the HR feed.',
  CQC_LOCATION_REQUIRED: 'A care home was registered without its CQC location ID (--cqc-location).',
  DELIVERY_UNAVAILABLE: 'The delivery route for the temporary password (SMS, envelope) is not set up.',
  DIRECTORY_BUSY:
    'An import or drift round is already reading the directory; two at once would undo each other.',
  DIRECTORY_CONFLICT:
    'A retry was asked for a directory change in conflict: an object the bot did not make holds the address.',
  DIRECTORY_EFFECT_NOT_CONFLICT:
    'An adoption (--adopt) was asked for a directory change that is not a new account in conflict.',
  DIRECTORY_EFFECT_NOT_FAILED: 'A retry was asked for a directory change that is not parked as failed.',
  DIRECTORY_EFFECT_NOT_FOUND: 'There is no directory change with that number.',
  DIRECTORY_NOT_CONFIGURED:
    'A command needs the directory (directory import, reapply) and DIRECTORY=entra with the GRAPH_ variables is not set.',
  DIRECTORY_PERMISSIONS_MISSING:
    'DIRECTORY=entra, but the app registration’s token lacks Graph application permissions the directory needs.',
  DSPT_TOO_LOW: 'A site cannot be registered: its DSPT status is below what its kind needs.',
  DUPLICATE_PERSON: 'The person being provisioned matches an existing account (one account per person).',
  EMPLOYEE_AMBIGUOUS: 'A leaver row’s employee number belongs to starters of several organisations.',
  EMPLOYEE_NOT_KNOWN: 'A leaver row’s employee number was never imported as a starter with an account.',
  EMPTY_COMMAND: 'No command words were given.',
  FILE_EMPTY: 'An imported file (ODS extract, activity report) is empty.',
  FILE_LAYOUT: 'An HR file lacks a required column, or is not CSV at some line.',
  FILE_NOT_READABLE: 'A file named in a command could not be opened.',
  FIRST_LOGIN_NEEDED: 'A pending account cannot become active before its first login is recorded.',
  FIRST_LOGIN_NOT_SELF: 'A holder tried to record their own first login.',
  FUTURE_TIME: 'An activity time is in the future.',
  GRACE_EXPIRED: 'A joiner was asked for an account whose grace period is over.',
  GRANT_NOT_ALLOWED: 'The actor may not grant (or revoke) that role in that organisation.',
  GRAPH_ERROR:
    'Microsoft Graph answered the users list with something unexpected (a bad or looping next page).',
  GRAPH_LICENCE_REQUIRED: 'The tenant lacks the Entra ID P1/P2 licence signInActivity needs.',
  GRAPH_PERMISSION_DENIED: 'Microsoft Graph refused the app registration (401/403): a permission is missing.',
  GRAPH_THROTTLED: 'Microsoft Graph kept throttling (429/503/504) after every retry.',
  GRAPH_TOKEN_REFUSED: 'No Microsoft Graph token could be had for the app registration.',
  GRAPH_UNREACHABLE: 'Microsoft Graph could not be reached at all.',
  IDENTITY_NOT_VERIFIED:
    'A chat user whose @nhs.net address the bot does not know ran a command beyond help and contact.',
  INFRASTRUCTURE:
    'The machine around the bot failed (database unreachable, a file not writable): CLI --json only.',
  INTERNAL_ERROR: 'A bug in the bot, or an outage it did not expect; the reference finds the log lines.',
  INVALID_ADDRESS: 'An address is not an email address, or not a valid @nhs.net local part.',
  INVALID_BODY: 'An HTTP request body is not the JSON the endpoint documents.',
  INVALID_CATEGORY: 'A "contact" category is not one of the known ones.',
  INVALID_CHAT_USER: 'A chat user is neither a mention nor slack:TEAM:USER / teams:TENANT:USER.',
  INVALID_CQC_LOCATION:
    'A CQC location ID is not "1-" then digits, or was given for a site that is not a care home.',
  INVALID_DATE: 'A date is not YYYY-MM-DD, or not a day that exists.',
  INVALID_DELIVERY: 'A delivery route is not sms or envelope.',
  INVALID_DSPT: 'A DSPT status is not one of the known statuses.',
  INVALID_EMPLOYEE_NUMBER: 'An HR row’s employee number is missing or malformed.',
  INVALID_EVENTS: 'Some events posted to POST /activity are not {address, at} with both strings.',
  INVALID_FILE: 'An ODS extract is not 27-column quoted CSV.',
  INVALID_GROUP: 'A directory group is not an Entra object id (a GUID).',
  INVALID_ID: 'A notification or directory change number is not a positive whole number.',
  INVALID_KIND: 'An organisation kind is not one allowed there.',
  INVALID_MOBILE: 'A mobile number is not a UK mobile.',
  INVALID_NAME: 'A name has characters or a length no address can be made from.',
  INVALID_NUMBER: 'A number is not a whole number, or is out of its range.',
  INVALID_ODS: 'An ODS code is not 3 to 6 letters and digits.',
  INVALID_RANGE: 'A --from date is after the --to date.',
  INVALID_REGISTRATION: 'A professional registration is not BODY:NUMBER in that body’s format.',
  INVALID_REPORT: 'An activity report lacks its columns, or is not readable CSV.',
  INVALID_ROLE: 'A role name is not one of the roles.',
  INVALID_TIME: 'A time is not ISO-8601.',
  INVALID_REASON: 'A reason (--reason) is empty, over 200 characters, or spans lines.',
  INVALID_UNTIL:
    'A return date (--until) is not in the future, or falls after the disabled account is deleted.',
  LINK_BEYOND_YOUR_ROLES: 'A link would hand a chat user roles the linking administrator does not hold.',
  LINK_NOT_ALLOWED: 'The actor may not link a chat user to that address.',
  LINK_NOT_SELF: 'An administrator tried to link their own chat account.',
  LINK_NOT_YOURS: 'The chat user is already linked to an address the actor could not link them to.',
  MALFORMED_REQUEST:
    'An HTTP request to a chat route is not a Slack payload or Bot Framework activity the bot serves.',
  METHOD_NOT_ALLOWED: 'An HTTP request used a method its path does not serve.',
  MFA_REQUIRED: 'An account whose organisation requires MFA cannot become active before MFA is registered.',
  MISSING_ARGUMENT: 'A command lacks a word it needs.',
  MISSING_OPTION: 'A command lacks a required option.',
  MOBILE_REQUIRED: 'SMS delivery was asked for without a mobile number.',
  NAS_ONLY:
    'Only NAS administrators may do this (restore an account, DSPT, directory group, site, GP locum).',
  NOT_DISABLED: 'An enable was asked for an account that is not disabled.',
  NO_MANUAL_STEP: 'A site’s shared mailbox was marked as made, but none was waiting to be made.',
  NOT_ACTIVE: 'The account’s status does not allow this (a leaver, a transfer, activity) now.',
  NOT_A_FILE: 'A path named in a command is a directory, pipe or device, not a regular file.',
  NOT_A_LEAVER: 'A joiner was asked for an account that is not a leaver.',
  NOT_A_SITE: 'A site command or role named an organisation that is not a community site.',
  NOT_FOUND: 'An HTTP request asked for a path the bot does not serve in this configuration.',
  NOT_INACTIVE: 'A reactivation was asked for an account that is neither inactive nor deleted.',
  NOT_NHS_NET: 'An address is not an @nhs.net address.',
  NOT_PENDING: 'A first login was recorded for an account that is not pending.',
  NOT_SITE_OWNER: 'Someone other than the site’s owner or NAS asked for an account at a site.',
  NOT_YOUR_ORGANISATION: 'The actor has no role over the organisation the account or request belongs to.',
  NOTHING_TO_REAPPLY:
    'The last drift report has nothing for the account that reapplying to the directory settles.',
  NOTHING_TO_REMIND: 'A reminder was asked for an account with no holder to remind (shared, inactive, …).',
  NOTIFICATION_NOT_FAILED: 'A retry was asked for a notification that is not parked as failed.',
  NOTIFICATION_NOT_FOUND: 'There is no notification with that number.',
  NO_GP_LOCUM_ORG:
    'The GP-locum route (leaver --gp-locum) needs one GP-locum organisation, and none (or several) is registered.',
  NO_DIRECTORY_GROUP:
    'A directory import was limited to an organisation with no directory group (org group).',
  NO_ORGANISATION: 'A list of an organisation’s accounts was asked for by someone who manages none.',
  OPERATOR_ONLY: 'Only the operator (or the scheduler) may do this: imports, sweeps, reminders, org add.',
  ORG_EXISTS: 'An organisation or site with that ODS code is already registered.',
  ORG_NOT_EXPECTED: 'An --org was given for a national role.',
  ORG_NOT_FOUND: 'No organisation with that ODS code is registered.',
  ORG_REQUIRED: 'A role that holds for one organisation was given no --org.',
  OUT_REQUIRED: 'An export from chat was asked for without --out FILE.',
  OVERRIDE_NOT_ALLOWED: 'Someone other than NAS tried to override a duplicate match.',
  PURGED: 'The account was purged: its restore window is over.',
  REASON_REQUIRED: 'An override was given no reason, or one too short for an auditor.',
  REMINDED_RECENTLY: 'The holder was reminded within the last hour.',
  RESTORE_WINDOW_ENDED: 'A deleted account’s restore window has ended.',
  RETENTION_ENDED: 'An inactive account’s retention period has ended.',
  ROW_NOT_WRITTEN:
    'The database refused to store one row of an HR import: that row is rejected, the rest go on.',
  SAME_ORGANISATION: 'A transfer was asked to the organisation the account is already homed in.',
  SHARED_MAILBOX: 'A person’s action (leaver, transfer…) was asked for a site’s shared mailbox.',
  SITE_ACCOUNT_LIMIT: 'A site already has its maximum number of individual accounts.',
  SITE_DSPT_LAPSED: 'A site’s DSPT status is below what it needs to take new accounts.',
  SMS_NOT_SENT: 'GOV.UK Notify did not send the temporary password by SMS.',
  TOO_MANY_WORDS: 'A command was given more words than it takes.',
  UNAUTHORISED: 'A feed request had no Authorization: Bearer secret, or the wrong one.',
  UNCLOSED_QUOTE: 'A quote in the command was opened but not closed.',
  UNKNOWN_ACTION: 'A Teams card action is not one the bot offers.',
  UNKNOWN_COMMAND: 'The first word is not a command.',
} as const satisfies Record<string, string>;

/** A code from the catalogue: a code not listed there does not compile. */
export type ErrorCode = keyof typeof ERROR_CODES;

export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as ErrorCode[];

export const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ERROR_CODES, code);

/**
 * The structured facts a code carries for adapters, by code. A code not listed carries none; a
 * renamed key here fails to compile wherever it is set or read.
 */
export interface ErrorDetailsByCode {
  /** The address looked up. */
  ACCOUNT_NOT_FOUND: { address: string };
  /** The change in conflict, and the address the directory holds for another object. */
  DIRECTORY_CONFLICT: { id: number; address: string };
  DIRECTORY_EFFECT_NOT_CONFLICT: { id: number; state: 'pending' | 'applied' | 'failed' | 'conflict' };
  DIRECTORY_EFFECT_NOT_FAILED: { id: number; state: 'pending' | 'applied' };
  DIRECTORY_EFFECT_NOT_FOUND: { id: number };
  /** The Graph application permissions the directory needs and the token does not carry. */
  DIRECTORY_PERMISSIONS_MISSING: { missing: string[] };
  /** The site's status, and the least its kind needs. */
  DSPT_TOO_LOW: { dspt: DsptStatus; minimum: DsptStatus };
  /** The existing accounts the person matched (Slack and Teams offer a joiner into each). */
  DUPLICATE_PERSON: { matches: DuplicateMatch[] };
  /** The rows (from 0, at most 10) whose events are not {address, at}. */
  INVALID_EVENTS: { rows: number[] };
  /** The account's status and home organisation, when it is not a leaver at another one. */
  NOT_A_LEAVER: { status: Status; org: string } | NoDetails;
  /** The organisation the actor has no role over, where the refusal names one. */
  NOT_YOUR_ORGANISATION: { org?: string };
  NOTIFICATION_NOT_FAILED: { id: number; state: 'pending' | 'delivered' | 'failed' };
  NOTIFICATION_NOT_FOUND: { id: number };
  ORG_NOT_FOUND: { ods: string };
  /** The site, its accounts that count against the limit, and the limit. */
  SITE_ACCOUNT_LIMIT: { ods: string; used: number; limit: number };
  /** The site, its status (null: never recorded), and the least its kind needs. */
  SITE_DSPT_LAPSED: { ods: string; dspt: DsptStatus | null; minimum: DsptStatus };
}

/** What a code carries: its entry in ErrorDetailsByCode, or nothing. */
export type ErrorDetails<C extends ErrorCode> = C extends keyof ErrorDetailsByCode
  ? ErrorDetailsByCode[C]
  : NoDetails;

/** The details of a code that carries none. */
export type NoDetails = Record<string, never>;
