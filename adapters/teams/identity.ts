import { TeamsInfo, type TurnContext } from 'botbuilder';
import type { Actor } from '../../src/domain/roles.js';
import { parseAddress } from '../../src/domain/validation.js';
import type { Lifecycle } from '../../src/service/lifecycle.js';

interface Cached {
  email: string | null;
  until: number;
}

/**
 * Who a Teams user is to the bot: the e-mail or user principal name of their Entra identity
 * (TeamsInfo.getMember), when it is an @nhs.net address; otherwise the address an administrator
 * linked to them; otherwise a guest. Look-ups are cached for a few minutes.
 */
export class TeamsIdentities {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly lifecycle: Lifecycle,
    private readonly ttlMs = 10 * 60 * 1000,
  ) {}

  async actorFor(context: TurnContext, tenant: string): Promise<Actor> {
    const userId = context.activity.from.id;
    const email = await this.memberEmail(context, tenant, userId);
    const verified = email ? nhsNet(email) : null;
    if (verified) return { kind: 'person', address: verified };
    const linked = await this.lifecycle.linkedAddress({ platform: 'teams', tenant, userId });
    if (linked) return { kind: 'person', address: linked };
    return { kind: 'guest', label: `teams:${tenant}:${userId}` };
  }

  private async memberEmail(context: TurnContext, tenant: string, userId: string): Promise<string | null> {
    const key = `${tenant}:${userId}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.email;
    const member = await TeamsInfo.getMember(context, userId);
    const email = member.email ?? member.userPrincipalName ?? null;
    this.cache.set(key, { email, until: Date.now() + this.ttlMs });
    return email;
  }
}

function nhsNet(email: string): string | null {
  try {
    return parseAddress(email);
  } catch {
    return null;
  }
}
