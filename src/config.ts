import path from 'node:path';
import { validate as validateCron } from 'node-cron';
import { z } from 'zod';
import { ORG_KINDS, type OrgKind } from './domain/organisation.js';
import type { ChatPlatform } from './domain/platform.js';
import { DEFAULT_POLICY, type Policy } from './domain/policy.js';
import { parseDspt } from './domain/validation.js';

/** Configuration problems stop start-up with one message naming the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const days = (fallback: number) => z.coerce.number().int().min(1).max(3650).default(fallback);

const csv = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/** Warning thresholds in days, most urgent last, each once (e.g. "7,3,1"). */
const warningDays = (fallback: readonly number[], example: string) =>
  z
    .string()
    .default(fallback.join(','))
    .transform(csv)
    .pipe(z.array(z.string().regex(/^\d+$/, `must be whole days, e.g. ${example}`).transform(Number)))
    .refine((list) => list.every((n) => n >= 1 && n <= 365), 'days must be between 1 and 365')
    .transform((list) => [...new Set(list)].sort((a, b) => b - a));

const sector = z.enum(ORG_KINDS);

const cronExpression = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((v) => validateCron(v), `must be a cron expression such as "${fallback}"`);

/** An https:// origin with no path: MSAL and the Graph client send credentials over https only. */
const httpsOrigin = (example: string) =>
  z
    .url(`must be an https:// URL with no path, such as ${example}`)
    .refine((v) => {
      const url = URL.canParse(v) ? new URL(v) : null;
      return url?.protocol === 'https:' && url.pathname === '/' && !url.search && !url.hash;
    }, `must be an https:// URL with no path, such as ${example}`)
    .transform((v) => new URL(v).origin);

