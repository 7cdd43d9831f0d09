import { randomUUID } from 'node:crypto';
import type { webApi } from '@slack/bolt';
import { internalErrorReply, type Reply, runText } from '../../src/commands/execute.js';
import type { Logger } from '../../src/logger.js';
import type { RequestContext } from '../../src/service/context.js';
import type { Lifecycle } from '../../src/service/lifecycle.js';
import type { SlackIdentities } from './identity.js';
import { slackOrigin } from './origin.js';

/** What every Slack listener needs: the core, identities, a clock and a log. */
export interface SlackDeps {
  lifecycle: Lifecycle;
  identities: SlackIdentities;
  logger: Logger;
  clock(): Date;
}

export interface SlackWhere {
  teamId: string;
  userId: string;
  channelId?: string | undefined;
}

/** Runs typed words for a Slack user: the same grammar and rules as every other adapter. */
export async function runForSlackUser(
  deps: SlackDeps,
  client: webApi.WebClient,
  where: SlackWhere,
  text: string | string[],
  options: Pick<RequestContext, 'deciding'> = {},
): Promise<Reply> {
  const started = Date.now();
  const correlationId = randomUUID();
  try {
    const actor = await deps.identities.actorFor(client, where.teamId, where.userId);
    const ctx = {
      actor,
      platform: 'slack' as const,
      now: deps.clock(),
      chat: slackOrigin(where.teamId, where.userId, where.channelId),
      correlationId,
      ...options,
    };
    const empty = typeof text === 'string' ? text.trim() === '' : text.length === 0;
    const reply = await runText(deps.lifecycle, ctx, empty ? 'help' : text);
    deps.logger.info(
      {
        platform: 'slack',
        correlationId,
        command: reply.command,
        outcome: reply.ok ? 'done' : reply.error?.code,
        ms: Date.now() - started,
      },
      'command',
    );
    return reply;
  } catch (err) {
    deps.logger.error({ err, platform: 'slack', correlationId }, 'command failed');
    return internalErrorReply(correlationId);
  }
}

/** Answers that belong in the channel for everyone to see; everything else is ephemeral. */
export const postInChannel = (reply: Reply) =>
  reply.ok && (reply.command === 'subscribe' || reply.command === 'unsubscribe');
