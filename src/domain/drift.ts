import type { Effect } from './effects.js';
import type { Status } from './status.js';

/**
 * Drift between the directory and the bot (issue 15, point 3): each way they disagree, decided
 * here with no I/O, each line with the command that settles it. Nothing is changed on the
 * directory's word: a line is for a person to settle, by making the directory agree with the bot
 * (`directory reapply`) or the bot with the directory (`leaver`, `reactivate`, `transfer`…).
 */

export const DRIFT_KINDS = [
  'not-in-bot',
  'not-in-directory',
  'deleted-in-directory',
  'enabled-mismatch',
  'group-mismatch',
  'name-mismatch',
] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

/** How a kind reads in a count ("4 not in the bot"). */
export const DRIFT_KIND_LABELS: Record<DriftKind, string> = {
  'not-in-bot': 'not in the bot',
  'not-in-directory': 'not in the directory',
  'deleted-in-directory': 'deleted in the directory',
  'enabled-mismatch': 'enabled/disabled',
  'group-mismatch': 'in the wrong group',
  'name-mismatch': 'with other names',
};

/** A directory user as the mirror holds it (db: directory_users). */
export interface MirroredUser {
  id: string;
  /** The @nhs.net address its userPrincipalName gives, or null. */
  address: string | null;
  userPrincipalName: string | null;
  given: string | null;
  surname: string | null;
  accountEnabled: boolean | null;
  removed: 'changed' | 'deleted' | null;
}

/** An account as drift compares it. */
export interface ComparedAccount {
  id: number;
  address: string;
  kind: 'person' | 'shared';
  status: Status;
  homeOrg: string;
  given: string | null;
  family: string | null;
  directoryId: string | null;
  purged: boolean;
  /** Its create-user directory effect, while queued (`pending`) or parked. */
  createEffect: { id: number; state: 'pending' | 'failed' | 'conflict' } | null;
}

/** What a line keeps for the command that shows it and for `directory reapply`. */
export interface DriftDetail {
  accountId: number | null;
  directoryId: string | null;
  /** The bot's status, for an account. */
  status: Status | null;
  /** The directory's values. */
  enabled: boolean | null;
  removed: 'changed' | 'deleted' | null;
  /** The organisations whose directory groups hold the user. */
  groups: string[];
  given: string | null;
  surname: string | null;
  /** The bot's names, for a name line. */
  botGiven?: string | null;
  botFamily?: string | null;
  /** A parked create-user effect, for an account the directory never made. */
  effect?: { id: number; state: 'failed' | 'conflict' };
  /** A live directory user holding the address of an account whose own user was deleted for good. */
  successor?: string;
  /** What the line says, and the command that settles it. */
  says: string;
  settle: string;
}

export interface DriftLine {
  /** Kind and address (or directory id): what persists from one run to the next. */
  key: string;
  kind: DriftKind;
  address: string | null;
  directoryId: string | null;
  org: string | null;
  detail: DriftDetail;
}

/** Statuses whose account the directory should hold as a live user. */
const LIVE: readonly Status[] = ['pending', 'active', 'leaver', 'disabled', 'inactive'];
/** Statuses whose user should be able to sign in (a leaver keeps a usable account through grace). */
const ENABLED: readonly Status[] = ['pending', 'active', 'leaver'];
/** Statuses whose user belongs in its home organisation's group (a leaver has left it). */
const IN_HOME_GROUP: readonly Status[] = ['pending', 'active', 'disabled', 'inactive'];

export interface DirectoryPicture {
  users: Iterable<MirroredUser>;
  accounts: Iterable<ComparedAccount>;
  /** The organisations whose groups hold each user, by directory id. */
  groups: ReadonlyMap<string, readonly string[]>;
  /** Organisations with a directory group (`org group`). */
  mapped: ReadonlySet<string>;
}

