import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FORMS } from '../../../src/commands/forms.js';
import type { Logger } from '../../../src/logger.js';
import { checkView } from '../../support/block-kit.js';
import { BotUnderTest } from '../../support/bot-process.js';
import { FakeSlack, postToBot, type Recorded } from './fake-slack.js';
import { messageFields, slashCommandText } from './slack-typing.js';

export const SIGNING_SECRET = 'test-signing-secret-8f2b1c9d';
export const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'fixtures', name), 'utf8')) as Record<
    string,
    unknown
  >;

/**
 * The real bot process (in-process), on a fresh PostgreSQL database, with Slack over HTTP pointed
 * at a FakeSlack; plus a second runtime on the same database for seeding and checking state.
 */
export class SlackTestBot {
  readonly slack = new FakeSlack();
  private readonly process = new BotUnderTest();

  /** `env` adds to (or overrides) the bot's configuration; `logger` sees everything it logs. */
  constructor(
    private readonly env: Record<string, string> = {},
    private readonly logger?: Logger,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.process.port}/slack/events`;
  }

  get lifecycle() {
    return this.process.lifecycle;
  }

  get database() {
    return this.process.database;
  }

  async start(): Promise<void> {
    await this.slack.start();
    await this.process.start(
      {
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_BOT_TOKEN: 'xoxb-test-token',
        SLACK_API_URL: this.slack.apiUrl,
        ...this.env,
      },
      this.logger,
    );
  }

  async stop(): Promise<void> {
    await this.process.stop();
    await this.slack.stop();
  }

  /** The trigger id of the last slash command typed: Slack gives each invocation its own. */
  lastTriggerId = '';

  private nextTriggerId(): string {
    this.lastTriggerId = `13345224609.738474920.${randomBytes(8).toString('hex')}`;
    return this.lastTriggerId;
  }

  /** Types `/nhsmail <text>` and returns only Slack's view of the ack (for commands that open a form). */
  async slash(userId: string, text: string): Promise<Response> {
    const payload = {
      ...fixture('slash-command.json'),
      user_id: userId,
      trigger_id: this.nextTriggerId(),
      text: slashCommandText(text),
      response_url: this.slack.responseUrl(),
    };
    const body = new URLSearchParams(
      Object.entries(payload).map(([k, v]): [string, string] => [k, String(v)]),
    ).toString();
    return postToBot(this.url, body, {
      secret: SIGNING_SECRET,
      contentType: 'application/x-www-form-urlencoded',
    });
  }

  /**
   * Types `/nhsmail <text>` as a Slack user (sent as Slack sends it: escaped, addresses as mailto
   * links); resolves with the HTTP ack and, once sent, the bot's answers.
   */
  async command(userId: string, text: string, fields: Record<string, string> = {}) {
    const responseUrl = this.slack.responseUrl();
    const payload = {
      ...fixture('slash-command.json'),
      user_id: userId,
      trigger_id: this.nextTriggerId(),
      text: slashCommandText(text),
      response_url: responseUrl,
      ...fields,
    };
    const body = new URLSearchParams(
      Object.entries(payload).map(([k, v]): [string, string] => [k, String(v)]),
    ).toString();
    const started = Date.now();
    const ack = await postToBot(this.url, body, {
      secret: SIGNING_SECRET,
      contentType: 'application/x-www-form-urlencoded',
    });
    const ackMs = Date.now() - started;
    await this.slack.waitFor((calls) => calls.some((c) => c.path === new URL(responseUrl).pathname));
    // A long answer may come in several messages: give the bot a moment to send the rest.
    await new Promise((r) => setTimeout(r, 50));
    const answers = this.slack.calls.filter((c) => c.path === new URL(responseUrl).pathname);
    return { ack, ackMs, answers, text: answerText(answers) };
  }

  /**
   * A click on a button of a message the bot posted (`posted` is its chat.postMessage call),
   * as the block_actions interaction Slack sends. Resolves once the bot has answered or updated.
   */
  async click(
    userId: string,
    posted: Recorded,
    actionId: string,
    actionTs = `${Date.now() / 1000}`,
    options: { expectAnswer: boolean; value?: string } = { expectAnswer: true },
  ) {
    const base = fixture('block-actions.json');
    const blocks = (posted.body.blocks ?? []) as Array<{
      type: string;
      block_id?: string;
      elements?: Array<Record<string, unknown>>;
      accessory?: Record<string, unknown>;
    }>;
    // A button in an actions block, or a section's accessory (a digest line's button).
    const matches = (e: Record<string, unknown> | undefined) =>
      e?.action_id === actionId && (options.value === undefined || e.value === options.value);
    const holder = blocks.find((b) => b.elements?.some(matches) || matches(b.accessory));
    const button =
      holder?.elements?.find(matches) ?? (matches(holder?.accessory) ? holder?.accessory : undefined);
    if (!holder || !button) throw new Error(`no ${actionId} button in that message`);
    const actions = { block_id: holder.block_id ?? 'digest_line' };
    const ts = String((posted.response as { ts?: string } | undefined)?.ts ?? '');
    const channel = String(posted.body.channel);
    const responseUrl = this.slack.responseUrl();
    const payload = {
      ...base,
      user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: 'T0001' },
      container: { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: false },
      channel: { id: channel, name: 'alerts' },
      message: { ...(base.message as Record<string, unknown>), ts, text: posted.body.text, blocks },
      response_url: responseUrl,
      actions: [{ ...button, block_id: actions.block_id, action_ts: actionTs }],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const before = this.slack.calls.length;
    const ack = await postToBot(this.url, body, {
      secret: SIGNING_SECRET,
      contentType: 'application/x-www-form-urlencoded',
    });
    const path = new URL(responseUrl).pathname;
    if (options.expectAnswer) {
      await this.slack.waitFor((calls) =>
        calls.slice(before).some((c) => c.path === path || c.method === 'chat.update'),
      );
      await new Promise((r) => setTimeout(r, 50));
    } else {
      await new Promise((r) => setTimeout(r, 800));
    }
    const after = this.slack.calls.slice(before);
    return {
      ack,
      updates: after.filter((c) => c.method === 'chat.update'),
      answers: after.filter((c) => c.path === path),
    };
  }

  /**
   * Submits a form (a modal the bot opened) with these values, as Slack's view_submission.
   * Slack reads the bot's answer from the HTTP response: errors, or a view to show instead.
   */
  async submitForm(userId: string, callbackId: string, values: Record<string, string>) {
    const spec = FORMS.find((f) => f.callbackId === callbackId);
    if (!spec) throw new Error(`no form ${callbackId}`);
    const state: Record<string, Record<string, Record<string, unknown>>> = {};
    for (const field of spec.fields) {
      const v = values[field.flag];
      state[field.flag] = {
        [field.flag]:
          field.kind === 'date'
            ? { type: 'datepicker', selected_date: v ?? null }
            : field.kind === 'select'
              ? {
                  type: 'static_select',
                  selected_option: v ? { text: { type: 'plain_text', text: v }, value: v } : null,
                }
              : { type: 'plain_text_input', value: v ?? null },
      };
    }
    const base = fixture('view-submission.json');
    const view = {
      ...(base.view as Record<string, unknown>),
      callback_id: callbackId,
      state: { values: state },
    };
    const payload = { ...base, user: { id: userId, username: userId, name: userId, team_id: 'T0001' }, view };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const res = await postToBot(this.url, body, {
      secret: SIGNING_SECRET,
      contentType: 'application/x-www-form-urlencoded',
    });
    const text = await res.text();
    const answer = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    // Slack shows the view in the answer instead of the form, and refuses it as views.update would.
    const problems = answer.response_action === 'update' ? checkView(answer.view) : [];
    if (problems.length > 0) throw new Error(`Slack would refuse the view answered: ${problems.join('; ')}`);
    return { status: res.status, answer };
  }

  /** A click on a button inside a modal the bot showed (block_actions with a view container). */
  async clickInView(userId: string, view: Record<string, unknown>, actionId: string) {
    const blocks = (view.blocks ?? []) as Array<{ accessory?: Record<string, unknown> }>;
    const button = blocks.map((b) => b.accessory).find((a) => a?.action_id === actionId);
    if (!button) throw new Error(`no ${actionId} button in that view`);
    const base = fixture('block-actions.json');
    const payload = {
      ...base,
      user: { id: userId, username: userId, name: userId, team_id: 'T0001' },
      container: { type: 'view', view_id: 'V0FORM01' },
      channel: undefined,
      message: undefined,
      view: {
        ...view,
        id: 'V0FORM01',
        team_id: 'T0001',
        state: { values: {} },
        hash: 'x',
        app_id: 'A0NHSMAIL',
        bot_id: 'BBOT',
      },
      actions: [{ ...button, block_id: 'dup', action_ts: `${Date.now() / 1000}` }],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const before = this.slack.calls.length;
    const ack = await postToBot(this.url, body, {
      secret: SIGNING_SECRET,
      contentType: 'application/x-www-form-urlencoded',
    });
    await this.slack.waitFor((calls) => calls.slice(before).some((c) => c.method === 'views.update'));
    return { ack, update: this.slack.calls.slice(before).find((c) => c.method === 'views.update') };
  }

  /**
   * Posts a payload exactly as recorded (test/slack/fixtures/recorded/): an Events API envelope as
   * JSON, a slash command as its form fields, an interaction as `payload=`. A slash command's
   * response_url is pointed at the stand-in; resolves with the HTTP ack.
   */
  async postRecorded(payload: Record<string, unknown>): Promise<Response> {
    let body: string;
    let contentType = 'application/x-www-form-urlencoded';
    if (payload.type === 'event_callback') {
      body = JSON.stringify(payload);
      contentType = 'application/json';
    } else if (typeof payload.command === 'string') {
      const fields = { ...payload, response_url: this.slack.responseUrl() };
      body = new URLSearchParams(
        Object.entries(fields).map(([k, v]): [string, string] => [k, String(v)]),
      ).toString();
    } else {
      body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    }
    return postToBot(this.url, body, { secret: SIGNING_SECRET, contentType });
  }

  /**
   * An edit of a direct message the user sent earlier (`before` → `after`), as the message_changed
   * event Slack sends (recorded shape: fixtures/recorded/dm-edited.json).
   */
  async editDirectMessage(userId: string, before: string, after: string, eventId: string) {
    const base = fixture('recorded/dm-edited.json');
    const event = base.event as Record<string, Record<string, unknown>>;
    const ts = `${Date.now() / 1000}`;
    const edited = {
      ...event,
      message: { ...event.message, user: userId, ts, edited: { user: userId, ts }, ...messageFields(after) },
      previous_message: { ...event.previous_message, user: userId, ts, ...messageFields(before) },
    };
    const body = JSON.stringify({ ...base, event: edited, event_id: eventId });
    return postToBot(this.url, body, { secret: SIGNING_SECRET, contentType: 'application/json' });
  }

  /** Opening the app's Home tab, as the app_home_opened event. */
  async openHome(userId: string, eventId: string) {
    const base = fixture('app-home-opened.json');
    const body = JSON.stringify({
      ...base,
      event: { ...(base.event as Record<string, unknown>), user: userId },
      event_id: eventId,
    });
    return postToBot(this.url, body, { secret: SIGNING_SECRET, contentType: 'application/json' });
  }

  /**
   * A direct message to the bot, as a message.im event with the words as Slack sends them (escaped
   * text and rich_text blocks); `eventId` repeats to simulate a Slack retry.
   */
  async directMessage(userId: string, text: string, eventId: string, headers: Record<string, string> = {}) {
    const base = fixture('message-im.json');
    const event = {
      ...(base.event as Record<string, unknown>),
      user: userId,
      ...messageFields(text),
      ts: `${Date.now() / 1000}`,
    };
    const body = JSON.stringify({ ...base, event, event_id: eventId });
    return postToBot(this.url, body, { secret: SIGNING_SECRET, contentType: 'application/json', headers });
  }
}

/** Everything the answers said, as plain text (mrkdwn sections and context lines). */
export function answerText(answers: Recorded[]): string {
  return answers
    .flatMap((a) => {
      const blocks =
        (a.body.blocks as Array<{ text?: { text: string }; elements?: Array<{ text: string }> }>) ?? [];
      return blocks.map((b) => b.text?.text ?? b.elements?.map((e) => e.text).join(' ') ?? '');
    })
    .join('\n')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
