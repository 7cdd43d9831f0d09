import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

/** Loads the configuration, which must fail, and returns the error. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError, but the configuration loaded');
}

/** NHSmail's published minimums: Approaching Standards for care homes (social care), Standards Met elsewhere. */
const PUBLISHED_DSPT_MINIMUMS = {
  trust: 'standards-met',
  icb: 'standards-met',
  'gp-practice': 'standards-met',
  pharmacy: 'standards-met',
  dental: 'standards-met',
  'care-home': 'approaching-standards',
  'gp-locum': 'standards-met',
};

describe('loadConfig defaults', () => {
  it('runs on PGlite under ./data with the policy of DESIGN.md section 2', () => {
    expect(loadConfig({})).toEqual({
      database: { engine: 'pglite', dataDir: path.resolve('./data/pglite') },
      dataDir: path.resolve('./data'),
      port: 3000,
      logLevel: 'info',
      schedules: { sweep: '0 5 * * *', reminders: '0 10 * * 1-5', delivery: '*/2 * * * * *' },
      scheduleTimezone: 'Europe/London',
      sweepCatchUp: true,
      scheduleLeaseMs: 120_000,
      shutdownTimeoutMs: 20_000,
      operatorsChannel: null,
      envelopeDir: path.resolve('./data/envelopes'),
      activityFeedSecret: null,
      policy: {
        graceDays: 30,
        inactivityDays: 30,
        pendingDays: 30,
        disabledRetentionDays: 548,
        disabledWarningDays: [30, 7, 1],
        warningDays: [7, 3, 1],
        retentionDays: 30,
        restoreDays: 30,
        siteAccountLimit: 10,
        dsptMinimum: PUBLISHED_DSPT_MINIMUMS,
        mfaExemptSectors: [],
        starterLeadDays: 5,
        tapLifetimeMinutes: 480,
      },
      hrFeedSecret: null,
      hrDataKey: null,
      slack: null,
      teams: {
        appId: undefined,
        appPassword: undefined,
        appType: undefined,
        appTenantId: undefined,
        production: false,
      },
      notify: null,
      graph: null,
      directory: null,
    });
  });

  it('counts NODE_ENV=production in any case as production', () => {
    for (const value of ['production', 'Production', 'PRODUCTION', ' production ']) {
      expect(loadConfig({ NODE_ENV: value }).teams.production, value).toBe(true);
    }
    expect(loadConfig({ NODE_ENV: 'development' }).teams.production).toBe(false);
  });

  it('configures GOV.UK Notify only with both the API key and the SMS template', () => {
    const key = 'nhsmail-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0';
    const template = 'f33517ff-2a88-4f6e-b855-c550268ce08a';
    expect(loadConfig({ NOTIFY_API_KEY: key, NOTIFY_SMS_TEMPLATE_ID: template }).notify).toEqual({
      apiKey: key,
      smsTemplateId: template,
      baseUrl: undefined,
    });
    expect(() => loadConfig({ NOTIFY_API_KEY: key })).toThrow('NOTIFY_SMS_TEMPLATE_ID');
    expect(() => loadConfig({ NOTIFY_API_KEY: 'not-a-key', NOTIFY_SMS_TEMPLATE_ID: template })).toThrow(
      'NOTIFY_API_KEY',
    );
    expect(() => loadConfig({ NOTIFY_API_KEY: key, NOTIFY_SMS_TEMPLATE_ID: 'nope' })).toThrow(
      'NOTIFY_SMS_TEMPLATE_ID',
    );
  });

  describe('Slack', () => {
    const secret = 'abcdef0123456789abcdef';
    it('is off with no SLACK_ variable, HTTP with a signing secret, Socket Mode with an app token', () => {
      expect(loadConfig({}).slack).toBeNull();
      expect(loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: secret }).slack).toEqual({
        mode: 'http',
        botToken: 'xoxb-1',
        signingSecret: secret,
        appToken: undefined,
        apiUrl: undefined,
      });
      expect(loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }).slack?.mode).toBe('socket');
      expect(
        loadConfig({
          SLACK_BOT_TOKEN: 'xoxb-1',
          SLACK_SIGNING_SECRET: secret,
          SLACK_API_URL: 'http://127.0.0.1:9/api',
        }).slack?.apiUrl,
      ).toBe('http://127.0.0.1:9/api/');
    });

    it.each([
      [{ SLACK_SIGNING_SECRET: secret }, 'SLACK_BOT_TOKEN'],
      [{ SLACK_BOT_TOKEN: 'xoxb-1' }, 'SLACK_SIGNING_SECRET'],
      [{ SLACK_BOT_TOKEN: 'xoxp-user-token', SLACK_SIGNING_SECRET: secret }, 'SLACK_BOT_TOKEN'],
      [{ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xoxb-wrong' }, 'SLACK_APP_TOKEN'],
      [{ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'short' }, 'SLACK_SIGNING_SECRET'],
      [
        { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: secret, SLACK_API_URL: 'not a url' },
        'SLACK_API_URL',
      ],
    ])('refuses %o naming %s', (env, variable) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(variable);
    });
  });

  describe('the Microsoft Graph sign-in poller', () => {
    const tenant = '0c3c1e5e-8f0a-4a57-9a4b-6f2d3c1b2a10';
    const client = '6b1f3c52-2d8e-4f7a-9c41-0e5d7a8b9c20';
    const secret = 'client~secret~value~0123456789';
    const all = { GRAPH_TENANT_ID: tenant, GRAPH_CLIENT_ID: client, GRAPH_CLIENT_SECRET: secret };

    it('is off without credentials, and on, hourly at :17 against Microsoft’s cloud, with all three', () => {
      expect(loadConfig({}).graph).toBeNull();
      expect(loadConfig({ GRAPH_SCHEDULE: '0 * * * *' }).graph).toBeNull();
      expect(loadConfig(all).graph).toEqual({
        tenantId: tenant,
        clientId: client,
        clientSecret: secret,
        schedule: '17 * * * *',
        baseUrl: 'https://graph.microsoft.com',
        authorityUrl: 'https://login.microsoftonline.com',
      });
    });

    it('reads the schedule and the two URLs (tests point them at stand-ins)', () => {
      expect(
        loadConfig({
          ...all,
          GRAPH_TENANT_ID: 'nhs.net',
          GRAPH_SCHEDULE: '*/30 * * * *',
          GRAPH_BASE_URL: 'https://127.0.0.1:8443/',
          GRAPH_AUTHORITY_URL: 'https://login.microsoftonline.us',
        }).graph,
      ).toMatchObject({
        tenantId: 'nhs.net',
        schedule: '*/30 * * * *',
        baseUrl: 'https://127.0.0.1:8443',
        authorityUrl: 'https://login.microsoftonline.us',
      });
    });

    it.each([
      ['GRAPH_TENANT_ID', { GRAPH_CLIENT_ID: client, GRAPH_CLIENT_SECRET: secret }],
      ['GRAPH_CLIENT_ID', { GRAPH_TENANT_ID: tenant, GRAPH_CLIENT_SECRET: secret }],
      ['GRAPH_CLIENT_SECRET', { GRAPH_TENANT_ID: tenant, GRAPH_CLIENT_ID: client }],
      ['GRAPH_CLIENT_ID', { GRAPH_TENANT_ID: tenant }],
      ['GRAPH_TENANT_ID', { GRAPH_CLIENT_SECRET: secret }],
    ])('refuses a partial set, naming %s, and never echoes the secret', (variable, env) => {
      const error = configError(env);
      expect(error.message).toMatch(new RegExp(`^Invalid configuration: ${variable} is required`));
      expect(error.message).not.toContain(secret);
    });
  });

  describe('the directory (DIRECTORY)', () => {
    const tenant = '0c3c1e5e-8f0a-4a57-9a4b-6f2d3c1b2a10';
    const client = '6b1f3c52-2d8e-4f7a-9c41-0e5d7a8b9c20';
    const secret = 'client~secret~value~0123456789';
    const key = Buffer.alloc(32, 7).toString('base64');
    const entra = {
      DIRECTORY: 'entra',
      GRAPH_TENANT_ID: tenant,
      GRAPH_CLIENT_ID: client,
      GRAPH_CLIENT_SECRET: secret,
      HR_DATA_KEY: key,
    };
    const graph = {
      tenantId: tenant,
      clientId: client,
      clientSecret: secret,
      schedule: '17 * * * *',
      baseUrl: 'https://graph.microsoft.com',
      authorityUrl: 'https://login.microsoftonline.com',
    };

    it('is off (ledger mode) when DIRECTORY is unset, whatever else is set', () => {
      expect(loadConfig({}).directory).toBeNull();
      expect(
        loadConfig({
          DIRECTORY_CREDENTIAL: 'tap',
          DIRECTORY_SCHEDULE: '0 * * * * *',
          ...entra,
          DIRECTORY: '',
        }).directory,
      ).toBeNull();
    });

    it('DIRECTORY=entra writes with the GRAPH_ app, a password credential, every 15 seconds', () => {
      const config = loadConfig(entra);
      expect(config.directory).toEqual({
        kind: 'entra',
        credential: 'password',
        schedule: '*/15 * * * * *',
        writesPerSecond: 20,
        graph,
      });
      // The same app registration as the sign-in poller.
      expect(config.graph).toEqual(graph);
    });

    it('reads the credential, the schedule (seconds allowed) and the Graph URLs', () => {
      expect(
        loadConfig({
          ...entra,
          DIRECTORY_CREDENTIAL: 'tap',
          DIRECTORY_SCHEDULE: '*/5 * * * * *',
          DIRECTORY_WRITES_PER_SECOND: '2.5',
          GRAPH_BASE_URL: 'https://127.0.0.1:8443',
          GRAPH_AUTHORITY_URL: 'https://login.microsoftonline.us',
        }).directory,
      ).toEqual({
        kind: 'entra',
        credential: 'tap',
        schedule: '*/5 * * * * *',
        writesPerSecond: 2.5,
        graph: {
          ...graph,
          baseUrl: 'https://127.0.0.1:8443',
          authorityUrl: 'https://login.microsoftonline.us',
        },
      });
      expect(loadConfig({ ...entra, DIRECTORY_SCHEDULE: '*/2 * * * *' }).directory?.schedule).toBe(
        '*/2 * * * *',
      );
    });

    it.each([
      ['GRAPH_TENANT_ID', { GRAPH_TENANT_ID: '' }],
      ['GRAPH_CLIENT_ID', { GRAPH_CLIENT_ID: '' }],
      ['GRAPH_CLIENT_SECRET', { GRAPH_CLIENT_SECRET: ' ' }],
      ['GRAPH_TENANT_ID', { GRAPH_TENANT_ID: '', GRAPH_CLIENT_ID: '', GRAPH_CLIENT_SECRET: '' }],
      ['HR_DATA_KEY', { HR_DATA_KEY: '' }],
    ])(
      'DIRECTORY=entra refuses to start without %s, naming it, and never echoes the secret',
      (variable, without) => {
        const error = configError({ ...entra, ...without });
        expect(error.message).toMatch(
          new RegExp(`^Invalid configuration: ${variable} is required when DIRECTORY=entra \\(`),
        );
        expect(error.message).not.toContain(secret);
      },
    );

    it('says why DIRECTORY=entra needs HR_DATA_KEY', () => {
      expect(configError({ ...entra, HR_DATA_KEY: '' }).message).toMatch(
        /mobile number is kept sealed until the directory has the user and the temporary password is sent/,
      );
    });

    it.each([
      ['DIRECTORY', 'graph', /must be entra, or unset to record decisions only \(ledger mode\)/],
      ['DIRECTORY', 'Entra', /must be entra/],
      ['DIRECTORY_CREDENTIAL', 'sms', /must be password or tap/],
      ['DIRECTORY_SCHEDULE', 'every 15 seconds', /cron expression such as "\*\/15 \* \* \* \* \*"/],
    ])('refuses %s=%j, listing what it may be', (name, value, allowed) => {
      const error = configError({ ...entra, [name]: value });
      expect(error.message).toMatch(new RegExp(`^Invalid configuration: ${name}\\b`));
      expect(error.message).toMatch(allowed);
      expect(error.message).toContain(`(got "${value}")`);
    });
  });

  it('counts an empty string as unset', () => {
    const blank = loadConfig({
      DATABASE_URL: '',
      DATA_DIR: '',
      PORT: '',
      LOG_LEVEL: '',
      SWEEP_SCHEDULE: '',
      SCHEDULE_TIMEZONE: '',
      GRACE_DAYS: '',
      WARNING_DAYS: '',
      SITE_ACCOUNT_LIMIT: '',
      DSPT_MINIMUM: '',
      MFA_EXEMPT_SECTORS: '',
      GRAPH_TENANT_ID: '',
      GRAPH_CLIENT_ID: '',
      GRAPH_CLIENT_SECRET: ' ',
      GRAPH_SCHEDULE: '',
      GRAPH_BASE_URL: '',
      GRAPH_AUTHORITY_URL: '',
      DIRECTORY: '',
      DIRECTORY_CREDENTIAL: '',
      DIRECTORY_SCHEDULE: '',
    });
    expect(blank).toEqual(loadConfig({}));
    expect(blank.database).toEqual({ engine: 'pglite', dataDir: path.resolve('./data/pglite') });
  });

  it('never turns a blank-looking PORT into port 0, which would listen on a random port', () => {
    let port: number | undefined;
    try {
      port = loadConfig({ PORT: '   ' }).port;
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect(e instanceof Error ? e.message : '').toMatch(/\bPORT\b/);
      return;
    }
    expect(port).toBe(3000);
  });
});

