import type { IncomingMessage, ServerResponse } from 'node:http';
import { isDomainError } from '../../src/domain/errors.js';
import { parseAddress, parseInstant } from '../../src/domain/validation.js';
import type { Logger } from '../../src/logger.js';
import type { ActivityObservation } from '../../src/service/activity-import.js';
import type { Lifecycle } from '../../src/service/lifecycle.js';
import { httpError, sendError } from '../http-error.js';
import { bearerSecret, refuseSecret, sendJson } from './http.js';

const MAX_EVENTS = 10_000;
const MAX_BYTES = 2 * 1024 * 1024;
const SHAPE =
  'each event must be {"address": "jane.doe@nhs.net", "at": "2026-11-23T09:00:00Z"}, both strings; these rows (from 0) are not';

/**
 * `POST /activity`: other systems report sign-ins and sent mail, authenticated with the shared
 * secret ACTIVITY_FEED_SECRET as `Authorization: Bearer …`. Body: `{"events": [{"address": "…",
 * "at": "ISO-8601"}]}` (at most 10,000). Answers with the same report as `import activity`.
 */
export function activityFeedHandler(secret: string, lifecycle: Lifecycle, logger: Logger) {
  const authorised = bearerSecret(secret);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!authorised(req)) {
      logger.warn({ route: '/activity' }, 'activity feed refused: wrong or missing shared secret');
      refuseSecret(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BYTES) {
        sendError(res, httpError('BODY_TOO_LARGE', `At most ${MAX_BYTES} bytes per request.`));
        return;
      }
      chunks.push(chunk as Buffer);
    }
    let events: Array<{ address?: unknown; at?: unknown }>;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events?: unknown };
      if (!Array.isArray(body.events)) throw new Error('no events array');
      events = body.events as Array<{ address?: unknown; at?: unknown }>;
    } catch {
      sendError(
        res,
        httpError(
          'INVALID_BODY',
          'Expected {"events": [{"address": "jane.doe@nhs.net", "at": "2026-11-23T09:00:00Z"}]}.',
        ),
      );
      return;
    }
    if (events.length > MAX_EVENTS) {
      sendError(res, httpError('BODY_TOO_LARGE', `At most ${MAX_EVENTS} events per request.`));
      return;
    }
    // The shape first: `null`, or an object where a string belongs, is a broken sender, refused
    // whole (400) before anything is recorded, never answered with a TypeError.
    const misshapen = events.flatMap((e, row) =>
      typeof e === 'object' && e !== null && typeof e.address === 'string' && typeof e.at === 'string'
        ? []
        : [row],
    );
    if (misshapen.length > 0) {
      sendError(res, httpError('INVALID_EVENTS', SHAPE, { rows: misshapen.slice(0, 10) }));
      return;
    }
    const observations: ActivityObservation[] = [];
    const invalid: Array<{ row: number; problem: string }> = [];
    events.forEach((e, i) => {
      try {
        observations.push({
          address: parseAddress(String(e.address)),
          at: parseInstant(String(e.at), 'activity time'),
        });
      } catch (err) {
        if (!isDomainError(err)) throw err;
        invalid.push({ row: i, problem: err.message });
      }
    });
    const report = await lifecycle.recordObservedActivity(
      { actor: { kind: 'operator' }, platform: 'import', now: new Date() },
      { observations, invalid, rows: events.length },
    );
    sendJson(res, 200, report);
  };
}
