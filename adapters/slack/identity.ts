import type { webApi } from '@slack/bolt';
import type { Actor } from '../../src/domain/roles.js';
import type { Lifecycle } from '../../src/service/lifecycle.js';
import { ChatIdentities } from '../chat-identity.js';

/** A Slack user's identity: the e-mail on their Slack profile (users.info, scope users:read.email). */
export class SlackIdentities {
  private readonly identities: ChatIdentities;

  constructor(lifecycle: Lifecycle) {
    this.identities = new ChatIdentities(lifecycle);
  }

  actorFor(client: webApi.WebClient, teamId: string, userId: string): Promise<Actor> {
    return this.identities.actorFor({ platform: 'slack', tenant: teamId, userId }, async () => {
      const info = await client.users.info({ user: userId });
      return info.user?.profile?.email ?? null;
    });
  }
}