describe('loadConfig overrides', () => {
  it('uses PostgreSQL when DATABASE_URL is set', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://bot:secret@db:5432/nhsmail' }).database).toEqual({
      engine: 'postgres',
      url: 'postgres://bot:secret@db:5432/nhsmail',
    });
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/nhsmail' }).database).toEqual({
      engine: 'postgres',
      url: 'postgresql://db/nhsmail',
    });
  });

  it('puts PGlite and the envelopes under DATA_DIR', () => {
    const config = loadConfig({ DATA_DIR: '/srv/bot' });
    expect(config.database).toEqual({ engine: 'pglite', dataDir: path.resolve('/srv/bot/pglite') });
    expect(config.dataDir).toBe(path.resolve('/srv/bot'));
    expect(config.envelopeDir).toBe(path.resolve('/srv/bot/envelopes'));
    expect(loadConfig({ DATA_DIR: '/srv/bot', ENVELOPE_DIR: '/secure/env' }).envelopeDir).toBe(
      path.resolve('/secure/env'),
    );
  });

  it('reads the port, the log level and the schedule', () => {
    const config = loadConfig({
      PORT: '8080',
      LOG_LEVEL: 'debug',
      SWEEP_SCHEDULE: '30 6 * * 1-5',
      SCHEDULE_TIMEZONE: 'UTC',
    });
    expect(config.port).toBe(8080);
    expect(config.logLevel).toBe('debug');
    expect(config.schedules.sweep).toBe('30 6 * * 1-5');
    expect(config.scheduleTimezone).toBe('UTC');
    expect(loadConfig({ PORT: '0' }).port).toBe(0);
  });

  it('reads every schedule, the catch-up switch, the lease and the operators’ channel', () => {
    const config = loadConfig({
      REMINDER_SCHEDULE: '0 9 * * *',
      DELIVERY_SCHEDULE: '* * * * * *',
      SWEEP_CATCH_UP: 'false',
      SCHEDULE_LEASE_MS: '5000',
      OPERATORS_CHANNEL: 'teams:19:abc@thread.tacv2',
    });
    expect(config.schedules).toEqual({ sweep: '0 5 * * *', reminders: '0 9 * * *', delivery: '* * * * * *' });
    expect(config.sweepCatchUp).toBe(false);
    expect(config.scheduleLeaseMs).toBe(5000);
    expect(config.operatorsChannel).toEqual({ platform: 'teams', channelId: '19:abc@thread.tacv2' });
    expect(() => loadConfig({ DELIVERY_SCHEDULE: 'every second' })).toThrow(
      /DELIVERY_SCHEDULE must be a cron expression/,
    );
    expect(() => loadConfig({ SWEEP_CATCH_UP: 'yes' })).toThrow(/SWEEP_CATCH_UP must be true or false/);
    // Shorter than a second would have processes renewing and taking over runs many times a second.
    expect(() => loadConfig({ SCHEDULE_LEASE_MS: '500' })).toThrow(/SCHEDULE_LEASE_MS/);
    expect(() => loadConfig({ OPERATORS_CHANNEL: 'C0123' })).toThrow(
      /OPERATORS_CHANNEL must be slack:CHANNEL_ID/,
    );
  });

  it('reads every policy number', () => {
    const { policy } = loadConfig({
      GRACE_DAYS: '45',
      INACTIVITY_DAYS: '60',
      RETENTION_DAYS: '14',
      RESTORE_DAYS: '7',
      SITE_ACCOUNT_LIMIT: '25',
    });
    expect(policy).toMatchObject({
      graceDays: 45,
      inactivityDays: 60,
      retentionDays: 14,
      restoreDays: 7,
      siteAccountLimit: 25,
    });
  });

  it('changes the DSPT minimum of the sectors named and leaves the others at the published ones', () => {
    const { policy } = loadConfig({ DSPT_MINIMUM: 'care-home=standards-met,dental=approaching-standards' });
    expect(policy.dsptMinimum).toEqual({
      ...PUBLISHED_DSPT_MINIMUMS,
      'care-home': 'standards-met',
      dental: 'approaching-standards',
    });
  });

  it('reads several DSPT minimums, with spaces and spelled as published', () => {
    const { policy } = loadConfig({
      DSPT_MINIMUM: ' care-home = Standards Exceeded , pharmacy=standards-exceeded ',
    });
    expect(policy.dsptMinimum['care-home']).toBe('standards-exceeded');
    expect(policy.dsptMinimum.pharmacy).toBe('standards-exceeded');
    expect(policy.dsptMinimum.dental).toBe('standards-met');
  });

  it('exempts the sectors listed in MFA_EXEMPT_SECTORS', () => {
    expect(loadConfig({ MFA_EXEMPT_SECTORS: 'care-home,dental' }).policy.mfaExemptSectors).toEqual([
      'care-home',
      'dental',
    ]);
    expect(loadConfig({ MFA_EXEMPT_SECTORS: ' care-home , ' }).policy.mfaExemptSectors).toEqual([
      'care-home',
    ]);
  });

  it('sorts warning days most distant first, without repeats', () => {
    expect(loadConfig({ WARNING_DAYS: '1,14,7' }).policy.warningDays).toEqual([14, 7, 1]);
    expect(loadConfig({ WARNING_DAYS: ' 3, 7 ,3,1 ' }).policy.warningDays).toEqual([7, 3, 1]);
  });
});

