import type { App, types } from '@slack/bolt';
import { clockLine, ENDING } from '../../../src/commands/render.js';
import { isDomainError } from '../../../src/domain/errors.js';
import type { Actor } from '../../../src/domain/roles.js';
import { daysLeft } from '../../../src/domain/time.js';
import type { RequestContext } from '../../../src/service/context.js';
import type { Expiry } from '../../../src/service/queries.js';
import { escapeMrkdwn } from '../format/reply.js';
import type { SlackDeps } from '../handle.js';
import { slackOrigin } from '../origin.js';

const EXPIRING_SHOWN = 10;

/** Opening the app shows the person's own account and clock, and for managers their org's expiring list. */
export function registerAppHome(app: App, deps: SlackDeps): void {
  app.event('app_home_opened', async ({ event, body, client }) => {
    if (event.tab !== 'home') return;
    const teamId = 'team_id' in body ? String(body.team_id) : '';
    const actor = await deps.identities.actorFor(client, teamId, event.user);
    const ctx: RequestContext = {
      actor,
      platform: 'slack',
      now: deps.clock(),
      chat: slackOrigin(teamId, event.user),
    };
    const blocks = await homeBlocks(deps, ctx, actor);
    await client.views.publish({ user_id: event.user, view: { type: 'home', blocks } });
  });
}

const section = (text: string): types.KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });

export async function homeBlocks(
  deps: SlackDeps,
  ctx: RequestContext,
  actor: Actor,
): Promise<types.KnownBlock[]> {
  const blocks: types.KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Your NHSmail account' } },
  ];
  if (actor.kind !== 'person') {
    blocks.push(
      section(
        'The bot does not know your @nhs.net address: the e-mail on your Slack profile is not one. Ask your local administrator or NAS to link you (`/nhsmail link @you your.name@nhs.net`). `/nhsmail contact` tells you who to ask.',
      ),
    );
    return blocks;
  }
  try {
    const { account } = await deps.lifecycle.status(ctx, {});
    blocks.push(
      section(
        `*${escapeMrkdwn(account.address)}* — *${account.status}*, ${escapeMrkdwn(account.orgName)} (${account.org})`,
      ),
    );
    const clock = clockLine(account, ctx.now);
    if (clock) blocks.push(section(escapeMrkdwn(clock)));
  } catch (e) {
    if (!isDomainError(e)) throw e;
    blocks.push(section(`${escapeMrkdwn(actor.address)} is not an account the bot manages.`));
  }
  let expiring: Expiry[] = [];
  try {
    expiring = await deps.lifecycle.expiring(ctx, { within: 7 });
  } catch (e) {
    if (!isDomainError(e)) throw e; // no organisation to manage: no list
    return blocks;
  }
  blocks.push(
    { type: 'divider' },
    { type: 'header', text: { type: 'plain_text', text: 'Ending in the next 7 days' } },
  );
  if (expiring.length === 0) blocks.push(section('Nothing in your organisations.'));
  for (const row of expiring.slice(0, EXPIRING_SHOWN)) {
    const left = Math.max(0, daysLeft(ctx.now, new Date(row.dueAt)));
    blocks.push(
      section(
        `*${escapeMrkdwn(row.address)}* (${row.org}, ${row.status}): ${ENDING[row.reason]} in ${left} day${left === 1 ? '' : 's'}`,
      ),
    );
  }
  if (expiring.length > EXPIRING_SHOWN) {
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `…and ${expiring.length - EXPIRING_SHOWN} more: \`/nhsmail expiring\` lists them all.`,
        },
      ],
    });
  }
  return blocks;
}