/**
 * Every line of drift, sorted by kind then address. Accounts match directory users by directory id,
 * else by address. Shared mailboxes are matched (their address is the bot's) but not compared:
 * a person makes them in Exchange (manual steps), so the directory's view of them is not the bot's
 * to judge. Names compare after trimming, case-sensitively: `directory reapply` writes the bot's
 * names exactly, so "mcdonald" against "McDonald" is a difference the global address list shows.
 * A name the directory does not hold, or the bot does not, is not compared.
 */
export function compareDirectory(picture: DirectoryPicture): DriftLine[] {
  const byId = new Map<string, MirroredUser>();
  const byAddress = new Map<string, MirroredUser>();
  for (const u of picture.users) {
    byId.set(u.id, u);
    if (u.address === null) continue;
    // A live user wins the address over a removed one holding it from before.
    const held = byAddress.get(u.address);
    if (!held || (held.removed !== null && u.removed === null)) byAddress.set(u.address, u);
  }
  const lines: DriftLine[] = [];
  const matched = new Set<string>();
  const known = new Set<string>();
  const groupsOf = (id: string | null) => [...((id && picture.groups.get(id)) || [])].sort();

  for (const a of picture.accounts) {
    known.add(a.address);
    // An account whose creation is still queued or parked has no directory user yet: whoever holds
    // its address is someone else (a conflict) until `directory retry --adopt` says otherwise.
    const user =
      a.directoryId !== null
        ? (byId.get(a.directoryId) ?? byAddress.get(a.address))
        : a.createEffect === null
          ? byAddress.get(a.address)
          : undefined;
    if (user) matched.add(user.id);
    if (a.kind !== 'person' || a.purged) continue;
    const groups = groupsOf(user?.id ?? null);
    const base = {
      accountId: a.id,
      directoryId: user?.id ?? a.directoryId,
      status: a.status,
      enabled: user?.accountEnabled ?? null,
      removed: user?.removed ?? null,
      groups,
      given: user?.given ?? null,
      surname: user?.surname ?? null,
    };
    const line = (kind: DriftKind, says: string, settle: string, extra: Partial<DriftDetail> = {}) =>
      lines.push({
        key: `${kind}:${a.address}`,
        kind,
        address: a.address,
        directoryId: base.directoryId,
        org: a.homeOrg,
        detail: { ...base, ...extra, says, settle },
      });

    if (a.status === 'deleted') {
      if (user && user.removed === null && user.accountEnabled === true) {
        line(
          'enabled-mismatch',
          'the bot has it deleted; the directory has it live and enabled',
          `directory reapply ${a.address} (deletes it in the directory again, restorable there for 30 days) or reactivate ${a.address}`,
        );
      }
      continue;
    }
    if (!LIVE.includes(a.status)) continue;
    if (!user || user.removed === 'deleted') {
      if (a.createEffect?.state === 'pending') continue;
      const says = user
        ? `the bot has it ${a.status}; the directory deleted it for good`
        : `the bot has it ${a.status}; the directory has no such user`;
      if (a.createEffect) {
        const { id, state } = a.createEffect;
        line(
          'not-in-directory',
          `${says}: its creation is parked (${state})`,
          state === 'conflict'
            ? `directory retry ${id} --adopt, once the directory user holding ${a.address} is known to be this person`
            : `directory retry ${id}`,
          { effect: { id, state } },
        );
      } else {
        // The account's own directory user is gone for good, and a live one now holds the address.
        const other = byAddress.get(a.address);
        const successor = other && other.removed === null && other.id !== user?.id ? other : null;
        line(
          'not-in-directory',
          successor ? `${says}; another directory user (${successor.id}) now holds the address` : says,
          successor
            ? `directory import links the account to ${successor.id}, once you have checked it is this person; or leaver ${a.address} if the person has gone`
            : `make it in Entra, then directory import links it; or leaver ${a.address} if the person has gone`,
          successor ? { successor: successor.id } : {},
        );
      }
      continue;
    }
    if (user.removed === 'changed') {
      line(
        'deleted-in-directory',
        `the bot has it ${a.status}; the directory has it in its deleted users`,
        `directory reapply ${a.address} (restores it) or leaver ${a.address}`,
      );
      continue;
    }
    if (user.accountEnabled === false && ENABLED.includes(a.status)) {
      line(
        'enabled-mismatch',
        `the bot has it ${a.status}; the directory has it disabled`,
        `directory reapply ${a.address} (enables it) or leaver ${a.address}`,
      );
    } else if (user.accountEnabled === true && !ENABLED.includes(a.status)) {
      line(
        'enabled-mismatch',
        `the bot has it ${a.status}; the directory has it enabled`,
        `directory reapply ${a.address} (disables it) or ${a.status === 'disabled' ? 'enable' : 'reactivate'} ${a.address}`,
      );
    }
    const home = picture.mapped.has(a.homeOrg) ? a.homeOrg : null;
    const others = groups.filter((o) => o !== a.homeOrg);
    const inHome = groups.includes(a.homeOrg);
    const wantHome = IN_HOME_GROUP.includes(a.status);
    const wrong: string[] = [];
    if (home !== null && wantHome && !inHome) wrong.push(`not in ${home}’s group`);
    if (home !== null && !wantHome && inHome) wrong.push(`a ${a.status}, still in ${home}’s group`);
    if (others.length > 0) wrong.push(`in the group of ${others.join(' and ')}`);
    if (wrong.length > 0) {
      const to =
        others.length === 1 ? ` or transfer ${a.address} --to ${others[0]} when it belongs there` : '';
      line(
        'group-mismatch',
        `home ${a.homeOrg}: ${wrong.join('; ')}`,
        `directory reapply ${a.address} (puts it in its home group only)${to}`,
      );
    }
    const differs = (bot: string | null, dir: string | null) =>
      bot !== null && dir !== null && bot.trim() !== dir.trim();
    if (differs(a.given, user.given) || differs(a.family, user.surname)) {
      line(
        'name-mismatch',
        `the bot has ${a.given ?? ''} ${a.family ?? ''}; the directory has ${user.given ?? ''} ${user.surname ?? ''}`,
        `directory reapply ${a.address} (writes the bot’s names)`,
        { botGiven: a.given, botFamily: a.family },
      );
    }
  }

  for (const u of byId.values()) {
    if (u.removed !== null || u.address === null || matched.has(u.id) || known.has(u.address)) continue;
    const groups = groupsOf(u.id);
    const only = groups.length === 1 ? (groups[0] ?? null) : null;
    const settle =
      only !== null
        ? `directory import --org ${only}`
        : groups.length > 1
          ? `leave it in one organisation’s group in Entra (it is in ${groups.join(' and ')}), then directory import`
          : 'org group --ods ODS --group OBJECT_ID (the group it belongs in), then directory import';
    lines.push({
      key: `not-in-bot:${u.address}`,
      kind: 'not-in-bot',
      address: u.address,
      directoryId: u.id,
      org: only,
      detail: {
        accountId: null,
        directoryId: u.id,
        status: null,
        enabled: u.accountEnabled,
        removed: null,
        groups,
        given: u.given,
        surname: u.surname,
        says: `the directory has ${u.address}${groups.length ? ` (in ${groups.join(' and ')}’s group)` : ' (in no organisation’s group)'}; the bot does not`,
        settle,
      },
    });
  }
  const order = (k: DriftKind) => DRIFT_KINDS.indexOf(k);
  return lines.sort(
    (x, y) => order(x.kind) - order(y.kind) || (x.address ?? '').localeCompare(y.address ?? ''),
  );
}

