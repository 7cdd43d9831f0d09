/** Where a request came from: the audit trail's `platform` (`directory`: read back from Entra, issue 15). */
export const PLATFORMS = ['cli', 'slack', 'teams', 'schedule', 'import', 'directory'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** The chat platforms the bot speaks on. */
export const CHAT_PLATFORMS = ['slack', 'teams'] as const;
export type ChatPlatform = (typeof CHAT_PLATFORMS)[number];
