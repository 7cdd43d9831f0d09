import type { ChatPlatform, Platform } from '../domain/platform.js';
import type { Actor } from '../domain/roles.js';

export { CHAT_PLATFORMS, type ChatPlatform, PLATFORMS, type Platform } from '../domain/platform.js';

/** A chat user, as the platform knows them: Slack team + user id, or Teams tenant + Entra object id. */
export interface ChatUserRef {
  platform: ChatPlatform;
  tenant: string;
  userId: string;
}

/** Where in a chat a request came from; absent on the CLI and the scheduler. */
export interface ChatOrigin extends ChatUserRef {
  /** The channel or conversation typed in; alerts for `subscribe` go here. */
  channelId?: string | undefined;
  /** Reads a mention as typed in this platform (Slack's `<@U123|jo>`), or null when it is not one. */
  parseMention(token: string): string | null;
}

/** Who asks, from where, and what time it is for them: every use case takes one. */
export interface RequestContext {
  actor: Actor;
  platform: Platform;
  /** The clock for this request; `--now` on the CLI sets it, tests set it, production reads the wall clock. */
  now: Date;
  chat?: ChatOrigin | undefined;
  /** Ties the request's log lines and the notifications it queued together (a UUID per command or job run). */
  correlationId?: string | undefined;
  /**
   * The request is a click on another's request (a disable request's "Disable" button): the
   * clicker decides it, so whoever may only ask is refused rather than asking again.
   */
  deciding?: boolean | undefined;
}
