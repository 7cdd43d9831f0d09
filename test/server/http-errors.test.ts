import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activityFeedHandler } from '../../adapters/server/activity-feed.js';
import { hrFeedHandler } from '../../adapters/server/hr-feed.js';
import { HttpServer } from '../../adapters/server/http.js';
import { createLogger } from '../../src/logger.js';
import type { Lifecycle } from '../../src/service/lifecycle.js';
import { expectHttpError } from '../support/http-errors.js';

const SECRET = 'http-errors-secret-0123456789abcdef';

/**
 * The server's own answers (no such path, wrong method, a handler that failed) and the feeds'
 * refusals before they reach the lifecycle, in the one error shape. The feeds' refusals of a
 * body they read are tested against the running bot (hr-feed-http, activity-feed).
 */
describe('the HTTP error shape of the server and the feeds', () => {
  const logger = createLogger({ level: 'silent' });
  // Nothing here gets as far as the lifecycle: each request is refused before.
  const lifecycle = {} as Lifecycle;
  const server = new HttpServer(logger)
    .route('GET', '/fails', () => {
      throw new Error('a bug');
    })
    .route('POST', '/hr/starters', hrFeedHandler('starters', SECRET, lifecycle, logger))
    .route('POST', '/activity', activityFeedHandler(SECRET, lifecycle, logger));
  let base = '';
  beforeAll(async () => {
    base = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
  });
  afterAll(async () => {
    await server.close(1000);
  });
  const post = (path: string, body: string, secret = SECRET) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${secret}` }, body });

  it('answers an unknown path, a wrong method and a failed handler', async () => {
    await expectHttpError(await fetch(`${base}/nowhere`), 'NOT_FOUND');
    await expectHttpError(await fetch(`${base}/activity`), 'METHOD_NOT_ALLOWED');
    const failed = await expectHttpError(await fetch(`${base}/fails`), 'INTERNAL_ERROR');
    expect(failed.message).not.toContain('a bug');
  });

  it('answers a missing secret, a bad ?as= and a body over the limit of the HR feed', async () => {
    await expectHttpError(await post('/hr/starters', 'x', 'wrong'), 'UNAUTHORISED');
    await expectHttpError(await post('/hr/starters?as=jane@gmail.com', 'x'), 'NOT_NHS_NET');
    const over = await new Promise<Response>((resolve, reject) => {
      const req = http.request(`${base}/hr/starters`, {
        method: 'POST',
        agent: false,
        headers: { authorization: `Bearer ${SECRET}`, 'content-length': String(65 * 1024 * 1024) },
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve(
            new Response(Buffer.concat(chunks), {
              status: res.statusCode ?? 0,
              headers: { 'content-type': String(res.headers['content-type']) },
            }),
          ),
        );
      });
      req.on('error', reject);
      req.write('employee_number\n');
    });
    await expectHttpError(over, 'BODY_TOO_LARGE');
  });

  it('answers a missing secret, a body that is not JSON, misshapen events and too many of the activity feed', async () => {
    await expectHttpError(await post('/activity', '{}', ''), 'UNAUTHORISED');
    await expectHttpError(await post('/activity', '{"events": '), 'INVALID_BODY');
    const misshapen = await expectHttpError(
      await post('/activity', JSON.stringify({ events: [null, { address: 'a@nhs.net', at: 1 }] })),
      'INVALID_EVENTS',
    );
    expect(misshapen.details).toEqual({ rows: [0, 1] });
    const many = Array.from({ length: 10_001 }, () => ({ address: 'a@nhs.net', at: '2026-11-23T09:00:00Z' }));
    await expectHttpError(await post('/activity', JSON.stringify({ events: many })), 'BODY_TOO_LARGE');
  });
});
