import { createHmac, randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Db } from '../../db/index.js';
import { settings } from '../../db/schema.js';
import type { Policy } from '../domain/policy.js';
import { type Logger, silentLogger } from '../logger.js';
import * as absence from './absence.js';
import type { ServiceDeps } from './accounts.js';
import * as accounts from './accounts.js';
import * as activityImport from './activity-import.js';
import * as auditExport from './audit-export.js';
import { analyseAfterLoad, type LoadedTable } from './bulk-load.js';
import * as chat from './chat.js';
import type { ChatUserRef, RequestContext } from './context.js';
import * as directoryDrift from './directory-drift.js';
import type { ParkedEffect } from './directory-effects.js';
import * as directory from './directory-effects.js';
import * as directoryFirstLogins from './directory-first-logins.js';
import * as directoryImport from './directory-import.js';
import * as directoryReapply from './directory-reapply.js';
import * as hrFeed from './hr-feed.js';
import * as manualSteps from './manual-steps.js';
import type { FailedDelivery } from './notifications.js';
import * as notifications from './notifications.js';
import * as orgImport from './org-import.js';
import * as organisations from './organisations.js';
import type { AddressDirectory, CredentialDelivery } from './ports.js';
import * as queries from './queries.js';
import * as reminders from './reminders.js';
import { Sealer } from './sealed.js';
import * as sites from './sites.js';
import * as sweeps from './sweep.js';
import { InFlight, NO_TELEMETRY, type Telemetry } from './telemetry.js';
import * as transfers from './transfer.js';

type UseCase<I, O> = (deps: ServiceDeps, ctx: RequestContext, input: I) => Promise<O>;
type Bound<F> = F extends UseCase<infer I, infer O> ? (ctx: RequestContext, input: I) => Promise<O> : never;

const bind =
  <I, O>(deps: ServiceDeps, useCase: UseCase<I, O>) =>
  (ctx: RequestContext, input: I) =>
    useCase(deps, ctx, input);

/** A bulk load's use case, followed by an analyse of the tables it wrote when it changed enough rows. */
const loads =
  <I, O>(
    deps: ServiceDeps,
    useCase: UseCase<I, O>,
    tables: readonly LoadedTable[],
    changed: (out: O) => number,
  ) =>
  async (ctx: RequestContext, input: I) => {
    const out = await useCase(deps, ctx, input);
    await analyseAfterLoad(deps.db, deps.logger, tables, changed(out));
    return out;
  };

/**
 * The lifecycle service: every use case of the product, each taking a request context
 * (actor, platform, clock). Slack, Teams, the CLI and the scheduler all call these.
 */