/** Counts per kind, every kind present. */
export function driftCounts(lines: readonly { kind: DriftKind }[]): Record<DriftKind, number> {
  const out = Object.fromEntries(DRIFT_KINDS.map((k) => [k, 0])) as Record<DriftKind, number>;
  for (const l of lines) out[l.kind]++;
  return out;
}

/** "4 not in the bot, 2 enabled/disabled": the kinds with lines, in order. */
export function describeCounts(counts: Record<DriftKind, number>): string {
  return DRIFT_KINDS.filter((k) => counts[k] > 0)
    .map((k) => `${counts[k]} ${DRIFT_KIND_LABELS[k]}`)
    .join(', ');
}

/** What `directory reapply` reads of the last report: one line's kind and detail. */
export interface ReportedDrift {
  kind: DriftKind;
  detail: DriftDetail;
}

/** Drift that reapplying the bot's record settles; the others are settled another way. */
const REAPPLIED: readonly DriftKind[] = [
  'deleted-in-directory',
  'enabled-mismatch',
  'group-mismatch',
  'name-mismatch',
];

export type ReapplyDecision =
  | { kind: 'reapply'; effect: Effect; settles: ReportedDrift[]; directoryId: string | null }
  | { kind: 'refused'; reason: string };

/**
 * `directory reapply` (issue 15): the one directory change that writes what the bot already holds
 * for an account, where the last report found the directory apart from it; or why not. It acts
 * only on the directory user the account is tied to: never while its creation is queued or parked
 * (whoever holds the address then is someone else until `directory retry --adopt`), never on a
 * line about another object than the account's own. A deleted account's user is deleted again,
 * and only when the account is tied to it by id, not found by its address.
 */
