import type { webApi } from '@slack/bolt';
import type { Actor } from '../../src/domain/roles.js';
import { parseAddress } from '../../src/domain/validation.js';
import type { Lifecycle } from '../../src/service/lifecycle.js';

interface Cached {
  email: string | null;
  until: number;
}

/**
 * Who a Slack user is to the bot: the @nhs.net e-mail on their Slack profile (users.info, scope
 * users:read.email), or the address an administrator linked to them; otherwise a guest. Profile
 * look-ups are cached for a few minutes: a changed e-mail takes effect after that.
 */
export class SlackIdentities {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly lifecycle: Lifecycle,
    private readonly ttlMs = 10 * 60 * 1000,
  ) {}

  async actorFor(client: webApi.WebClient, teamId: string, userId: string): Promise<Actor> {
    const email = await this.profileEmail(client, teamId, userId);
    const verified = email ? nhsNet(email) : null;
    if (verified) return { kind: 'person', address: verified };
    const linked = await this.lifecycle.linkedAddress({ platform: 'slack', tenant: teamId, userId });
    if (linked) return { kind: 'person', address: linked };
    return { kind: 'guest', label: `slack:${teamId}:${userId}` };
  }

  private async profileEmail(
    client: webApi.WebClient,
    teamId: string,
    userId: string,
  ): Promise<string | null> {
    const key = `${teamId}:${userId}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.email;
    const info = await client.users.info({ user: userId });
    const email = info.user?.profile?.email ?? null;
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
