import { describe, expect, it } from 'vitest';
import { createLogger, maskMobiles } from '../src/logger.js';

function capture() {
  const lines: string[] = [];
  const logger = createLogger({ level: 'trace', destination: { write: (line: string) => lines.push(line) } });
  return { logger, text: () => lines.join('') };
}

describe('logs keep personal data and secrets out', () => {
  it('masks UK mobile numbers wherever they appear', () => {
    expect(maskMobiles('SMS to 07700 900123 failed')).toBe('SMS to 07*** ***123 failed');
    expect(maskMobiles('+447700900456 and +44 7700 900789')).toBe('07*** ***456 and 07*** ***789');
    expect(maskMobiles('ODS RXX1 07/11/2026 0161 496 0000')).toBe('ODS RXX1 07/11/2026 0161 496 0000');
    const { logger, text } = capture();
    logger.warn(
      { reason: 'Notify refused 07700900123', nested: { note: 'call +447700900456' } },
      'to 07700 900789',
    );
    expect(text()).not.toMatch(/7700\s?900(123|456|789)/);
    expect(text()).toContain('07*** ***123');
  });

  it('redacts passwords, tokens, secrets, headers, bodies and payloads by name', () => {
    const { logger, text } = capture();
    logger.info(
      {
        temporaryPassword: 'Pw-very-secret-1',
        request: { temporary_password: 'Pw-very-secret-2', headers: { authorization: 'Bearer tok-3' } },
        token: 'xoxb-secret-4',
        secret: 'shh-5',
        body: { text: 'provision --given Sam' },
        payload: { address: 'sam@nhs.net' },
      },
      'something',
    );
    for (const secret of [
      'Pw-very-secret-1',
      'Pw-very-secret-2',
      'tok-3',
      'xoxb-secret-4',
      'shh-5',
      'provision --given',
    ]) {
      expect(text()).not.toContain(secret);
    }
    expect(text()).toContain('[redacted]');
  });

  it('logs an error as its message and code, never the HTTP request or response hung on it', () => {
    const { logger, text } = capture();
    const err = Object.assign(new Error('Request failed with status 500'), {
      statusCode: 500,
      code: 'slack_webapi_platform_error',
      request: { headers: { Authorization: 'Bearer xoxb-leaky-token' }, body: 'token=xoxb-leaky-token' },
      config: { headers: { Authorization: 'Bearer xoxb-leaky-token' } },
      response: { data: { echo: 'password Pw-leak' } },
    });
    logger.error({ err }, 'delivery failed');
    const line = JSON.parse(text()) as { err: Record<string, unknown> };
    expect(line.err).toMatchObject({
      type: 'Error',
      message: 'Request failed with status 500',
      statusCode: 500,
    });
    expect(text()).not.toContain('xoxb-leaky-token');
    expect(text()).not.toContain('Pw-leak');
  });
});