/** Every environment variable the bot reads, with its default. docs/configuration.md lists them. */
const schema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATA_DIR: z.string().default('./data'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SWEEP_SCHEDULE: cronExpression('0 5 * * *'),
  REMINDER_SCHEDULE: cronExpression('0 10 * * 1-5'),
  DELIVERY_SCHEDULE: cronExpression('*/2 * * * * *'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(20_000),
  SWEEP_CATCH_UP: z.enum(['true', 'false'], 'must be true or false').default('true'),
  SCHEDULE_LEASE_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(120_000),
  OPERATORS_CHANNEL: z
    .string()
    .regex(/^(slack|teams):\S+$/, 'must be slack:CHANNEL_ID or teams:CONVERSATION_ID')
    .optional(),
  SCHEDULE_TIMEZONE: z
    .string()
    .default('Europe/London')
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en-GB', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'must be an IANA time zone such as Europe/London'),
  ENVELOPE_DIR: z.string().optional(),
  GRACE_DAYS: days(DEFAULT_POLICY.graceDays),
  INACTIVITY_DAYS: days(DEFAULT_POLICY.inactivityDays),
  RETENTION_DAYS: days(DEFAULT_POLICY.retentionDays),
  RESTORE_DAYS: days(DEFAULT_POLICY.restoreDays),
  PENDING_DAYS: days(DEFAULT_POLICY.pendingDays),
  DISABLED_RETENTION_DAYS: days(DEFAULT_POLICY.disabledRetentionDays),
  WARNING_DAYS: warningDays(DEFAULT_POLICY.warningDays, '7,3,1'),
  DISABLED_WARNING_DAYS: warningDays(DEFAULT_POLICY.disabledWarningDays, '30,7,1'),
  STARTER_LEAD_DAYS: z.coerce.number().int().min(0).max(90).default(DEFAULT_POLICY.starterLeadDays),
  TAP_LIFETIME_MINUTES: z.coerce
    .number()
    .int()
    .min(10, 'must be at least 10 minutes, as Graph requires')
    .max(43_200, 'must be at most 43,200 minutes (30 days), as Graph requires')
    .default(DEFAULT_POLICY.tapLifetimeMinutes),
  HR_FEED_SECRET: z.string().min(32, 'must be a shared secret of at least 32 characters').optional(),
  HR_DATA_KEY: z
    .string()
    .refine(
      (v) => Buffer.from(v, 'base64').length === 32,
      'must be 32 random bytes in base64 (e.g. from "openssl rand -base64 32")',
    )
    .optional(),
  SITE_ACCOUNT_LIMIT: z.coerce.number().int().min(1).max(1000).default(DEFAULT_POLICY.siteAccountLimit),
  DSPT_MINIMUM: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const out: Partial<Record<OrgKind, ReturnType<typeof parseDspt>>> = {};
      for (const pair of csv(v)) {
        const [kind, status] = pair.split('=').map((s) => s.trim());
        const parsedKind = sector.safeParse(kind);
        if (!parsedKind.success || !status) {
          ctx.addIssue({
            code: 'custom',
            message: `"${pair}" is not SECTOR=STATUS, e.g. care-home=approaching-standards`,
          });
          return z.NEVER;
        }
        try {
          out[parsedKind.data] = parseDspt(status);
        } catch (e) {
          ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e) });
          return z.NEVER;
        }
      }
      return out;
    }),
  MFA_EXEMPT_SECTORS: z.string().default('').transform(csv).pipe(z.array(sector)),
  SLACK_SIGNING_SECRET: z
    .string()
    .min(16, 'must be the app’s signing secret (Basic Information page)')
    .optional(),
  SLACK_BOT_TOKEN: z.string().startsWith('xoxb-', 'must be a bot token starting xoxb-').optional(),
  SLACK_APP_TOKEN: z
    .string()
    .startsWith('xapp-', 'must be an app-level token starting xapp- (Socket Mode)')
    .optional(),
  SLACK_API_URL: z.url('must be a URL such as https://slack.com/api/').optional(),
  ACTIVITY_FEED_SECRET: z.string().min(32, 'must be a shared secret of at least 32 characters').optional(),
  NOTIFY_API_KEY: z
    .string()
    .regex(/-[0-9a-f-]{36}-[0-9a-f-]{36}$/, 'must be a GOV.UK Notify API key (name-serviceid-secret)')
    .optional(),
  NOTIFY_SMS_TEMPLATE_ID: z.uuid('must be the id of the GOV.UK Notify SMS template').optional(),
  NOTIFY_BASE_URL: z.url('must be a URL such as https://api.notifications.service.gov.uk').optional(),
  GRAPH_TENANT_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, 'must be the Entra tenant id (a GUID) or its domain, e.g. nhs.net')
    .optional(),
  GRAPH_CLIENT_ID: z.guid('must be the app registration’s Application (client) ID, a GUID').optional(),
  GRAPH_CLIENT_SECRET: z.string().optional(),
  GRAPH_SCHEDULE: cronExpression('17 * * * *'),
  GRAPH_BASE_URL: httpsOrigin('https://graph.microsoft.com').default('https://graph.microsoft.com'),
  GRAPH_AUTHORITY_URL: httpsOrigin('https://login.microsoftonline.com').default(
    'https://login.microsoftonline.com',
  ),
  DIRECTORY: z.enum(['entra'], 'must be entra, or unset to record decisions only (ledger mode)').optional(),
  DIRECTORY_CREDENTIAL: z.enum(['password', 'tap'], 'must be password or tap').default('password'),
  DIRECTORY_SCHEDULE: cronExpression('*/15 * * * * *'),
  DIRECTORY_WRITES_PER_SECOND: z.coerce
    .number()
    .positive('must be a number of writes a second above 0')
    .max(1000, 'must be at most 1000 writes a second')
    .default(20),
  MicrosoftAppId: z.string().optional(),
  MicrosoftAppPassword: z.string().optional(),
  MicrosoftAppType: z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).optional(),
  MicrosoftAppTenantId: z.string().optional(),
  NODE_ENV: z.string().default('development'),
});

export type Env = z.infer<typeof schema>;

/** Every environment variable the bot reads (the README's configuration table lists each). */
export const ENVIRONMENT_VARIABLES: readonly string[] = Object.keys(schema.shape);

/** The cron expressions of the bot's own schedules (SWEEP_SCHEDULE, REMINDER_SCHEDULE, DELIVERY_SCHEDULE). */
export interface Schedules {
  /** The daily sweep: clocks, state changes, warnings and digests. */
  sweep: string;
  /** Reminders to holders of accounts still pending first login (and MFA). */
  reminders: string;
  /** The outbox worker: a pass over queued notifications (node-cron's six-field form for seconds). */
  delivery: string;
}

