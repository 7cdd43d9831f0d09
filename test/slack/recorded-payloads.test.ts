import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operator, person } from '../support/service.js';
import type { Recorded } from './support/fake-slack.js';
import { fixture, SlackTestBot } from './support/slack-bot.js';

/**
 * Payloads as Slack really sends them, posted unchanged to the running bot. Their shapes come from
 * public recordings and Slack's documentation (test/slack/fixtures/recorded/SOURCES.md): a typed
 * address arrives as `<mailto:…|…>`, `&`, `<` and `>` arrive escaped, a message carries rich_text
 * beside its text, and an edit or a link preview arrives as `message_changed`.
 */
describe('Slack payloads as recorded', () => {
  const bot = new SlackTestBot();
  const recorded = (name: string) => fixture(`recorded/${name}.json`);
  const slash = (key: string) => recorded('slash-escaped')[key] as Record<string, unknown>;
  const inDm = () => bot.slack.of('chat.postMessage').filter((c) => c.body.channel === 'D0DIRECT');
  const jane = 'jane.doe@nhs.net';

  /** Posts a recorded DM event and returns what the bot said in the DM. */
  async function dm(payload: Record<string, unknown>): Promise<string> {
    const before = inDm().length;
    const ack = await bot.postRecorded(payload);
    expect(ack.status).toBe(200);
    await bot.slack.waitFor(() => inDm().length > before);
    return said(inDm().slice(before));
  }

  /** Posts a recorded slash command and returns what the bot answered through its response_url. */
  async function command(payload: Record<string, unknown>): Promise<string> {
    const before = bot.slack.of('response_url').length;
    const ack = await bot.postRecorded(payload);
    expect(ack.status).toBe(200);
    await bot.slack.waitFor(() => bot.slack.of('response_url').length > before);
    return said(bot.slack.of('response_url').slice(before));
  }

  beforeAll(async () => {
    await bot.start();
    const l = bot.lifecycle;
    await l.addOrganisation(operator(), { ods: 'RXX', name: 'Northtown Hospitals', kind: 'trust' });
    await l.addOrganisation(operator(), { ods: 'RYY', name: 'Southville Trust', kind: 'trust' });
    await l.grantRole(operator(), { address: 'sam.admin@nhs.net', role: 'local-admin', org: 'RYY' });
    await l.grantRole(operator(), { address: 'nadia.nas@nhs.net', role: 'nas-admin' });
    const made = await l.provision(operator(), { ...person('Jane', 'Doe'), org: 'RXX' });
    expect(made.account.address).toBe(jane);
    await l.firstLogin(operator(), { address: jane, mfa: true });
    await l.leaver(operator(), { address: jane });
    bot.slack.emails.set('U0LOCALADMIN', 'sam.admin@nhs.net');
    bot.slack.emails.set('U0LOCUM', 'nadia.nas@nhs.net');
    bot.slack.emails.set('U0NEWUSER', 'new.starter@example.org');
  });
  afterAll(async () => {
    await bot.stop();
  });

  it('a DM naming an address acts on that account, read from its rich_text', async () => {
    const answer = await dm(recorded('dm-address'));
    expect(answer).toContain(`${jane}: leaver`);
    expect(answer).not.toContain('NOT_NHS_NET');
  });

  it('the same DM without rich_text is read from its escaped text', async () => {
    const payload = recorded('dm-address');
    const { blocks: _blocks, ...event } = payload.event as Record<string, unknown>;
    const answer = await dm({ ...payload, event, event_id: 'Ev0ADDRESS02' });
    expect(answer).toContain(`${jane}: leaver`);
  });

  it('the helpdesk’s slash command with a linked address acts on that account', async () => {
    const answer = await command(slash('joinerEscaped'));
    expect(answer).toContain('Joined from RXX');
    const status = await bot.lifecycle.status(operator(), { address: jane });
    expect(status.account).toMatchObject({ status: 'active', org: 'RYY' });
    const trail = await bot.lifecycle.auditTrail(operator(), { address: jane });
    expect(trail.at(-1)).toMatchObject({ action: 'joiner', actor: 'sam.admin@nhs.net', platform: 'slack' });
  });

  it('a name typed with & in a slash command is stored and shown as typed', async () => {
    const answer = await command({ ...slash('nameEscaped'), user_id: 'U0LOCUM' });
    const site = await bot.lifecycle.showSite(operator(), { ods: 'FQ124' });
    expect(site.site.name).toBe('Boots & Co Pharmacy');
    // Shown as typed: Slack renders the escaped `&amp;` as `&`, and nothing is escaped twice.
    expect(answer).toContain('Boots & Co Pharmacy');
    expect(answer).not.toContain('&amp;');
  });

  it('&, < and > in a DM (straight or curly quotes) are stored and shown as typed', async () => {
    for (const [name, ods] of [
      ['dm-name-ampersand', 'FQ123'],
      ['dm-name-ampersand-smart-quotes', 'FQ126'],
    ] as const) {
      const payload = recorded(name);
      const answer = await dm({ ...payload, event: { ...(payload.event as object), user: 'U0LOCUM' } });
      const site = await bot.lifecycle.showSite(operator(), { ods });
      expect(site.site.name).toBe('Boots & Co <Market St> Pharmacy');
      expect(answer).toContain('Boots & Co <Market St> Pharmacy');
    }
  });

  it('links a mentioned user to a linked address, by slash command and by DM', async () => {
    const bySlash = await command({ ...slash('linkEscaped'), user_id: 'U0LOCUM' });
    expect(bySlash).toContain(`now acts as ${jane}`);
    expect(
      await bot.lifecycle.linkedAddress({ platform: 'slack', tenant: 'T0001', userId: 'U0NEWUSER' }),
    ).toBe(jane);
    const byDm = await dm(recorded('dm-mention'));
    expect(byDm).toContain(`now acts as ${jane}`);
  });

  it('a channel where an organisation is expected reaches the validator, which says what was wrong', async () => {
    const answer = await command(slash('channelEscaped'));
    expect(answer).toContain('INVALID_ODS');
    expect(answer).toContain('"#it-helpdesk" is not an ODS code');
    expect(await bot.lifecycle.subscriptions(operator(), { org: 'RYY' })).toEqual([]);
  });

  it('an edited DM is answered with what to do, not run; a link preview gets no answer', async () => {
    const before = inDm().length;
    const answer = await dm(recorded('dm-edited'));
    expect(answer).toContain('did not run your edit');
    expect(answer).toContain(`status ${jane}`);
    await bot.postRecorded(recorded('dm-unfurl-changed'));
    await new Promise((r) => setTimeout(r, 400));
    expect(inDm().length).toBe(before + 1);
  });

  it('a form submitted with &, < and accented names is stored as typed (modal inputs arrive raw)', async () => {
    const payload = { ...recorded('view-submission-text'), user: { id: 'U0LOCUM', team_id: 'T0001' } };
    const ack = await bot.postRecorded(payload);
    expect(ack.status).toBe(200);
    const answer = (await ack.json()) as { response_action: string; view?: { blocks: unknown[] } };
    expect(answer.response_action).toBe('update');
    const site = await bot.lifecycle.showSite(operator(), { ods: 'FQ125' });
    expect(site.site.name).toBe('Boots & Co <Market St> Pharmacy');
    expect(site.owners).toEqual(['sian-eloise.oconnor@nhs.net']);
  });
});

/** What the bot's messages say, as a person reads them in Slack (mrkdwn escapes undone). */
function said(calls: Recorded[]): string {
  return calls
    .flatMap((c) => {
      const blocks = (c.body.blocks ?? []) as Array<{
        text?: { text: string };
        elements?: Array<{ text?: string }>;
      }>;
      return blocks.map((b) => b.text?.text ?? b.elements?.map((e) => e.text ?? '').join(' ') ?? '');
    })
    .join('\n')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
