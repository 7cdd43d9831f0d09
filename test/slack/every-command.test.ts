import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS as SPECS } from '../../src/commands/grammar.js';
import { queryRows } from '../support/engines.js';
import { day, operator, person } from '../support/service.js';
import { SlackTestBot } from './support/slack-bot.js';

/**
 * Every command of the grammar, typed in Slack by a NAS administrator, with its answer and the
 * state it leaves checked. Operator-only commands are refused.
 */
describe('every grammar command through Slack', () => {
  const bot = new SlackTestBot();
  const NAS = 'U0NAS';
  const PAT = 'pat.smith@nhs.net';
  let idle = '';
  const covered = new Set<string>();

  beforeAll(async () => {
    await bot.start();
    const l = bot.lifecycle;
    await l.addOrganisation(operator(), { ods: 'RXX', name: 'Northtown Hospitals', kind: 'trust' });
    await l.addOrganisation(operator(), { ods: 'RYY', name: 'Southville Trust', kind: 'trust' });
    await l.grantRole(operator(), { address: 'nas.admin@nhs.net', role: 'nas-admin' });
    bot.slack.emails.set(NAS, 'nas.admin@nhs.net');
    // An account idle since 55 days ago, made inactive by a sweep 20 days ago: within retention.
    const now = new Date();
    const made = await l.provision(operator(day(-55, now)), { ...person('Ida', 'Idle'), org: 'RXX' });
    idle = made.account.address;
    await l.firstLogin(operator(day(-55, now)), { address: idle, mfa: true });
    await l.sweep(operator(day(-20, now)), { dryRun: false });
  });
  afterAll(async () => {
    await bot.stop();
  });

  const run = async (text: string, fields: Record<string, string> = {}) => {
    covered.add(
      SPECS.find(
        (s) =>
          text.toLowerCase().startsWith(s.name) &&
          (text.length === s.name.length || text[s.name.length] === ' '),
      )?.name ?? text,
    );
    return (await bot.command(NAS, text, fields)).text;
  };
  const account = async (address: string) => (await bot.lifecycle.status(operator(), { address })).account;
  const one = async <T extends Record<string, unknown>>(query: ReturnType<typeof sql>) =>
    (await queryRows<T>(bot.database.db, query))[0];

  it('help and contact', async () => {
    expect(await run('help')).toContain('site request-account');
    expect(await run('help leaver')).toContain('grace period');
    expect(await run('contact gp-locum')).toContain('locumadmin@nhs.net');
  });

  it('org dspt, org group, grant and revoke', async () => {
    expect(await run('org dspt --ods RXX --dspt standards-exceeded')).toContain('Standards Exceeded');
    expect(await one<{ dspt: string }>(sql`select dspt from organisations where ods = 'RXX'`)).toEqual({
      dspt: 'standards-exceeded',
    });
    expect(await run('org group --ods RXX --group 0B1C2D3E-4F50-6172-8394-A5B6C7D8E9F0')).toContain(
      'directory group none → 0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
    );
    expect(
      await one<{ directory_group: string }>(
        sql`select directory_group from organisations where ods = 'RXX'`,
      ),
    ).toEqual({ directory_group: '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0' });
    expect(await run('grant mgr@nhs.net manager --org RXX')).toContain('is now manager of RXX');
    expect(
      await one<{ n: number }>(sql`select count(*)::int as n from roles where address = 'mgr@nhs.net'`),
    ).toEqual({ n: 1 });
    expect(await run('revoke mgr@nhs.net manager --org RXX')).toContain('no longer manager of RXX');
    expect(
      await one<{ n: number }>(sql`select count(*)::int as n from roles where address = 'mgr@nhs.net'`),
    ).toEqual({ n: 0 });
  });

  it('provision, first-login, activity, transfer, leaver and joiner', async () => {
    expect(await run('provision --given Pat --family Smith --org RXX --delivery envelope')).toContain(
      `Created ${PAT} (pending)`,
    );
    expect((await account(PAT)).status).toBe('pending');
    expect(await run(`first-login ${PAT} --mfa`)).toContain('First login recorded');
    expect((await account(PAT)).status).toBe('active');
    const before = (await account(PAT)).lastActivityAt ?? '';
    expect(await run(`activity ${PAT}`)).toContain('Activity recorded');
    expect((await account(PAT)).lastActivityAt ?? '').not.toBe(before);
    expect(await run(`transfer ${PAT} --to RYY`)).toContain('from RXX to RYY requested');
    expect((await bot.lifecycle.status(operator(), { address: PAT })).transfer).toMatchObject({ to: 'RYY' });
    expect(await run(`leaver ${PAT}`)).toContain('Marked as a leaver');
    expect((await account(PAT)).status).toBe('leaver');
    expect(await run(`joiner ${PAT} --org RYY`)).toContain('Joined from RXX');
    expect(await account(PAT)).toMatchObject({ status: 'active', org: 'RYY' });
  });

  it('reactivate, status, expiring and audit', async () => {
    expect((await account(idle)).status).toBe('inactive');
    expect(await run(`reactivate ${idle}`)).toContain('Reactivated');
    expect((await account(idle)).status).toBe('active');
    const shown = await run(`status ${PAT}`);
    expect(shown).toContain(`${PAT}: active, Southville Trust (RYY)`);
    // No directory is connected to this bot: it says the change is made in the directory by hand.
    expect(shown).toContain('Directory: none connected. The bot records decisions only');
    expect(await run('expiring --org RYY --within 60')).toContain(
      `${PAT} (RYY, active): inactive unless used`,
    );
    const trail = await run(`audit ${PAT}`);
    for (const action of ['provision', 'first-login', 'activity', 'transfer-request', 'leaver', 'joiner']) {
      expect(trail).toContain(action);
    }
  });

  it('disable and enable', async () => {
    const away = (await bot.lifecycle.provision(operator(), { ...person('Mae', 'Away'), org: 'RXX' })).account
      .address;
    await bot.lifecycle.firstLogin(operator(), { address: away, mfa: true });
    const back = day(200, new Date()).toISOString().slice(0, 10);
    expect(await run(`disable ${away} --reason "maternity leave" --until ${back}`)).toContain('Disabled');
    expect(await account(away)).toMatchObject({
      status: 'disabled',
      disabledReason: 'maternity leave',
      disabledUntil: `${back}T00:00:00.000Z`,
    });
    expect(await run(`enable ${away}`)).toContain('Enabled');
    expect(await account(away)).toMatchObject({ status: 'active', disabledReason: null });
  });

  it('remind', async () => {
    expect(await run(`remind ${PAT}`)).toContain(`Reminder queued for ${PAT}`);
    expect(
      await one<{ n: number }>(
        sql`select count(*)::int as n from outbox where kind = 'reminder' and audience->>'address' = ${PAT}`,
      ),
    ).toEqual({ n: 1 });
    expect(await run(`remind ${PAT}`)).toContain('REMINDED_RECENTLY');
  });

  it('site register, site request-account, site show and site mailbox-done', async () => {
    expect(
      await run(
        'site register --ods FB456 --kind pharmacy --name "Corner Pharmacy" --dspt standards-met --owner-given Olu --owner-family Ade',
      ),
    ).toContain('Shared mailbox: pharmacy.fb456@nhs.net');
    expect(
      await run('site request-account --site FB456 --given Kim --family Park --delivery envelope'),
    ).toContain('Created kim.park@nhs.net (pending)');
    expect((await account('kim.park@nhs.net')).org).toBe('FB456');
    const shown = await run('site show FB456');
    expect(shown).toContain('Corner Pharmacy (FB456), pharmacy');
    expect(shown).toContain('Accounts: 2 of 10 used');
    // No directory is connected here, so the bot made no note of a mailbox for NAS to make.
    expect(await run('site mailbox-done FB456')).toContain('NO_MANUAL_STEP');
  });

  it('link, subscribe, subscriptions and unsubscribe', async () => {
    expect(await run(`link <@U0PAT|pat> ${PAT}`)).toContain(`now acts as ${PAT}`);
    expect(await bot.lifecycle.linkedAddress({ platform: 'slack', tenant: 'T0001', userId: 'U0PAT' })).toBe(
      PAT,
    );
    expect(await run('subscribe --org RYY', { channel_id: 'C0RYY' })).toContain(
      'now receives alerts for Southville Trust (RYY)',
    );
    expect(await run('subscriptions', { channel_id: 'C0RYY' })).toContain('RYY');
    expect(await run('unsubscribe --org RYY', { channel_id: 'C0RYY' })).toContain(
      'no longer receives alerts',
    );
    expect(await bot.lifecycle.subscriptions(operator(), { org: 'RYY' })).toEqual([]);
  });

  it('refuses the operator-only commands', async () => {
    expect(await run('org add --ods RZZ --name Z --kind trust')).toContain('OPERATOR_ONLY');
    expect(await run('sweep')).toContain('OPERATOR_ONLY');
    expect(await run('reminders')).toContain('OPERATOR_ONLY');
    // A file path typed in chat would name a file on the bot's server: never read.
    expect(await run('import starters /etc/passwd')).toContain('COMMAND_LINE_ONLY');
    expect(await run('import leavers /etc/passwd')).toContain('COMMAND_LINE_ONLY');
    expect(await run('import activity /etc/passwd')).toContain('OPERATOR_ONLY');
    expect(await run('import orgs /etc/passwd --kind trust')).toContain('OPERATOR_ONLY');
    expect(await run('notifications failed')).toContain('OPERATOR_ONLY');
    expect(await run('notifications retry 1')).toContain('OPERATOR_ONLY');
    expect(await run('notifications retry --all')).toContain('OPERATOR_ONLY');
    expect(await run('directory failed')).toContain('OPERATOR_ONLY');
    expect(await run('directory retry 1')).toContain('OPERATOR_ONLY');
    expect(await run('directory retry --all')).toContain('OPERATOR_ONLY');
    expect(await run('directory import')).toContain('OPERATOR_ONLY');
    expect(await run('directory import --org RXX --dry-run')).toContain('OPERATOR_ONLY');
    // NAS may adopt a directory account in conflict from chat: past its role, this bot has no such change.
    expect(await run('directory retry 1 --adopt')).toContain('DIRECTORY_EFFECT_NOT_FOUND');
    expect(await run('export audit --from 2026-01-01 --to 2026-12-31')).toContain('OPERATOR_ONLY');
    expect(await run('export audit --from 2026-01-01 --to 2026-12-31 --out /tmp/audit.csv')).toContain(
      'OPERATOR_ONLY',
    );
    expect(
      await one<{ n: number }>(sql`select count(*)::int as n from organisations where ods = 'RZZ'`),
    ).toEqual({ n: 0 });
  });

  it('directory drift: says no report has been made yet, and names what makes one', async () => {
    expect(await run('directory drift')).toContain('No drift report yet');
    expect(await run('directory drift --org RXX')).toContain('GRAPH_SCHEDULE');
  });

  it('directory reapply: in ledger mode there is no directory to put back', async () => {
    expect(await run(`directory reapply ${PAT}`)).toContain('DIRECTORY_NOT_CONFIGURED');
  });

  it('covered every command of the grammar', () => {
    expect([...covered].sort()).toEqual(SPECS.map((s) => s.name).sort());
  });
});
