import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isDomainError } from '../../src/domain/errors.js';
import type { Actor } from '../../src/domain/roles.js';
import { parseAddress } from '../../src/domain/validation.js';
import type { Logger } from '../../src/logger.js';
import { LEAVER_COLUMNS, readHrCsv, STARTER_COLUMNS } from '../../src/service/hr-feed.js';
import type { Lifecycle } from '../../src/service/lifecycle.js';
import { bearerSecret, refuseSecret, sendJson } from './http.js';

/**
 * `POST /hr/starters` and `POST /hr/leavers`: HR systems push their CSV extract as the body
 * (`Content-Type: text/csv`), authenticated by the shared secret HR_FEED_SECRET as
 * `Authorization: Bearer …`. The file is read in one streaming pass, exactly as the CLI's
 * `import starters|leavers` reads it. `?as=ADDRESS` runs the import as that person (their roles
 * decide which organisations' rows they may import); without it the import runs as the
 * operator. `?dry-run=true` changes nothing. Answers 200 with the report (rejected rows
 * included), 400 when the body is not the documented layout, 401 without the secret.
 */
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
      req.resume();
      sendJson(res, 400, { error: isDomainError(e) ? e.message : String(e) });
      return;
    }
    const ctx = { actor, platform: 'import' as const, now: new Date(), correlationId: randomUUID() };
    const dryRun = query.get('dry-run') === 'true';
    try {
      const report =
        file === 'starters'
          ? await lifecycle.importStarters(ctx, { records: readHrCsv(req, STARTER_COLUMNS), dryRun })
          : await lifecycle.importLeavers(ctx, { records: readHrCsv(req, LEAVER_COLUMNS), dryRun });
      logger.info(
        { route, correlationId: ctx.correlationId, rows: report.rows, errors: report.errors.length, dryRun },
        'HR file imported',
      );
      sendJson(res, 200, report);
    } catch (e) {
      if (!isDomainError(e)) throw e;
      req.resume();
      sendJson(res, e.code === 'FILE_LAYOUT' ? 400 : 403, { error: { code: e.code, message: e.message } });
    }
  };
}
