import { afterEach, describe, expect, it } from 'vitest';
import { killLeftoverChildren, runNodeScript } from '../support/processes.js';

/**
 * A configuration error names the variable and what it must be, and never echoes a secret (issue
 * 12): the real bot process, started with each secret set to a wrong value that carries a marker.
 */
describe('configuration errors do not echo secrets', { timeout: 120_000 }, () => {
  afterEach(() => killLeftoverChildren());
  const MARK = 'Zq7SECRETMARKER';

  it.each([
    ['HR_FEED_SECRET', { HR_FEED_SECRET: `short-${MARK}` }],
    ['ACTIVITY_FEED_SECRET', { ACTIVITY_FEED_SECRET: `short-${MARK}` }],
    ['SLACK_BOT_TOKEN', { SLACK_BOT_TOKEN: `xoxp-${MARK}`, SLACK_SIGNING_SECRET: 'a'.repeat(32) }],
    ['SLACK_SIGNING_SECRET', { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: `${MARK}` }],
    ['NOTIFY_API_KEY', { NOTIFY_API_KEY: `bad-${MARK}`, NOTIFY_SMS_TEMPLATE_ID: 'x' }],
    ['HR_DATA_KEY', { HR_DATA_KEY: `not-base64-32-bytes-${MARK}` }],
  ])('%s', async (name, env) => {
    const run = await runNodeScript('adapters/server/main.ts', [], { ...env, DATA_DIR: '/nonexistent' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(name);
    expect(run.stdout + run.stderr).not.toContain(MARK);
  });
});

describe('a rejected DATABASE_URL is shown without its password', () => {
  it('masks the password of a URL of the wrong kind', async () => {
    const { loadConfig } = await import('../../src/config.js');
    expect(() => loadConfig({ DATABASE_URL: 'mysql://bot:Zq7SECRETMARKER@db:3306/x' })).toThrow(
      '(got "mysql://bot:***@db:3306/x")',
    );
  });
});
