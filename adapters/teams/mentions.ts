import type { Activity } from 'botbuilder';

/**
 * The words of a Teams message: the bot's own @mention removed, and every other mention
 * (`<at>Jo Bloggs</at>`, several words) turned into one token `<at:USER-ID>` that `link` reads.
 */
export function commandText(activity: Activity): string {
  let text = activity.text ?? '';
  const botId = activity.recipient?.id;
  for (const entity of activity.entities ?? []) {
    if (entity.type !== 'mention') continue;
    const mention = entity as unknown as { text?: string; mentioned?: { id?: string } };
    if (!mention.text) continue;
    const replacement = mention.mentioned?.id === botId ? '' : `<at:${mention.mentioned?.id ?? ''}>`;
    text = text.split(mention.text).join(replacement);
  }
  return text
    .replace(/&nbsp;/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function parseTeamsMention(token: string): string | null {
  return /^<at:([^>]+)>$/.exec(token.trim())?.[1] ?? null;
}
