/**
 * What the service reads back from the organisation's directory (Entra ID through Microsoft
 * Graph): its users, a round at a time, their last successful sign-in and whether they registered
 * MFA, and who is in a group. Types only: adapters/directory/entra-reader.ts implements them; the import, the drift report
 * and the first-login check (issue 15) use them.
 */

/** One user as the directory holds it. */
export interface DirectoryUser {
  kind: 'user';
  /** The directory's object id: stable across renames, the key for sign-ins and MFA. */
  id: string;
  userPrincipalName: string | null;
  givenName: string | null;
  surname: string | null;
  displayName: string | null;
  /**
   * Whether the account may sign in. Null when the directory did not say: a change round leaves
   * out a property that was never set.
   */
  accountEnabled: boolean | null;
  companyName: string | null;
  employeeId: string | null;
  /** The on-premises extension attributes that are set, by name (`extensionAttribute1`…`15`). */
  extensionAttributes: Readonly<Record<string, string>>;
  /**
   * The properties the entry left out. Graph's change rounds give a changed user's changed
   * properties only, so a property left out there is unchanged, not cleared (null); in a full
   * round, left out means never set. Absent when the reader cannot tell.
   */
  omitted?: readonly MirroredProperty[];
}

/** The properties the directory mirror keeps, which a change round may leave out. */
export const MIRRORED_PROPERTIES = [
  'userPrincipalName',
  'givenName',
  'surname',
  'displayName',
  'accountEnabled',
] as const;
export type MirroredProperty = (typeof MIRRORED_PROPERTIES)[number];

/**
 * A user gone from the directory since the last round. `changed`: deleted into the directory's
 * deleted items, restorable for 30 days; `deleted`: permanently deleted.
 */
export interface RemovedDirectoryUser {
  kind: 'removed';
  id: string;
  reason: 'changed' | 'deleted';
}

export type DirectoryEntry = DirectoryUser | RemovedDirectoryUser;

/**
 * One step of a round of reading the directory:
 * - `page`: the next users (a full round lists everyone; a change round, only what changed);
 * - `done`: the round is complete; `deltaLink` is where the next change round starts, to be stored;
 * - `resync`: the directory no longer knows the stored starting point (expired after seven days,
 *   or reset by Microsoft): start a full round, `readUsers(null)`. Pages already seen in this round
 *   must not be taken as a complete picture.
 */
export type DirectoryReadStep =
  | { kind: 'page'; entries: readonly DirectoryEntry[] }
  | { kind: 'done'; deltaLink: string }
  | { kind: 'resync'; reason: string };

/** Reads the directory. Failures other than `resync` reject with a DomainError that says what to do. */
export interface DirectoryReader {
  /**
   * A round of users: every user when `deltaLink` is null or absent, else the changes since the
   * round that gave it. Ends with one `done` or one `resync` step.
   */
  readUsers(deltaLink?: string | null): AsyncIterable<DirectoryReadStep>;
  /**
   * Every user's last successful sign-in, by directory id; null for one who never signed in.
   * Pages of at most `pageSize` users.
   */
  signIns(pageSize?: number): Promise<ReadonlyMap<string, Date | null>>;
  /**
   * The directory ids of the users directly in a group (an organisation's group, from `org group`):
   * how the import places each user in an organisation. A group the directory does not have rejects
   * with a DomainError naming it. Pages of at most `pageSize` members.
   */
  groupMembers(groupId: string, pageSize?: number): Promise<ReadonlySet<string>>;
  /**
   * The directory ids of the users in the directory's deleted items (restorable for 30 days): what
   * a full round, which lists live users only, cannot tell from users deleted for good.
   */
  deletedUsers(pageSize?: number): Promise<ReadonlySet<string>>;
  /** Whether each user registered MFA, by directory id; a user the report does not list is false. */
  mfaRegistered(ids: readonly string[]): Promise<ReadonlyMap<string, boolean>>;
}
