import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, Transform } from 'node:stream';
import { invalid, isDomainError } from '../../src/domain/errors.js';
import type { Actor } from '../../src/domain/roles.js';
import { parseAddress } from '../../src/domain/validation.js';
import type { Logger } from '../../src/logger.js';
import { checkHrCsv, LEAVER_COLUMNS, readHrCsv, STARTER_COLUMNS } from '../../src/service/hr-feed.js';
import type { Lifecycle } from '../../src/service/lifecycle.js';
import { httpError, sendError } from '../http-error.js';
import { bearerSecret, refuseSecret, sendJson } from './http.js';

/**
 * `POST /hr/starters` and `POST /hr/leavers`: HR systems push their CSV extract as the body
 * (`Content-Type: text/csv`), authenticated by the shared secret HR_FEED_SECRET as
 * `Authorization: Bearer …`. The file is read as the CLI's `import starters|leavers` reads it:
 * checked whole first (its layout and CSV syntax), then applied, so a body that stops being CSV
 * part-way changes nothing; for that the body is held in memory, at most MAX_HR_BODY_BYTES.
 * `?as=ADDRESS` runs the import as that person (their roles decide which organisations' rows
 * they may import); without it the import runs as the operator. `?dry-run=true` changes
 * nothing. Answers 200 with the report (rejected rows included), 400 when the body is empty or
 * not the documented layout, 401 without the secret.
 */
/** How the feed's messages call what was sent. */
const BODY = 'The request body';

/** The largest extract one request may carry (64 MiB: 50,000 starters are about 10 MiB). */
export const MAX_HR_BODY_BYTES = 64 * 1024 * 1024;

const tooLarge = () =>
  invalid(
    'BODY_TOO_LARGE',
    `An HR extract may be at most ${MAX_HR_BODY_BYTES / 1024 / 1024} MiB per request: send it in parts.`,
  );

/** The request body, failing with BODY_TOO_LARGE once it passes the limit (it is never held whole). */
function bounded(req: IncomingMessage): Transform {
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(size > MAX_HR_BODY_BYTES ? tooLarge() : null, chunk);
    },
  });
  req.on('error', (e) => counter.destroy(e));
  return req.pipe(counter);
}

export function hrFeedHandler(
  file: 'starters' | 'leavers',
  secret: string,
  lifecycle: Lifecycle,
  logger: Logger,
) {
  const authorised = bearerSecret(secret);
  const route = `/hr/${file}`;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!authorised(req)) {
      logger.warn({ route }, 'HR feed refused: wrong or missing shared secret');
      refuseSecret(req, res);
      return;
    }
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
    let actor: Actor = { kind: 'operator' };
    try {
      // `?as=` given but empty must not quietly mean the operator: it is parsed, and refused.
      if (query.has('as')) actor = { kind: 'person', address: parseAddress(query.getAll('as').join(',')) };
    } catch (e) {
      if (!isDomainError(e)) throw e;
      req.resume();
      sendError(res, httpError(e.code, e.message, e.details));
      return;
    }
    if (Number(req.headers['content-length'] ?? 0) > MAX_HR_BODY_BYTES) {
      // Not read at all: the connection is closed rather than left with an unread body on it.
      res.setHeader('connection', 'close');
      sendError(res, httpError('BODY_TOO_LARGE', tooLarge().message));
      return;
    }
    const ctx = { actor, platform: 'import' as const, now: new Date(), correlationId: randomUUID() };
    const dryRun = query.get('dry-run') === 'true';
    try {
      const body: Buffer[] = [];
      for await (const chunk of bounded(req)) body.push(chunk as Buffer);
      const layout = file === 'starters' ? STARTER_COLUMNS : LEAVER_COLUMNS;
      await checkHrCsv(Readable.from(body), layout, BODY);
      const records = readHrCsv(Readable.from(body), layout, BODY);
      const report =
        file === 'starters'
          ? await lifecycle.importStarters(ctx, { records, dryRun })
          : await lifecycle.importLeavers(ctx, { records, dryRun });
      logger.info(
        { route, correlationId: ctx.correlationId, rows: report.rows, errors: report.errors.length, dryRun },
        'HR file imported',
      );
      sendJson(res, 200, report);
    } catch (e) {
      if (!isDomainError(e)) throw e;
      if (e.code === 'BODY_TOO_LARGE') {
        sendError(res, httpError(e.code, e.message), { connection: 'close' });
        req.destroy();
        return;
      }
      // The rest of the body is read and dropped, so the connection can serve the next request.
      req.unpipe();
      req.resume();
      sendError(res, httpError(e.code, e.message, e.details));
    }
  };
}