export interface Config {
  database: { engine: 'postgres'; url: string } | { engine: 'pglite'; dataDir: string };
  dataDir: string;
  port: number;
  logLevel: Env['LOG_LEVEL'];
  schedules: Schedules;
  scheduleTimezone: string;
  /** Sweep at start when no sweep completed in the last 25 hours (every process was down). */
  sweepCatchUp: boolean;
  /** How long a claim on a scheduled run holds without renewal before another process takes it over. */
  scheduleLeaseMs: number;
  /** How long a stopping bot lets commands, requests and jobs in progress finish. */
  shutdownTimeoutMs: number;
  /** Where a line goes when a notification is parked as failed; null: only `notifications failed`. */
  operatorsChannel: { platform: ChatPlatform; channelId: string } | null;
  envelopeDir: string;
  /** Shared secret for POST /hr/starters and /hr/leavers; null leaves them off. */
  hrFeedSecret: string | null;
  /** Seals the mobile numbers of HR starters waiting for their provisioning day; null: not kept. */
  hrDataKey: Buffer | null;
  /** Shared secret for POST /activity; null leaves the endpoint off. */
  activityFeedSecret: string | null;
  policy: Policy;
  /** Null when Slack is not configured: the adapter is off. */
  slack: SlackConfig | null;
  teams: TeamsConfig;
  /** Null when GOV.UK Notify is not configured: SMS delivery of temporary passwords is refused. */
  notify: { apiKey: string; smsTemplateId: string; baseUrl?: string | undefined } | null;
  /** Null when the Microsoft Graph sign-in poller is not configured: it is off. */
  graph: GraphConfig | null;
  /** Null when DIRECTORY is unset: the bot records decisions only and changes no directory (ledger mode). */
  directory: DirectoryConfig | null;
}

/** What new users first sign in with: a temporary password, or an Entra Temporary Access Pass. */
export type DirectoryCredentialKind = 'password' | 'tap';

/** DIRECTORY=entra: every change's effects applied to Microsoft Entra through Graph. */
export interface DirectoryConfig {
  kind: 'entra';
  credential: DirectoryCredentialKind;
  /** node-cron expression (seconds allowed) of the directory worker's passes, in SCHEDULE_TIMEZONE. */
  schedule: string;
  /** DIRECTORY_WRITES_PER_SECOND: the write rate all replicas together keep under (Graph: 3,000 per 150 s). */
  writesPerSecond: number;
  /** The app registration the directory writes with: the GRAPH_ variables, shared with the sign-in poller. */
  graph: GraphConfig;
}

/**
 * DIRECTORY=entra needs the Graph app registration, and HR_DATA_KEY: a new user's mobile number
 * is kept sealed until the directory has the user and the temporary password is sent to it.
 */
function directoryConfig(e: Env): DirectoryConfig | null {
  if (!e.DIRECTORY) return null;
  const required = (name: string, value: string | undefined, what: string): string => {
    if (value) return value;
    throw new ConfigError(`Invalid configuration: ${name} is required when DIRECTORY=entra (${what}).`);
  };
  const graph: GraphConfig = {
    tenantId: required('GRAPH_TENANT_ID', e.GRAPH_TENANT_ID, 'the Entra tenant (Directory) ID to write to'),
    clientId: required(
      'GRAPH_CLIENT_ID',
      e.GRAPH_CLIENT_ID,
      'the Application (client) ID of the app registration the directory writes with',
    ),
    clientSecret: required('GRAPH_CLIENT_SECRET', e.GRAPH_CLIENT_SECRET, 'a client secret of that app'),
    schedule: e.GRAPH_SCHEDULE,
    baseUrl: e.GRAPH_BASE_URL,
    authorityUrl: e.GRAPH_AUTHORITY_URL,
  };
  required(
    'HR_DATA_KEY',
    e.HR_DATA_KEY,
    'a new user’s mobile number is kept sealed until the directory has the user and the temporary password is sent; 32 random bytes in base64, e.g. from "openssl rand -base64 32"',
  );
  return {
    kind: e.DIRECTORY,
    credential: e.DIRECTORY_CREDENTIAL,
    schedule: e.DIRECTORY_SCHEDULE,
    writesPerSecond: e.DIRECTORY_WRITES_PER_SECOND,
    graph,
  };
}

/** The Microsoft Graph sign-in poller: an app registration's client credentials and where to reach Entra. */
export interface GraphConfig {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** node-cron expression, in SCHEDULE_TIMEZONE. */
  schedule: string;
  /** Graph's origin, e.g. https://graph.microsoft.com (tests point it at a local stand-in). */
  baseUrl: string;
  /** The Entra sign-in origin; the tenant id is appended (tests point it at a local stand-in). */
  authorityUrl: string;
}