export interface Lifecycle {
  readonly policy: Policy;
  /** Where commands, sweeps and deliveries are counted (the bot's metrics). */
  readonly telemetry: Telemetry;
  /** Commands in progress: a stopping bot waits for them. */
  readonly inFlight: InFlight;
  provision: Bound<typeof accounts.provision>;
  firstLogin: Bound<typeof accounts.firstLogin>;
  leaver: Bound<typeof accounts.leaver>;
  joiner: Bound<typeof accounts.joiner>;
  recordActivity: Bound<typeof accounts.recordActivity>;
  reactivate: Bound<typeof accounts.reactivate>;
  disable: Bound<typeof absence.disable>;
  enable: Bound<typeof absence.enable>;
  requestTransfer: Bound<typeof transfers.requestTransfer>;
  addOrganisation: Bound<typeof organisations.addOrganisation>;
  updateDspt: Bound<typeof organisations.updateDspt>;
  setDirectoryGroup: Bound<typeof organisations.setDirectoryGroup>;
  grantRole: Bound<typeof organisations.grantRole>;
  revokeRole: Bound<typeof organisations.revokeRole>;
  registerSite: Bound<typeof sites.registerSite>;
  requestSiteAccount: Bound<typeof sites.requestSiteAccount>;
  showSite: Bound<typeof sites.showSite>;
  markSharedMailboxMade: Bound<typeof manualSteps.markSharedMailboxMade>;
  status: Bound<typeof queries.accountStatus>;
  expiring: Bound<typeof queries.expiring>;
  auditTrail: Bound<typeof queries.auditTrail>;
  exportAudit: Bound<typeof auditExport.exportAudit>;
  contact: Bound<typeof queries.contact>;
  sweep: Bound<typeof sweeps.sweep>;
  remindPending: Bound<typeof reminders.remindPending>;
  remind: Bound<typeof reminders.remindHolder>;
  recordObservedActivity: Bound<typeof activityImport.recordObservedActivity>;
  /** First logins the directory shows (issue 15), from the Graph job. */
  recordDirectoryFirstLogins: Bound<typeof directoryFirstLogins.recordDirectoryFirstLogins>;
  /** Keeps the Graph job's verdict on reading first logins, for `status`. */
  noteFirstLoginWatch(
    watch: directoryFirstLogins.FirstLoginWatch,
    options?: { mfaRead?: boolean },
  ): Promise<void>;
  importStarters: Bound<typeof hrFeed.importStarters>;
  importLeavers: Bound<typeof hrFeed.importLeavers>;
  importOrganisations: Bound<typeof orgImport.importOrganisations>;
  /** Adopts the directory's existing accounts (`directory import`, issue 15). */
  importDirectory: Bound<typeof directoryImport.importDirectory>;
  /** Reads the directory's changes and replaces the drift report (the Graph job; issue 15). */
  directoryDrift: Bound<typeof directoryDrift.directoryDrift>;
  /** The last drift report (`directory drift`). */
  driftReport: Bound<typeof directoryDrift.driftReport>;
  /** `directory reapply ADDRESS`: the directory put back in line with the bot for one account. */
  reapplyToDirectory: Bound<typeof directoryReapply.reapplyToDirectory>;
  /** Notifications parked after their retry budget (or refused for good), newest first. */
  failedNotifications(ctx: RequestContext): Promise<FailedDelivery[]>;
  /** Puts a parked notification (or every one) back in the delivery queue. */
  retryNotifications: Bound<typeof notifications.retryNotifications>;
  /** Directory changes parked as failed or in conflict, newest first. */
  failedDirectoryEffects(ctx: RequestContext): Promise<ParkedEffect[]>;
  /** Puts a failed directory change (or every one) back in the directory worker's queue. */
  retryDirectoryEffects: Bound<typeof directory.retryDirectoryEffects>;
  /** Requeues a creation parked as a conflict to take over the directory account holding its address. */
  adoptDirectoryEffect: Bound<typeof directory.adoptDirectoryEffect>;
  linkChatUser: Bound<typeof chat.linkChatUser>;
  subscribe: Bound<typeof chat.subscribe>;
  unsubscribe: Bound<typeof chat.unsubscribe>;
  subscriptions: Bound<typeof chat.listSubscriptions>;
  /** The @nhs.net address an administrator linked to a chat user, if any. */
  linkedAddress(user: ChatUserRef): Promise<string | null>;
  /** Records a platform delivery (event or action id) as handled; false when it is a retry. */
  firstDelivery(key: string, now: Date): Promise<boolean>;
  /** Keeps a Teams conversation reference for proactive messages. */
  rememberConversation(conversation: chat.StoredConversation, now: Date): Promise<void>;
  storedConversation(conversationId: string): Promise<chat.StoredConversation | null>;
  /** The Teams personal chat with a holder, for direct warnings. */
  personalConversation(address: string): Promise<chat.StoredConversation | null>;
}

export interface LifecycleOptions {
  db: Db;
  policy: Policy;
  delivery: CredentialDelivery;
  telemetry?: Telemetry;
  /** HR_DATA_KEY: seals waiting HR starters' mobile numbers. */
  hrDataKey?: Buffer | null;
  /** Where operational actions that write no audit row are logged; silent when absent. */
  logger?: Logger | undefined;
  /** Queue directory effects with each change (a directory is configured); off, the bot is a ledger. */
  directoryEffects?: boolean;
  /** The configured directory, asked which new addresses it already holds; absent in ledger mode. */
  addressDirectory?: AddressDirectory | undefined;
}

