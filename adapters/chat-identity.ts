import type { Actor } from '../src/domain/roles.js';
import { parseAddress } from '../src/domain/validation.js';
import type { ChatUserRef } from '../src/service/context.js';
import type { Lifecycle } from '../src/service/lifecycle.js';

interface Cached {
  email: string | null;
  until: number;
}

/**
 * Who a chat user is to the bot, on any platform: the e-mail of their platform profile when it is
 * an @nhs.net address; otherwise the address an administrator linked to them (`link`); otherwise
 * a guest. Profile look-ups are cached for a few minutes, so a changed e-mail takes effect after that.
 */
export class ChatIdentities {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly lifecycle: Lifecycle,
    private readonly ttlMs = 10 * 60 * 1000,
  ) {}

  /** `profileEmail` asks the platform for the user's e-mail (users.info, TeamsInfo.getMember). */
  async actorFor(user: ChatUserRef, profileEmail: () => Promise<string | null>): Promise<Actor> {
    const email = await this.cachedEmail(user, profileEmail);
    const verified = email ? nhsNet(email) : null;
    if (verified) return { kind: 'person', address: verified };
    const linked = await this.lifecycle.linkedAddress(user);
    if (linked) return { kind: 'person', address: linked };
    return { kind: 'guest', label: `${user.platform}:${user.tenant}:${user.userId}` };
  }

  private async cachedEmail(user: ChatUserRef, lookup: () => Promise<string | null>): Promise<string | null> {
    const key = `${user.platform}:${user.tenant}:${user.userId}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.email;
    const email = await lookup();
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
