import type { IncomingMessage, ServerResponse } from 'node:http';
import { type BufferedIncomingMessage, HTTPModuleFunctions } from '@slack/bolt';
import type { Logger } from '../../src/logger.js';
import { httpError, sendError } from '../http-error.js';

/** Interactive payloads: Bolt reads `user.id` from each before any listener runs. */
const INTERACTIVE = new Set([
  'block_actions',
  'block_suggestion',
  'view_submission',
  'view_closed',
  'shortcut',
  'message_action',
  'interactive_message',
  'dialog_submission',
]);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is string => typeof v === 'string' && v !== '';

/**
 * What is wrong with a Slack request body, or null when it has the shape Bolt relies on. Bolt's
 * receiver trusts the shape once the signature checks out: a signed `payload=null` made it read a
 * property of null in a promise nobody awaits, which ended the process, and a block_actions with
 * no `user` made it answer a bare 500.
 */
function problemWith(req: BufferedIncomingMessage): string | null {
  let body: unknown;
  try {
    body = HTTPModuleFunctions.parseHTTPRequestBody(req);
  } catch {
    return 'the body is not JSON or form data';
  }
  if (!isRecord(body)) return 'the body is not an object';
  if (body.ssl_check === '1' || body.type === 'url_verification') return null;
  if (typeof body.command === 'string') {
    return isId(body.user_id) && isId(body.team_id) ? null : 'a slash command without user_id or team_id';
  }
  if (body.type === 'event_callback') {
    return isRecord(body.event) && typeof body.event.type === 'string'
      ? null
      : 'an event callback without an event';
  }
  if (typeof body.type === 'string' && INTERACTIVE.has(body.type)) {
    return isRecord(body.user) && isId(body.user.id) ? null : `a ${body.type} payload without user.id`;
  }
  return null; // anything else Bolt recognises as no type of its own, and ignores
}

/**
 * POST /slack/events, guarded: the body is read here first (Bolt then uses the same buffer and
 * still checks the signature itself), and one that is not a Slack payload of a shape the bot
 * serves is answered 400 and logged, so that no request can end the process or reach a listener
 * malformed. A body over Bolt's limit is answered 413 and its connection closed.
 */
export function guardSlackRequests(
  listener: (req: IncomingMessage, res: ServerResponse) => void,
  logger: Logger,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    let buffered: BufferedIncomingMessage;
    try {
      buffered = await HTTPModuleFunctions.bufferIncomingMessage(req, HTTPModuleFunctions.defaultBodyLimit);
    } catch (err) {
      const tooLarge =
        HTTPModuleFunctions.isRawBodyError(err) && (err as { statusCode?: number }).statusCode === 413;
      logger.warn(
        { err },
        tooLarge ? 'Slack request over the body limit refused' : 'Slack request unreadable',
      );
      sendError(
        res,
        tooLarge
          ? httpError('BODY_TOO_LARGE', 'The request body is over the limit Slack requests are held to.')
          : httpError('MALFORMED_REQUEST', 'The request body could not be read.'),
        { connection: 'close' },
      );
      return;
    }
    const problem = problemWith(buffered);
    if (problem) {
      logger.warn({ problem }, 'malformed Slack request refused');
      sendError(res, httpError('MALFORMED_REQUEST', `Not a Slack request the bot serves: ${problem}.`));
      return;
    }
    listener(buffered, res);
  };
}
