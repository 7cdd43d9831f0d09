import { TeamsInfo, type TurnContext } from 'botbuilder';
import type { Actor } from '../../src/domain/roles.js';
import type { Lifecycle } from '../../src/service/lifecycle.js';
import { ChatIdentities } from '../chat-identity.js';

/** A Teams user's identity: the e-mail or user principal name of their Entra identity (TeamsInfo.getMember). */
export class TeamsIdentities {
  private readonly identities: ChatIdentities;

  constructor(lifecycle: Lifecycle) {
    this.identities = new ChatIdentities(lifecycle);
  }

  actorFor(context: TurnContext, tenant: string): Promise<Actor> {
    const userId = context.activity.from.id;
    return this.identities.actorFor({ platform: 'teams', tenant, userId }, async () => {
      const member = await TeamsInfo.getMember(context, userId);
      return member.email ?? member.userPrincipalName ?? null;
    });
  }
}