/** Off with none of the three credentials; all three are needed once one is set. */
function graphConfig(e: Env): GraphConfig | null {
  if (!e.GRAPH_TENANT_ID && !e.GRAPH_CLIENT_ID && !e.GRAPH_CLIENT_SECRET) return null;
  const required = (name: string, value: string | undefined, what: string): string => {
    if (value) return value;
    throw new ConfigError(
      `Invalid configuration: ${name} is required once any of GRAPH_TENANT_ID, GRAPH_CLIENT_ID or GRAPH_CLIENT_SECRET is set (${what}).`,
    );
  };
  return {
    tenantId: required('GRAPH_TENANT_ID', e.GRAPH_TENANT_ID, 'the Entra tenant (Directory) ID'),
    clientId: required(
      'GRAPH_CLIENT_ID',
      e.GRAPH_CLIENT_ID,
      'the app registration’s Application (client) ID',
    ),
    clientSecret: required('GRAPH_CLIENT_SECRET', e.GRAPH_CLIENT_SECRET, 'a client secret of that app'),
    schedule: e.GRAPH_SCHEDULE,
    baseUrl: e.GRAPH_BASE_URL,
    authorityUrl: e.GRAPH_AUTHORITY_URL,
  };
}

/**
 * botbuilder's own settings. With no app id, botbuilder accepts unauthenticated requests (as the
 * Bot Framework Emulator sends): allowed only outside production, where the adapter is refused.
 */
export interface TeamsConfig {
  appId?: string | undefined;
  appPassword?: string | undefined;
  appType?: 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI' | undefined;
  appTenantId?: string | undefined;
  production: boolean;
}

function notifyConfig(e: Env): Config['notify'] {
  if (!e.NOTIFY_API_KEY) return null;
  if (!e.NOTIFY_SMS_TEMPLATE_ID) {
    throw new ConfigError(
      'Invalid configuration: NOTIFY_SMS_TEMPLATE_ID is required with NOTIFY_API_KEY (the SMS template for temporary passwords).',
    );
  }
  return { apiKey: e.NOTIFY_API_KEY, smsTemplateId: e.NOTIFY_SMS_TEMPLATE_ID, baseUrl: e.NOTIFY_BASE_URL };
}

function teamsConfig(e: Env): TeamsConfig {
  if (e.MicrosoftAppId && !e.MicrosoftAppPassword && e.MicrosoftAppType !== 'UserAssignedMSI') {
    throw new ConfigError(
      'Invalid configuration: MicrosoftAppPassword is required with MicrosoftAppId (the bot registration’s client secret).',
    );
  }
  if (e.MicrosoftAppType === 'SingleTenant' && !e.MicrosoftAppTenantId) {
    throw new ConfigError(
      'Invalid configuration: MicrosoftAppTenantId is required when MicrosoftAppType is SingleTenant.',
    );
  }
  return {
    appId: e.MicrosoftAppId,
    appPassword: e.MicrosoftAppPassword,
    appType: e.MicrosoftAppType,
    appTenantId: e.MicrosoftAppTenantId,
    production: e.NODE_ENV.trim().toLowerCase() === 'production', // Production, PRODUCTION too
  };
}

function operatorsChannel(value: string): Config['operatorsChannel'] {
  const colon = value.indexOf(':');
  return { platform: value.slice(0, colon) as ChatPlatform, channelId: value.slice(colon + 1) };
}

export interface SlackConfig {
  /** `http`: Slack calls POST /slack/events; `socket`: the bot opens a Socket Mode connection. */
  mode: 'http' | 'socket';
  botToken: string;
  signingSecret?: string | undefined;
  appToken?: string | undefined;
  /** Base URL of the Slack Web API, ending in /api/ (tests point it at a local stand-in). */
  apiUrl?: string | undefined;
}