describe('loadConfig refuses invalid values, naming the variable', () => {
  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '80.5'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'db.example.org:5432'],
    ['LOG_LEVEL', 'loud'],
    ['GRACE_DAYS', '0'],
    ['GRACE_DAYS', 'thirty'],
    ['INACTIVITY_DAYS', '-5'],
    ['RETENTION_DAYS', '3651'],
    ['RESTORE_DAYS', '1.5'],
    ['SITE_ACCOUNT_LIMIT', '0'],
    ['WARNING_DAYS', '7,x'],
    ['WARNING_DAYS', '0'],
    ['WARNING_DAYS', '7,400'],
    ['DSPT_MINIMUM', 'care-home=great'],
    ['DSPT_MINIMUM', 'spaceship=standards-met'],
    ['DSPT_MINIMUM', 'care-home'],
    ['MFA_EXEMPT_SECTORS', 'spaceship'],
    ['MFA_EXEMPT_SECTORS', 'care-home,spaceship'],
    ['SWEEP_SCHEDULE', 'not cron'],
    ['SCHEDULE_TIMEZONE', 'Mars/Base'],
    ['GRAPH_SCHEDULE', 'every hour'],
    ['GRAPH_BASE_URL', 'http://graph.microsoft.com'],
    ['GRAPH_BASE_URL', 'https://graph.microsoft.com/v1.0'],
    ['GRAPH_AUTHORITY_URL', 'login.microsoftonline.com'],
    ['GRAPH_AUTHORITY_URL', 'https://login.microsoftonline.com/common'],
    ['GRAPH_CLIENT_ID', 'nhsmail-bot'],
    ['GRAPH_TENANT_ID', 'tenant/../x'],
  ])('%s=%j', (name, value) => {
    const error = configError({ [name]: value });
    expect(error.name).toBe('ConfigError');
    expect(error.message).toMatch(new RegExp(`^Invalid configuration: ${name}\\b`));
    expect(error.message).toContain(`(got "${value}")`);
  });

  it('says what a good value looks like', () => {
    expect(configError({ DATABASE_URL: 'mysql://x' }).message).toMatch(/postgres:\/\/ or postgresql:\/\//);
    expect(configError({ WARNING_DAYS: '7,x' }).message).toMatch(/whole days, e\.g\. 7,3,1/);
    expect(configError({ DSPT_MINIMUM: 'care-home=great' }).message).toMatch(/standards-met/);
    expect(configError({ DSPT_MINIMUM: 'care-home' }).message).toMatch(/care-home=approaching-standards/);
    expect(configError({ MFA_EXEMPT_SECTORS: 'spaceship' }).message).toMatch(/care-home/);
    expect(configError({ SWEEP_SCHEDULE: 'not cron' }).message).toMatch(
      /cron expression such as "0 5 \* \* \*"/,
    );
    expect(configError({ GRAPH_SCHEDULE: 'x' }).message).toMatch(/cron expression such as "17 \* \* \* \*"/);
    expect(configError({ GRAPH_BASE_URL: 'http://graph.microsoft.com' }).message).toMatch(
      /https:\/\/ URL with no path, such as https:\/\/graph\.microsoft\.com/,
    );
    expect(configError({ SCHEDULE_TIMEZONE: 'Mars/Base' }).message).toMatch(
      /IANA time zone such as Europe\/London/,
    );
  });
});
