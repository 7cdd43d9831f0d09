import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lifecycle } from '../../src/service/lifecycle.js';
import { answerText, SlackTestBot } from '../slack/support/slack-bot.js';
import { operator, person } from '../support/service.js';
import { TeamsTestBot } from '../teams/support/teams-bot.js';

/**
 * One suite of chat behaviours, run against both adapters: the same words give the same state
 * change and the same refusal text on Slack and on Teams, so the two cannot drift apart.
 */
interface ChatDriver {
  platform: 'slack' | 'teams';
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly lifecycle: Lifecycle;
  /** Makes a chat user whose platform profile carries this e-mail. */
  user(key: string, email: string): void;
  /** Types words as that user (in a channel when given); resolves with what the bot answered, as plain text. */
  type(key: string, text: string, channel?: string): Promise<string>;
  /** Edits that user's last direct message to these words, as the platform reports an edit. */
  edit(key: string, text: string): Promise<string>;
}

const flatten = (text: string) =>
  text
    .replace(/\*\*|`/g, '')
    .replace(/:no_entry: |:warning: /g, '')
    .replace(/\\n/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

function slackDriver(): ChatDriver {
  const bot = new SlackTestBot();
  const ids = new Map<string, string>();
  return {
    platform: 'slack',
    start: () => bot.start(),
    stop: () => bot.stop(),
    get lifecycle() {
      return bot.lifecycle;
    },
    user(key, email) {
      const id = `U0${key.toUpperCase()}`;
      ids.set(key, id);
      bot.slack.emails.set(id, email);
    },
    async type(key, text, channel) {
      const r = await bot.command(ids.get(key) ?? '', text, channel ? { channel_id: channel } : {});
      return flatten(r.text);
    },
    async edit(key, text) {
      const dms = () => bot.slack.of('chat.postMessage').filter((c) => c.body.channel === 'D0DIRECT');
      const before = dms().length;
      await bot.editDirectMessage(ids.get(key) ?? '', 'status', text, `Ev0EDIT${Date.now()}`);
      await bot.slack.waitFor(() => dms().length > before);
      return flatten(answerText(dms().slice(before)));
    },
  };
}

function teamsDriver(): ChatDriver {
  const bot = new TeamsTestBot();
  const ids = new Map<string, string>();
  return {
    platform: 'teams',
    start: () => bot.start(),
    stop: () => bot.stop(),
    get lifecycle() {
      return bot.lifecycle;
    },
    user(key, email) {
      const id = `29:1${key}`;
      ids.set(key, id);
      bot.connector.members.set(id, { id, name: key, aadObjectId: `aad-${key}`, email });
    },
    async type(key, text, channel) {
      const id = ids.get(key) ?? '';
      const r = channel
        ? await bot.send({
            type: 'message',
            id: `${Date.now()}${Math.floor(Math.random() * 1000)}`,
            channelId: 'msteams',
            from: { id, name: key },
            recipient: { id: '28:bot', name: 'NHSmail' },
            conversation: {
              conversationType: 'channel',
              isGroup: true,
              tenantId: 'tenant-nhs-0001',
              id: channel,
            },
            channelData: { channel: { id: channel }, tenant: { id: 'tenant-nhs-0001' } },
            text,
          })
        : await bot.say(id, text);
      return flatten(
        r.sent
          .map((c) => {
            const attachments = (c.body.attachments as Array<{ content: unknown }> | undefined) ?? [];
            return [String(c.body.text ?? ''), ...attachments.map((a) => JSON.stringify(a.content))].join(
              ' ',
            );
          })
          .join(' '),
      );
    },
    async edit(key, text) {
      const r = await bot.edit(ids.get(key) ?? '', text);
      return flatten(r.sent.map((c) => String(c.body.text ?? '')).join(' '));
    },
  };
}

describe.each([
  ['Slack', slackDriver],
  ['Teams', teamsDriver],
] as const)('chat contract on %s', (_name, make) => {
  const chat = make();
  let jane = '';

  beforeAll(async () => {
    await chat.start();
    const l = chat.lifecycle;
    await l.addOrganisation(operator(), { ods: 'RXX', name: 'Northtown Hospitals', kind: 'trust' });
    await l.addOrganisation(operator(), { ods: 'RYY', name: 'Southville Trust', kind: 'trust' });
    await l.grantRole(operator(), { address: 'sam.admin@nhs.net', role: 'local-admin', org: 'RXX' });
    const made = await l.provision(operator(), { ...person('Jane', 'Doe'), org: 'RXX' });
    jane = made.account.address;
    await l.firstLogin(operator(), { address: jane, mfa: true });
    chat.user('sam', 'sam.admin@nhs.net');
    chat.user('jane', jane);
    chat.user('guest', 'someone@example.org');
  });
  afterAll(async () => {
    await chat.stop();
  });

  it('marks a leaver for a local administrator, audited with the platform', async () => {
    expect(await chat.type('sam', `leaver ${jane}`)).toContain('Marked as a leaver.');
    expect((await chat.lifecycle.status(operator(), { address: jane })).account.status).toBe('leaver');
    const trail = await chat.lifecycle.auditTrail(operator(), { address: jane });
    expect(trail.at(-1)).toMatchObject({
      actor: 'sam.admin@nhs.net',
      platform: chat.platform,
      action: 'leaver',
    });
  });

  it('gives the same refusal, word for word, and changes nothing', async () => {
    const answer = await chat.type('jane', `joiner ${jane} --org RYY`);
    expect(answer).toContain(
      'Refused (NOT_YOUR_ORGANISATION) You are not a local administrator of Southville Trust (RYY), so you cannot accept joiners into RYY. Ask one of its local administrators or NAS ("contact" shows who).',
    );
    expect((await chat.lifecycle.status(operator(), { address: jane })).account).toMatchObject({
      status: 'leaver',
      org: 'RXX',
    });
  });

  it('gives the same answer to malformed input', async () => {
    expect(await chat.type('sam', 'leaver jane@gmail.com')).toContain(
      "(NOT_NHS_NET) jane@gmail.com is not an @nhs.net address. The bot only manages NHSmail accounts: use the person's @nhs.net address.",
    );
    expect(await chat.type('sam', 'levaer x@nhs.net')).toContain('Did you mean "leaver"?');
  });

  it('passes typed &, quotes and accents to the validators unchanged', async () => {
    expect(await chat.type('sam', 'provision --given "Siân & Co" --family O’Connor --org RXX')).toContain(
      '(INVALID_NAME) "Siân & Co" is not a usable given name',
    );
  });

  it('answers an edited message with what to do, and does not run it', async () => {
    const before = await chat.lifecycle.auditTrail(operator(), { address: jane });
    expect(await chat.edit('sam', `leaver ${jane}`)).toContain(
      `I act on new messages only, so I did not run your edit. To run it, send it as a new message: leaver ${jane}`,
    );
    expect(await chat.lifecycle.auditTrail(operator(), { address: jane })).toEqual(before);
  });

  it('lets an unverified user ask for contacts only', async () => {
    expect(await chat.type('guest', 'contact pharmacy')).toContain('The NAS admin team.');
    expect(await chat.type('guest', `status ${jane}`)).toContain(
      '(IDENTITY_NOT_VERIFIED) The bot does not know your @nhs.net address',
    );
  });

  it('subscribes the channel it is typed in, for the organisation’s administrators only', async () => {
    expect(await chat.type('jane', 'subscribe --org RXX', 'C0CONTRACT')).toContain('(NOT_YOUR_ORGANISATION)');
    expect(await chat.type('sam', 'subscribe --org RXX', 'C0CONTRACT')).toContain(
      'This channel now receives alerts for Northtown Hospitals (RXX).',
    );
    expect(await chat.lifecycle.subscriptions(operator(), { org: 'RXX' })).toEqual([
      expect.objectContaining({ platform: chat.platform, channelId: 'C0CONTRACT', org: 'RXX' }),
    ]);
  });

  it('refuses operator-only commands', async () => {
    expect(await chat.type('sam', 'sweep')).toContain(
      '(OPERATOR_ONLY) Only the operator and the scheduler run sweeps',
    );
  });
});