export function decideReapply(
  account: {
    id: number;
    address: string;
    status: Status;
    homeOrg: string;
    given: string | null;
    family: string | null;
    directoryId: string | null;
  },
  lines: readonly ReportedDrift[],
  creating: { id: number; state: string } | null,
): ReapplyDecision {
  if (creating !== null) {
    return {
      kind: 'refused',
      reason: `${account.address} is still being made in the directory (change ${creating.id}, ${creating.state}): until it is, the directory user holding the address is not known to be this person. ${creating.state === 'pending' ? 'Wait for the directory worker' : `"directory failed" shows why; retry it ("directory retry ${creating.id}", or "--adopt" once you have checked the user is this person)`}.`,
    };
  }
  const own = lines.filter(
    (l) =>
      l.detail.accountId === account.id &&
      (account.directoryId === null || l.detail.directoryId === account.directoryId),
  );
  const missing = own.find((l) => l.kind === 'not-in-directory');
  const names =
    account.given !== null && account.family !== null
      ? { given: account.given, family: account.family }
      : null;
  const settles = own.filter(
    (l) => REAPPLIED.includes(l.kind) && (l.kind !== 'name-mismatch' || names !== null),
  );
  if (settles.length === 0) {
    return {
      kind: 'refused',
      reason: missing
        ? `${account.address} is not in the directory at all, which reapplying cannot mend: ${missing.detail.settle}.`
        : `The last drift report has nothing for ${account.address} that reapplying settles. "directory drift" shows the report; a change made in Entra since shows after the Graph job's next run (GRAPH_SCHEDULE).`,
    };
  }
  const has = (kind: DriftKind) => settles.some((l) => l.kind === kind);
  const directoryId = settles.find((l) => l.detail.directoryId !== null)?.detail.directoryId ?? null;
  if (account.status === 'deleted') {
    if (account.directoryId === null) {
      return {
        kind: 'refused',
        reason: `${account.address} is deleted in the bot, and the live directory user holding its address was found by the address alone, so it may not be this person's: the bot will not delete it. Check it in the Entra admin centre and delete it there if it is, or reactivate ${account.address} if the person still needs it.`,
      };
    }
    return { kind: 'reapply', effect: { kind: 'delete', address: account.address }, settles, directoryId };
  }
  const effect: Effect = {
    kind: 'reconcile',
    address: account.address,
    org: account.homeOrg,
    restore: has('deleted-in-directory'),
    enabled: ENABLED.includes(account.status),
    names: has('name-mismatch') ? names : null,
    inHomeGroup: IN_HOME_GROUP.includes(account.status),
    leave: [...new Set(settles.flatMap((l) => l.detail.groups))].filter((o) => o !== account.homeOrg).sort(),
  };
  return { kind: 'reapply', effect, settles, directoryId };
}
