import type { GraphConfig } from '../../src/config.js';
import { isDomainError, refused } from '../../src/domain/errors.js';
import type { Actor } from '../../src/domain/roles.js';
import type { Logger } from '../../src/logger.js';
import { describeError } from '../../src/safe-errors.js';
import type { ActivityObservation, Disagreement } from '../../src/service/activity-import.js';
import type { RequestContext } from '../../src/service/context.js';
import type { DirectorySignIn, FirstLoginWatch } from '../../src/service/directory-first-logins.js';
import type { Lifecycle } from '../../src/service/lifecycle.js';
import { createEntraReader } from '../directory/entra-reader.js';
import { type GraphTransport, GraphUsersClient, graphClient, type UsersSource } from './client.js';
import { signInOf } from './sign-ins.js';

/** Each list in the report keeps at most this many entries; the counts are always complete. */
export const REPORT_SAMPLE = 100;

/** One run over every user Graph lists: the import report's counts, plus what was skipped and why. */
export interface GraphPollReport {
  pages: number;
  /** Users Graph listed, whatever their address. */
  users: number;
  /** Users with neither mail nor user principal name at @nhs.net: not the bot's business. */
  notNhsMail: number;
  /** @nhs.net users with no sign-in time at all. */
  neverSignedIn: number;
  /** @nhs.net users with a sign-in, handed to recordObservedActivity. */
  observations: number;
  recorded: number;
  unchanged: number;
  unknownCount: number;
  /** @nhs.net addresses signed in at Entra that the bot does not manage (the first REPORT_SAMPLE). */
  unknown: string[];
  invalidCount: number;
  /** Addresses that end in @nhs.net but are not valid NHSmail addresses, with why. */
  invalid: string[];
  disagreementCount: number;
  /** Accounts the bot has as pending, inactive or deleted that Entra shows in use: a person decides. */
  disagreements: Disagreement[];
  /** First logins read from the directory: pending accounts made active (platform `directory`). */
  firstLogins: number;
  /** Pending accounts signed in whose MFA is not registered yet (the first REPORT_SAMPLE). */
  awaitingMfa: string[];
  awaitingMfaCount: number;
  /** Why MFA registration could not be read this run, or null. */
  mfaUnreadable: string | null;
}

const emptyReport = (): GraphPollReport => ({
  pages: 0,
  users: 0,
  notNhsMail: 0,
  neverSignedIn: 0,
  observations: 0,
  recorded: 0,
  unchanged: 0,
  unknownCount: 0,
  unknown: [],
  invalidCount: 0,
  invalid: [],
  disagreementCount: 0,
  disagreements: [],
  firstLogins: 0,
  awaitingMfa: [],
  awaitingMfaCount: 0,
  mfaUnreadable: null,
});

const keep = <T>(into: T[], items: readonly T[]) => {
  into.push(...items.slice(0, Math.max(0, REPORT_SAMPLE - into.length)));
};

/** The counts of a report, for a log line (no lists). */
export const reportCounts = ({ unknown, invalid, disagreements, awaitingMfa, ...counts }: GraphPollReport) =>
  counts;

/** What the poll needs of the lifecycle. */
export type PollLifecycle = Pick<
  Lifecycle,
  'recordObservedActivity' | 'recordDirectoryFirstLogins' | 'noteFirstLoginWatch'
>;

/** Whether each directory user registered MFA (DirectoryReader.mfaRegistered). */
export type MfaSource = (ids: readonly string[]) => Promise<ReadonlyMap<string, boolean>>;

/**
 * Pages through every user Graph lists and records each @nhs.net user's latest sign-in with
 * recordObservedActivity, one call per page: the same rules, audit (platform `import`) and report
 * as `import activity` and `POST /activity`. Safe to repeat: a sign-in already recorded, or older
 * than the account's last activity, changes nothing. Pages recorded before a failure stay recorded.
 *
 * Before that, each page's successful sign-ins go to recordDirectoryFirstLogins (issue 15): a
 * pending account the directory shows signed in since it was made, with MFA registered where its
 * sector needs it, becomes active, audited with platform `directory`. The verdict (watching, or
 * why the directory cannot say) is kept for `status`.
 */
