import type { ChatOrigin } from '../../src/service/context.js';

/** Slack escapes user mentions as `<@U012AB3CD>` or `<@U012AB3CD|jo>` in commands and messages. */
export function parseSlackMention(token: string): string | null {
  return /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(token.trim())?.[1] ?? null;
}

export function slackOrigin(teamId: string, userId: string, channelId?: string): ChatOrigin {
  return { platform: 'slack', tenant: teamId, userId, channelId, parseMention: parseSlackMention };
}