export async function createLifecycle(options: LifecycleOptions): Promise<Lifecycle> {
  const key = await installationKey(options.db);
  const deps: ServiceDeps = {
    db: options.db,
    policy: options.policy,
    delivery: options.delivery,
    logger: options.logger ?? silentLogger(),
    hashMobile: (e164) => createHmac('sha256', key).update(e164).digest('hex'),
    sealer: options.hrDataKey ? new Sealer(options.hrDataKey) : null,
    directoryEffects: options.directoryEffects ?? false,
    addressDirectory: options.addressDirectory,
  };
  const telemetry = options.telemetry ?? NO_TELEMETRY;
  return {
    policy: options.policy,
    telemetry,
    inFlight: new InFlight(),
    provision: bind(deps, accounts.provision),
    firstLogin: bind(deps, accounts.firstLogin),
    leaver: bind(deps, accounts.leaver),
    joiner: bind(deps, accounts.joiner),
    recordActivity: bind(deps, accounts.recordActivity),
    reactivate: bind(deps, accounts.reactivate),
    disable: bind(deps, absence.disable),
    enable: bind(deps, absence.enable),
    requestTransfer: bind(deps, transfers.requestTransfer),
    addOrganisation: bind(deps, organisations.addOrganisation),
    updateDspt: bind(deps, organisations.updateDspt),
    setDirectoryGroup: bind(deps, organisations.setDirectoryGroup),
    grantRole: bind(deps, organisations.grantRole),
    revokeRole: bind(deps, organisations.revokeRole),
    registerSite: bind(deps, sites.registerSite),
    requestSiteAccount: bind(deps, sites.requestSiteAccount),
    showSite: bind(deps, sites.showSite),
    markSharedMailboxMade: bind(deps, manualSteps.markSharedMailboxMade),
    status: bind(deps, queries.accountStatus),
    expiring: bind(deps, queries.expiring),
    auditTrail: bind(deps, queries.auditTrail),
    exportAudit: bind(deps, auditExport.exportAudit),
    contact: bind(deps, queries.contact),
    sweep: async (ctx, input) => {
      const started = performance.now();
      const report = await sweeps.sweep(deps, ctx, input);
      if (!input.dryRun)
        telemetry.sweep({ seconds: (performance.now() - started) / 1000, counts: report.counts });
      return report;
    },
    remindPending: bind(deps, reminders.remindPending),
    remind: bind(deps, reminders.remindHolder),
    // Bulk loads analyse what they wrote (bulk-load.ts), so the next sweep is planned on today's table.
    recordDirectoryFirstLogins: bind(deps, directoryFirstLogins.recordDirectoryFirstLogins),
    noteFirstLoginWatch: (watch, options) => directoryFirstLogins.recordFirstLoginWatch(deps, watch, options),
    recordObservedActivity: loads(
      deps,
      activityImport.recordObservedActivity,
      ['accounts', 'audit_log'],
      (r) => r.recorded,
    ),
    importStarters: loads(
      deps,
      hrFeed.importStarters,
      ['accounts', 'hr_starters', 'audit_log', 'outbox'],
      (r) => (r.dryRun ? 0 : r.created + r.scheduled),
    ),
    importLeavers: loads(deps, hrFeed.importLeavers, ['accounts', 'audit_log', 'outbox'], (r) =>
      r.dryRun ? 0 : r.marked + r.scheduled,
    ),
    importOrganisations: loads(deps, orgImport.importOrganisations, ['organisations'], (r) =>
      r.dryRun ? 0 : r.added + r.updated + r.closed,
    ),
    importDirectory: loads(deps, directoryImport.importDirectory, ['accounts', 'audit_log'], (r) =>
      r.dryRun ? 0 : r.adopted,
    ),
    directoryDrift: bind(deps, directoryDrift.directoryDrift),
    driftReport: bind(deps, directoryDrift.driftReport),
    reapplyToDirectory: bind(deps, directoryReapply.reapplyToDirectory),
    failedNotifications: (ctx) => notifications.failedNotifications(deps, ctx),
    retryNotifications: bind(deps, notifications.retryNotifications),
    failedDirectoryEffects: (ctx) => directory.failedDirectoryEffects(deps, ctx),
    retryDirectoryEffects: bind(deps, directory.retryDirectoryEffects),
    adoptDirectoryEffect: bind(deps, directory.adoptDirectoryEffect),
    linkChatUser: bind(deps, chat.linkChatUser),
    subscribe: bind(deps, chat.subscribe),
    unsubscribe: bind(deps, chat.unsubscribe),
    subscriptions: bind(deps, chat.listSubscriptions),
    linkedAddress: (user) => chat.linkedAddress(deps, user),
    firstDelivery: (key, now) => chat.firstDelivery(deps, key, now),
    rememberConversation: (conversation, now) => chat.rememberConversation(deps, conversation, now),
    storedConversation: (conversationId) => chat.storedConversation(deps, conversationId),
    personalConversation: (address) => chat.personalConversation(deps, address),
  };
}

/**
 * The per-installation secret behind mobile-number hashes, made on first start. Mobile numbers
 * are never stored: only this keyed hash (to find duplicates) and a masked form.
 */
async function installationKey(db: Db): Promise<string> {
  await db
    .insert(settings)
    .values({ key: 'mobile-hash-key', value: randomBytes(32).toString('hex') })
    .onConflictDoNothing();
  const [row] = await db.select().from(settings).where(eq(settings.key, 'mobile-hash-key'));
  if (!row) throw new Error('settings row mobile-hash-key missing after insert');
  return row.value;
}
