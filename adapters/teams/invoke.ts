import type { AdaptiveCardInvokeResponse, Attachment } from 'botbuilder';
import type { ErrorCode } from '../../src/domain/errors.js';
import { type CardSubmit, isCardSubmitKind } from './format/cards.js';

/**
 * Universal Actions: a card's Action.Execute reaches the bot as an `invoke` named
 * `adaptiveCard/action`, and Teams waits for the answer in the HTTP response. The protocol
 * (Adaptive Cards "Universal Action Model", Response format): HTTP 200, with a body of
 * `{statusCode, type, value}` — a card that replaces the one clicked, a message the client shows,
 * or an error `{code, message}`. Recorded request shape: test/teams/fixtures/recorded/.
 */
export const CARD_ACTION_INVOKE = 'adaptiveCard/action';

const CARD = 'application/vnd.microsoft.card.adaptive';
const MESSAGE = 'application/vnd.microsoft.activity.message';
const ERROR = 'application/vnd.microsoft.error';

/**
 * The submission an Action.Execute carries, as an Action.Submit would have sent it: the verb (or
 * the data's `nhsmail`) names which of our actions, and the data (inputs included) its fields.
 * Null when it names none of ours.
 */
export function executedSubmit(value: unknown): CardSubmit | null {
  const action = (value as { action?: { type?: unknown; verb?: unknown; data?: unknown } } | null)?.action;
  if (action?.type !== 'Action.Execute') return null;
  const data =
    typeof action.data === 'object' && action.data !== null ? (action.data as Record<string, unknown>) : {};
  const kind = typeof action.verb === 'string' && action.verb !== '' ? action.verb : data.nhsmail;
  if (!isCardSubmitKind(kind)) return null;
  const fields = Object.entries(data).filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string',
  );
  return { ...Object.fromEntries(fields), nhsmail: kind } as CardSubmit;
}

/** The activity that hands botbuilder the HTTP answer to an invoke. */
export const invokeResponse = (body: AdaptiveCardInvokeResponse) => ({
  type: 'invokeResponse',
  value: { status: 200, body },
});

/** The clicked card is replaced by this one. */
export const cardResponse = (card: Attachment): AdaptiveCardInvokeResponse => ({
  statusCode: 200,
  type: CARD,
  value: card.content as Record<string, unknown>,
});

/** The client shows this text to whoever clicked; the card stays as it was. */
export const messageResponse = (text: string): AdaptiveCardInvokeResponse => ({
  statusCode: 200,
  type: MESSAGE,
  value: text as unknown as Record<string, unknown>,
});

/** An error the client shows: 400 for a request the bot cannot act on, 500 for its own failure. */
export const errorResponse = (
  statusCode: 400 | 500,
  code: ErrorCode,
  message: string,
): AdaptiveCardInvokeResponse => ({ statusCode, type: ERROR, value: { code, message } });
