import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operator } from '../support/service.js';
import { SlackTestBot } from './support/slack-bot.js';

describe('Slack forms instead of flags', () => {
  const bot = new SlackTestBot();
  const LA = 'U0LOCALADMIN';
  const NAS = 'U0NAS';
  const OWNER = 'U0OWNER';

  beforeAll(async () => {
    await bot.start();
    const l = bot.lifecycle;
    await l.addOrganisation(operator(), { ods: 'RXX', name: 'Northtown Hospitals', kind: 'trust' });
    await l.addOrganisation(operator(), { ods: 'RYY', name: 'Southville Trust', kind: 'trust' });
    await l.grantRole(operator(), { address: 'sam.admin@nhs.net', role: 'local-admin', org: 'RXX' });
    await l.grantRole(operator(), { address: 'nas.admin@nhs.net', role: 'nas-admin' });
    bot.slack.emails.set(LA, 'sam.admin@nhs.net');
    bot.slack.emails.set(NAS, 'nas.admin@nhs.net');
  });
  afterAll(async () => {
    await bot.stop();
  });

  it('opens a form with the trigger id when provision is typed without flags', async () => {
    const before = bot.slack.of('views.open').length;
    const ack = await bot.slash(LA, 'provision');
    expect(ack.status).toBe(200);
    await bot.slack.waitFor((calls) => calls.filter((c) => c.method === 'views.open').length > before);
    const open = bot.slack.of('views.open').at(-1);
    expect(open?.body.trigger_id).toBe(bot.lastTriggerId);
    const view = open?.body.view as { callback_id: string; blocks: Array<{ block_id: string }> };
    expect(view.callback_id).toBe('form_provision');
    expect(view.blocks.map((b) => b.block_id)).toEqual([
      'given',
      'family',
      'org',
      'mobile',
      'dob',
      'reg',
      'delivery',
    ]);
  });

  it('shows a bad value next to its field, and creates nothing', async () => {
    const r = await bot.submitForm(LA, 'form_provision', {
      given: 'Ann',
      family: 'Lee',
      org: 'RXX',
      mobile: '0161 496 0000',
    });
    expect(r.status).toBe(200);
    expect(r.answer.response_action).toBe('errors');
    const errors = r.answer.errors as Record<string, string>;
    expect(Object.keys(errors)).toEqual(['mobile']);
    expect(errors.mobile).toContain('UK mobile');
    const missing = await bot.submitForm(LA, 'form_provision', { given: 'Ann', org: 'R-X' });
    expect(Object.keys(missing.answer.errors as object).sort()).toEqual(['family', 'org']);
    const unknownOrg = await bot.submitForm(LA, 'form_provision', {
      given: 'Ann',
      family: 'Lee',
      org: 'RZZ',
    });
    expect((unknownOrg.answer.errors as Record<string, string>).org).toContain(
      'No organisation with ODS code RZZ',
    );
    expect(await bot.lifecycle.expiring(operator(), { within: 3650 })).toEqual([]);
  });

  it('runs the command on a good submission and replaces the form with the outcome', async () => {
    const r = await bot.submitForm(LA, 'form_provision', {
      given: 'Ann',
      family: 'Lee',
      org: 'RXX',
      dob: '1990-05-06',
      delivery: 'envelope',
    });
    expect(r.answer.response_action).toBe('update');
    expect(JSON.stringify(r.answer.view)).toContain('Created ann.lee@nhs.net (pending)');
    const status = await bot.lifecycle.status(operator(), { address: 'ann.lee@nhs.net' });
    expect(status.account).toMatchObject({ status: 'pending', org: 'RXX' });
    const trail = await bot.lifecycle.auditTrail(operator(), { address: 'ann.lee@nhs.net' });
    expect(trail[0]).toMatchObject({ actor: 'sam.admin@nhs.net', platform: 'slack', action: 'provision' });
  });

  it('shows a duplicate person with the existing account and a button that starts a joiner instead', async () => {
    await bot.lifecycle.firstLogin(operator(), { address: 'ann.lee@nhs.net', mfa: true });
    await bot.lifecycle.leaver(operator(), { address: 'ann.lee@nhs.net' });
    const r = await bot.submitForm(LA, 'form_provision', {
      given: 'Anne',
      family: 'Lee',
      org: 'RXX',
      dob: '1990-05-06',
      delivery: 'envelope',
    });
    expect(r.answer.response_action).toBe('update');
    const view = r.answer.view as Record<string, unknown>;
    const text = JSON.stringify(view);
    expect(text).toContain('DUPLICATE_PERSON');
    expect(text).toContain('Existing account: *ann.lee@nhs.net*');
    expect(text).toContain('Start a joiner into RXX');
    const click = await bot.clickInView(LA, view, 'duplicate_start_joiner');
    expect(click.ack.status).toBe(200);
    expect(JSON.stringify(click.update?.body.view)).toContain('Joined from RXX');
    expect((await bot.lifecycle.status(operator(), { address: 'ann.lee@nhs.net' })).account.status).toBe(
      'active',
    );
  });

  it('registers a site from its form, and a site owner requests staff accounts from theirs', async () => {
    const r = await bot.submitForm(NAS, 'form_site_register', {
      ods: 'FA123',
      kind: 'pharmacy',
      name: 'High Street Pharmacy',
      dspt: 'standards-met',
      'owner-given': 'Olu',
      'owner-family': 'Owner',
    });
    expect(JSON.stringify(r.answer.view)).toContain('Shared mailbox: pharmacy.fa123@nhs.net');
    bot.slack.emails.set(OWNER, 'olu.owner@nhs.net');
    const staff = await bot.submitForm(OWNER, 'form_site_request_account', {
      site: 'FA123',
      given: 'Pat',
      family: 'Tech',
    });
    expect(JSON.stringify(staff.answer.view)).toContain('Created pat.tech@nhs.net (pending)');
    const notSite = await bot.submitForm(OWNER, 'form_site_request_account', {
      site: 'RXX',
      given: 'Pat',
      family: 'Tech',
    });
    expect((notSite.answer.errors as Record<string, string>).site).toContain('not a community site');
  });

  it('asks a care home for its CQC location ID next to its field, and registers it with one', async () => {
    const home = {
      ods: 'VN4J1',
      kind: 'care-home',
      name: 'Rose Care Home',
      dspt: 'approaching-standards',
      'owner-given': 'Rita',
      'owner-family': 'Rowe',
    };
    const missing = await bot.submitForm(NAS, 'form_site_register', home);
    expect(missing.answer.response_action).toBe('errors');
    expect(missing.answer.errors).toEqual({ 'cqc-location': expect.stringContaining('--cqc-location') });
    const bad = await bot.submitForm(NAS, 'form_site_register', { ...home, 'cqc-location': '101661355' });
    expect((bad.answer.errors as Record<string, string>)['cqc-location']).toContain('"1-" then digits');
    const pharmacy = await bot.submitForm(NAS, 'form_site_register', {
      ...home,
      ods: 'FB456',
      kind: 'pharmacy',
      dspt: 'standards-met',
      'cqc-location': '1-101661355',
    });
    expect((pharmacy.answer.errors as Record<string, string>)['cqc-location']).toContain(
      'Only care homes have a CQC location ID',
    );
    const done = await bot.submitForm(NAS, 'form_site_register', { ...home, 'cqc-location': '1-101661355' });
    expect(JSON.stringify(done.answer.view)).toContain(
      'Registered Rose Care Home (VN4J1), care-home, CQC location 1-101661355.',
    );
  });
});