function slackConfig(e: Env): SlackConfig | null {
  const { SLACK_SIGNING_SECRET: signingSecret, SLACK_BOT_TOKEN: botToken, SLACK_APP_TOKEN: appToken } = e;
  if (!signingSecret && !botToken && !appToken) return null;
  if (!botToken) {
    throw new ConfigError(
      'Invalid configuration: SLACK_BOT_TOKEN is required once any SLACK_ variable is set (the xoxb- token from OAuth & Permissions).',
    );
  }
  if (!appToken && !signingSecret) {
    throw new ConfigError(
      'Invalid configuration: SLACK_SIGNING_SECRET is required for Slack over HTTP (or set SLACK_APP_TOKEN for Socket Mode).',
    );
  }
  const apiUrl = e.SLACK_API_URL ? e.SLACK_API_URL.replace(/\/?$/, '/') : undefined;
  return { mode: appToken ? 'socket' : 'http', botToken, signingSecret, appToken, apiUrl };
}

/** Variables whose values are secrets. */
const SECRET = /SECRET|TOKEN|PASSWORD|KEY/i;

/**
 * A rejected value as an error may show it: a secret only by its length, never its characters;
 * a URL (DATABASE_URL) without the password it may carry.
 */
const shown = (name: string, value: string) =>
  SECRET.test(name)
    ? `a value of ${value.length} characters, not shown`
    : `"${value.replace(/^((?:[a-z][a-z0-9+.-]*:\/\/)?[^:/@\s]*:)[^@\s]*@/i, '$1***@')}"`;

/** Reads the environment once. An empty (or blank) value counts as unset. Throws ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''),
  );
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'configuration');
    throw new ConfigError(
      `Invalid configuration: ${name} ${issue?.message ?? 'is invalid'} (got ${shown(name, cleaned[name] ?? '')}).`,
    );
  }
  const e = parsed.data;
  if (e.STARTER_LEAD_DAYS >= e.PENDING_DAYS) {
    // The pending clock counts from the making: a starter's account would lapse before Day 1.
    throw new ConfigError(
      `Invalid configuration: STARTER_LEAD_DAYS ${e.STARTER_LEAD_DAYS} must be fewer than PENDING_DAYS ${e.PENDING_DAYS}, or HR starters' accounts would become inactive before their first day.`,
    );
  }
  const dataDir = path.resolve(e.DATA_DIR);
  // First, so that DIRECTORY=entra names what it lacks in its own words.
  const directory = directoryConfig(e);
  return {
    database: e.DATABASE_URL
      ? { engine: 'postgres', url: e.DATABASE_URL }
      : { engine: 'pglite', dataDir: path.join(dataDir, 'pglite') },
    dataDir,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    schedules: { sweep: e.SWEEP_SCHEDULE, reminders: e.REMINDER_SCHEDULE, delivery: e.DELIVERY_SCHEDULE },
    scheduleTimezone: e.SCHEDULE_TIMEZONE,
    sweepCatchUp: e.SWEEP_CATCH_UP === 'true',
    scheduleLeaseMs: e.SCHEDULE_LEASE_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    operatorsChannel: e.OPERATORS_CHANNEL ? operatorsChannel(e.OPERATORS_CHANNEL) : null,
    envelopeDir: path.resolve(e.ENVELOPE_DIR ?? path.join(dataDir, 'envelopes')),
    activityFeedSecret: e.ACTIVITY_FEED_SECRET ?? null,
    policy: {
      graceDays: e.GRACE_DAYS,
      inactivityDays: e.INACTIVITY_DAYS,
      retentionDays: e.RETENTION_DAYS,
      restoreDays: e.RESTORE_DAYS,
      warningDays: e.WARNING_DAYS,
      pendingDays: e.PENDING_DAYS,
      disabledRetentionDays: e.DISABLED_RETENTION_DAYS,
      disabledWarningDays: e.DISABLED_WARNING_DAYS,
      siteAccountLimit: e.SITE_ACCOUNT_LIMIT,
      dsptMinimum: { ...DEFAULT_POLICY.dsptMinimum, ...e.DSPT_MINIMUM },
      mfaExemptSectors: e.MFA_EXEMPT_SECTORS,
      starterLeadDays: e.STARTER_LEAD_DAYS,
      tapLifetimeMinutes: e.TAP_LIFETIME_MINUTES,
    },
    hrFeedSecret: e.HR_FEED_SECRET ?? null,
    hrDataKey: e.HR_DATA_KEY ? Buffer.from(e.HR_DATA_KEY, 'base64') : null,
    slack: slackConfig(e),
    teams: teamsConfig(e),
    notify: notifyConfig(e),
    graph: graphConfig(e),
    directory,
  };
}
