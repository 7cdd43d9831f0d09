import type { Actor } from '../domain/roles.js';

export const PLATFORMS = ['cli', 'slack', 'teams', 'schedule', 'import'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** Who asks, from where, and what time it is for them: every use case takes one. */
export interface RequestContext {
  actor: Actor;
  platform: Platform;
  /** The clock for this request; `--now` on the CLI sets it, tests set it, production reads the wall clock. */
  now: Date;
}
