import { type Activity, CardFactory } from 'botbuilder';
import type { Reply } from '../../../src/commands/execute.js';
import {
  clockLine,
  directoryGroupNote,
  directorySummary,
  firstLoginSummary,
} from '../../../src/commands/render.js';
import type { DirectoryState } from '../../../src/service/directory-effects.js';
import type { FirstLoginWatch } from '../../../src/service/directory-first-logins.js';
import type { Expiry } from '../../../src/service/queries.js';
import type { AccountView } from '../../../src/service/store.js';

/** Rows per expiring card: Teams rejects cards over about 28 KB, so long lists go in several. */
const ROWS_PER_CARD = 40;

type Element = Record<string, unknown>;

const card = (body: Element[]) =>
  CardFactory.adaptiveCard({
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body,
  });

const textBlock = (text: string, extra: Element = {}): Element => ({
  type: 'TextBlock',
  text,
  wrap: true,
  ...extra,
});

/** Teams renders a single newline as a space: paragraphs need blank lines. */
export const teamsText = (text: string) => text.replace(/\n/g, '\n\n');

/**
 * A reply as Teams activities: Adaptive Cards where a card reads better (an account's status,
 * an expiring list, a duplicate person found), text otherwise. Refusals say which rule stopped it.
 */
export function replyActivities(reply: Reply, now: Date): Array<Partial<Activity>> {
  if (!reply.ok) {
    const lead = `${reply.error?.kind === 'invalid' ? 'That command could not be read' : 'Refused'} (${reply.error?.code})`;
    if (reply.error?.code === 'DUPLICATE_PERSON') {
      const { matches } = reply.error.details;
      return [
        {
          attachments: [
            card([
              textBlock(lead, { weight: 'Bolder', color: 'Attention' }),
              textBlock(reply.text),
              {
                type: 'FactSet',
                facts: matches.map((m) => ({ title: 'Existing account', value: m.address })),
              },
            ]),
          ],
        },
      ];
    }
    return [{ type: 'message', text: teamsText(`**${lead}**\n${reply.text}`) }];
  }
  if (reply.command === 'status') return [{ attachments: [statusCard(reply.data as StatusData, now)] }];
  if (reply.command === 'expiring') {
    const rows = reply.data as Expiry[];
    if (rows.length === 0) return [{ type: 'message', text: reply.text }];
    const activities: Array<Partial<Activity>> = [];
    for (let i = 0; i < rows.length; i += ROWS_PER_CARD) {
      const part = rows.slice(i, i + ROWS_PER_CARD);
      activities.push({
        attachments: [
          card([
            textBlock(i === 0 ? `${rows.length} ending soon` : `Continued (${i + 1}–${i + part.length})`, {
              weight: 'Bolder',
            }),
            {
              type: 'FactSet',
              facts: part.map((r) => ({
                title: `${r.dueAt.slice(0, 10)} ${r.reason}`,
                value: `${r.address} (${r.org}, ${r.status})`,
              })),
            },
          ]),
        ],
      });
    }
    return activities;
  }
  return [{ type: 'message', text: teamsText(reply.text) }];
}

/** What `status` returns as data: the account, with where it stands with the directory. */
type StatusData = AccountView & { directory?: DirectoryState; firstLogin?: FirstLoginWatch | null };

export function statusCard(a: StatusData, now: Date) {
  const clock = clockLine(a, now);
  return card([
    textBlock(a.address, { weight: 'Bolder', size: 'Medium' }),
    {
      type: 'FactSet',
      facts: [
        { title: 'Status', value: a.status },
        { title: 'Organisation', value: `${a.orgName} (${a.org})` },
        ...(a.name ? [{ title: 'Name', value: a.name }] : []),
        ...(clock ? [{ title: 'Clock', value: clock }] : []),
        ...(a.directory
          ? [
              {
                title: 'Directory',
                value: [directorySummary(a.directory), directoryGroupNote(a.directory, a.org)]
                  .filter((line) => line !== null)
                  .join(' '),
              },
            ]
          : []),
        ...(a.firstLogin
          ? [{ title: 'First login', value: firstLoginSummary(a.firstLogin, a.address) }]
          : []),
      ],
    },
  ]);
}
