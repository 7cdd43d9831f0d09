import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackTestBot } from '../slack/support/slack-bot.js';
import { as, day, operator, person } from '../support/service.js';

/** GET /metrics on the running bot: commands, sweeps and the outbox, in Prometheus text. */
describe('metrics', () => {
  // The bot's own scheduler sweeps every second here, so its sweeps show in its metrics.
  const bot = new SlackTestBot({ SWEEP_SCHEDULE: '* * * * * *' });
  const LA = 'U0LA';
  const metrics = async () => (await fetch(bot.url.replace('/slack/events', '/metrics'))).text();
  const value = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  beforeAll(async () => {
    await bot.start();
    const l = bot.lifecycle;
    await l.addOrganisation(operator(), { ods: 'RXX', name: 'Northtown', kind: 'trust' });
    await l.grantRole(operator(), { address: 'la@nhs.net', role: 'local-admin', org: 'RXX' });
    bot.slack.emails.set(LA, 'la@nhs.net');
  });
  afterAll(async () => {
    await bot.stop();
  });

  it('counts commands by name, outcome and platform, and times them', async () => {
    await bot.command(LA, 'status la@nhs.net');
    await bot.command(LA, 'leaver not-an-address');
    await bot.command(LA, 'sweep');
    const text = await metrics();
    expect(text).toContain('# TYPE nhsmail_commands_total counter');
    expect(
      value(text, 'nhsmail_commands_total{command="status",outcome="ACCOUNT_NOT_FOUND",platform="slack"}'),
    ).toBe(1);
    expect(
      value(text, 'nhsmail_commands_total{command="unparsed",outcome="INVALID_ADDRESS",platform="slack"}'),
    ).toBe(1);
    expect(
      value(text, 'nhsmail_commands_total{command="sweep",outcome="OPERATOR_ONLY",platform="slack"}'),
    ).toBe(1);
    expect(value(text, 'nhsmail_command_duration_seconds_count{command="status",platform="slack"}')).toBe(1);
    expect(text).toContain('nhsmail_process_resident_memory_bytes');
    expect(text).not.toContain('la@nhs.net');
  });

  it('reports sweeps, deliveries, outbox depth, the oldest undelivered notification and parked deliveries', async () => {
    const now = new Date();
    const made = await bot.lifecycle.provision(operator(day(-40, now)), {
      ...person('Ida', 'Idle'),
      org: 'RXX',
    });
    await bot.lifecycle.firstLogin(operator(day(-40, now)), { address: made.account.address, mfa: true });
    bot.slack.postMessageChaos = (_n, body) => (body.channel === 'C0GONE' ? 'channel_not_found' : 'ok');
    await bot.command(LA, 'subscribe --org RXX', { channel_id: 'C0GONE' });
    bot.slack.emails.set('U0IDA', made.account.address);
    // A holder's leaver request goes to RXX's channels, where C0GONE no longer exists: parked.
    const leaving = await bot.lifecycle.provision(operator(), { ...person('Lee', 'Leaving'), org: 'RXX' });
    await bot.lifecycle.firstLogin(operator(), { address: leaving.account.address, mfa: true });
    await bot.lifecycle.leaver(as(leaving.account.address), { address: leaving.account.address });
    const series = 'nhsmail_sweep_accounts_changed_total{step="inactivity"}';
    let text = '';
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      text = await metrics();
      if (
        value(text, series) === 1 &&
        value(text, 'nhsmail_deliveries_parked') === 1 &&
        (value(text, 'nhsmail_deliveries_total{platform="slack",kind="status-change",outcome="delivered"}') ??
          0) >= 1
      )
        break;
      await new Promise((r) => setTimeout(r, 200));
    }
    bot.slack.postMessageChaos = null;
    expect(value(text, series)).toBe(1);
    expect(value(text, 'nhsmail_sweep_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(
      value(text, 'nhsmail_deliveries_total{platform="slack",kind="status-change",outcome="delivered"}'),
    ).toBe(1);
    expect(value(text, 'nhsmail_delivery_failures_total{platform="slack",outcome="parked"}')).toBe(1);
    expect(value(text, 'nhsmail_deliveries_parked')).toBe(1);
    expect(value(text, 'nhsmail_outbox_depth{stage="sending"}')).toBe(0);
    expect(value(text, 'nhsmail_outbox_oldest_undelivered_seconds')).toBe(0);
    expect(text).not.toContain(made.account.address);
  });
});
