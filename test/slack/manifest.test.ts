import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

interface Manifest {
  features: {
    app_home: { home_tab_enabled: boolean; messages_tab_enabled: boolean };
    slash_commands: Array<{ command: string; url: string; usage_hint: string; should_escape: boolean }>;
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    event_subscriptions: { request_url: string; bot_events: string[] };
    interactivity: { is_enabled: boolean; request_url: string };
    socket_mode_enabled: boolean;
  };
}

const manifest = parse(
  readFileSync(path.resolve(import.meta.dirname, '../../manifest/slack.yaml'), 'utf8'),
) as Manifest;

describe('manifest/slack.yaml', () => {
  it('declares /nhsmail with a usage hint and escaped mentions (link @user needs the user id)', () => {
    expect(manifest.features.slash_commands).toHaveLength(1);
    expect(manifest.features.slash_commands[0]).toMatchObject({ command: '/nhsmail', should_escape: true });
    expect(manifest.features.slash_commands[0]?.usage_hint.length).toBeGreaterThan(10);
  });

  it('asks for exactly the bot scopes the bot uses', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(
      ['chat:write', 'commands', 'im:history', 'users:read', 'users:read.email'].sort(),
    );
  });

  it('sends commands, interactions and the App Home and DM events to POST /slack/events', () => {
    expect(manifest.settings.event_subscriptions.bot_events.sort()).toEqual([
      'app_home_opened',
      'message.im',
    ]);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    const urls = [
      manifest.features.slash_commands[0]?.url,
      manifest.settings.event_subscriptions.request_url,
      manifest.settings.interactivity.request_url,
    ];
    for (const url of urls) expect(url).toMatch(/^https:\/\/.+\/slack\/events$/);
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
    expect(manifest.features.app_home.messages_tab_enabled).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(false);
  });
});