export async function pollGraphSignIns(
  deps: { users: UsersSource; lifecycle: PollLifecycle; mfa: MfaSource; logger: Logger },
  ctx: RequestContext,
): Promise<GraphPollReport> {
  const log = deps.logger.child({ job: 'graph-sign-ins' });
  const started = Date.now();
  const report = emptyReport();
  let mfaRead = false;
  let next: string | undefined;
  try {
    do {
      const page = await deps.users.usersPage(next);
      report.pages++;
      const observations: ActivityObservation[] = [];
      const successes: DirectorySignIn[] = [];
      for (const user of page.value) {
        report.users++;
        const signIn = signInOf(user);
        if (signIn.kind === 'observation') {
          observations.push(signIn.observation);
          if (signIn.successful)
            successes.push({ address: signIn.observation.address, ...signIn.successful });
        } else if (signIn.kind === 'not-nhs-net') report.notNhsMail++;
        else if (signIn.kind === 'never-signed-in') report.neverSignedIn++;
        else {
          report.invalidCount++;
          keep(report.invalid, [signIn.problem]);
        }
      }
      report.observations += observations.length;
      if (successes.length > 0) {
        // First logins never hold back the activity clocks below: a failure here is logged and the
        // page's activity still recorded.
        try {
          const checked = await deps.lifecycle.recordDirectoryFirstLogins(ctx, {
            signIns: successes,
            mfaRegistered: deps.mfa,
          });
          report.firstLogins += checked.activated.length;
          report.awaitingMfaCount += checked.awaitingMfa.length;
          keep(
            report.awaitingMfa,
            checked.awaitingMfa.map((a) => a.address),
          );
          report.mfaUnreadable ??= checked.mfaUnreadable;
          mfaRead ||= checked.mfaRead;
        } catch (e) {
          log.error(
            { problem: describeError(e), page: report.pages },
            'first logins of this page could not be checked; its activity is still recorded',
          );
        }
      }
      if (observations.length > 0) {
        const recorded = await deps.lifecycle.recordObservedActivity(ctx, { observations });
        report.recorded += recorded.recorded;
        report.unchanged += recorded.unchanged;
        report.unknownCount += recorded.unknown.length;
        keep(report.unknown, recorded.unknown);
        report.disagreementCount += recorded.disagreements.length;
        keep(report.disagreements, recorded.disagreements);
        if (recorded.failed.length > 0) {
          log.warn(
            { failed: recorded.failed.slice(0, 20), page: report.pages },
            'some sign-ins could not be recorded',
          );
        }
      }
      log.debug({ page: report.pages, users: page.value.length }, 'graph users page recorded');
      const following = page['@odata.nextLink'];
      if (following !== undefined && following === next) {
        throw refused(
          'GRAPH_ERROR',
          'Microsoft Graph gave the same next page twice; stopped to avoid a loop.',
        );
      }
      next = following;
    } while (next);
  } catch (e) {
    if (isDomainError(e)) {
      await noteWatch(deps, log, {
        state: 'unreadable',
        checkedAt: ctx.now.toISOString(),
        reason: e.message,
      });
    }
    log.error(
      {
        code: isDomainError(e) ? e.code : undefined,
        problem: describeError(e),
        ...reportCounts(report),
      },
      'graph sign-in poll failed (the pages counted here were recorded before it stopped)',
    );
    throw e;
  }
  await noteWatch(
    deps,
    log,
    report.mfaUnreadable === null
      ? { state: 'watching', checkedAt: ctx.now.toISOString() }
      : { state: 'mfa-unreadable', checkedAt: ctx.now.toISOString(), reason: report.mfaUnreadable },
    mfaRead,
  );
  if (report.mfaUnreadable !== null) {
    log.warn(
      { problem: report.mfaUnreadable, awaitingMfa: report.awaitingMfaCount },
      'MFA registration could not be read from the directory: accounts that need MFA stay pending until "first-login ADDRESS --mfa"',
    );
  }
  log.info({ ...reportCounts(report), ms: Date.now() - started }, 'graph sign-in poll finished');
  if (report.disagreementCount > 0) {
    log.warn(
      { disagreements: report.disagreements, count: report.disagreementCount },
      'Entra shows accounts in use that the bot has as pending, inactive or deleted: an administrator should look',
    );
  }
  return report;
}

/** Keeps the first-login verdict for `status`; a failure to keep it is logged, never the run's. */
async function noteWatch(
  deps: { lifecycle: PollLifecycle },
  log: Logger,
  watch: FirstLoginWatch,
  mfaRead = false,
): Promise<void> {
  try {
    await deps.lifecycle.noteFirstLoginWatch(watch, { mfaRead });
  } catch (e) {
    log.warn({ problem: describeError(e) }, 'could not keep the first-login verdict');
  }
}

/**
 * The poller as the bot and the one-off command use it: one Graph client (and so one cached
 * token) for every run, audited with platform `import`.
 */
export class GraphSignInPoller {
  private readonly users: GraphUsersClient;
  private readonly mfa: MfaSource;

  constructor(
    config: GraphConfig,
    private readonly deps: {
      lifecycle: PollLifecycle;
      logger: Logger;
      transport?: GraphTransport;
    },
  ) {
    this.users = new GraphUsersClient(config, deps.logger, deps.transport);
    // The MFA report with the same app and cached token (AuditLog.Read.All, as signInActivity).
    const reader = createEntraReader({
      client: graphClient(config.baseUrl, () => this.users.token(), deps.transport?.fetch),
      logger: deps.logger,
    });
    this.mfa = (ids) => reader.mfaRegistered(ids);
  }

  /** One run: `actor` is the scheduler (or the operator for a one-off run), `now` the clock. */
  run(actor: Actor, now: Date): Promise<GraphPollReport> {
    return pollGraphSignIns(
      { users: this.users, lifecycle: this.deps.lifecycle, mfa: this.mfa, logger: this.deps.logger },
      { actor, platform: 'import', now },
    );
  }
}
