import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logger } from '#lib/observability';
import { redactLogValue } from '#lib/observability/logger.ts';
import { captureOutput } from '#test/support/lambda.ts';
import type { CapturedOutput } from '#test/support/lambda.ts';
import { httpEvent } from '#test/support/factories.ts';

describe('redactLogValue', () => {
  describe('drops the value of every secret-bearing key, whatever it holds', () => {
    it.each([
      ['authorization', 'Bearer eyJhbGciOi.payload.sig'],
      ['Authorization', 'Basic Y2xpZW50OnNlY3JldA=='],
      ['x-hub-signature-256', 'sha256=q1w2e3r4t5y6'],
      ['X-Hub-Signature-256', 'sha256=q1w2e3r4t5y6'],
      ['password', 'hunter2'],
      ['secret', 'shh'],
      ['clientSecret', 'genesys-client-secret'],
      ['client_secret', 'genesys-client-secret'],
      ['apiToken', 'crm-token'],
      ['api_token', 'crm-token'],
      ['access_token', 'genesys-access-token'],
      ['token', 'abc'],
      ['signingSecret', 'webhook-secret'],
      ['salt', 'pepper'],
      ['cookie', 'session=abc'],
      ['cookies', ['session=abc', 'csrf=def']],
      ['secret', { nested: 'object' }],
      ['token', 12345],
    ])('%s', (key, value) => {
      // Act
      const redacted = redactLogValue(key, value);

      // Assess
      expect(redacted).toBe('[redacted]');
    });
  });

  describe('masks identifiers in any other string', () => {
    it.each([
      ['email', 'jane.doe@enterprise.com', '***********************'],
      ['message', 'Guest 555-123-4567 updated', 'Guest ***-***-**** updated'],
      ['note', 'SSN 123-45-6789', 'SSN ***-**-****'],
      ['phone_number', '+14155552671', '***-***-****'],
      ['0', 'jane@x.io', '*********'],
    ])('%s: %j', (key, value, expected) => {
      // Act
      const redacted = redactLogValue(key, value);

      // Assess
      expect(redacted).toBe(expected);
    });
  });

  describe('leaves everything else as it is', () => {
    const root = { headers: { authorization: 'x' } };
    it.each([
      ['tier', 'gold'],
      ['orderId', 'ORD-2024-000123'],
      ['timestamp', '2024-06-01T12:34:56.789Z'],
      ['status', 503],
      ['retry', true],
      ['nothing', null],
      ['absent', undefined],
      ['', root],
    ])('%s', (key, value) => {
      // Act
      const redacted = redactLogValue(key, value);

      // Assess
      expect(redacted).toBe(value);
    });
  });

  it('works as a JSON.stringify replacer over nested objects and arrays', () => {
    // Prepare
    const entry = {
      message: 'Prefill for jane@x.io',
      guest: { contacts: ['555-123-4567', 'gold'], credentials: { clientSecret: 'abc', clientId: 'client-1' } },
    };

    // Act
    const line = JSON.stringify(entry, redactLogValue);

    // Assess
    expect(JSON.parse(line)).toEqual({
      message: 'Prefill for *********',
      guest: { contacts: ['***-***-****', 'gold'], credentials: { clientSecret: '[redacted]', clientId: 'client-1' } },
    });
  });
});

describe('the shared logger', () => {
  let output: CapturedOutput;
  beforeEach(() => {
    output = captureOutput();
  });
  afterEach(() => {
    output.restore();
    logger.resetKeys();
  });

  it('writes structured JSON lines under the suite service name', () => {
    // Act
    logger.info('Job enqueued', { jobId: 'job-1' });

    // Assess
    expect(output.logged('Job enqueued')).toEqual([
      expect.objectContaining({ level: 'INFO', service: 'genesys-guest-sync', jobId: 'job-1' }),
    ]);
  });

  it('never writes an email, a phone number, an SSN or an authorization header it is given', () => {
    // Act
    logger.info('Guest jane.doe@enterprise.com called from (555) 123-4567', {
      guest: { email: 'jane.doe@enterprise.com', phones: ['555.123.4567', '+44 20 7946 0958'], ssn: '123-45-6789' },
      headers: { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl', 'x-hub-signature-256': 'sha256=AbCdEf123=' },
    });
    logger.warn('SSN 123 45 6789 seen in free text');
    logger.error('Upsert failed', new Error('CRM rejected jane.doe@enterprise.com'));

    // Assess
    const text = output.text();
    expect(output.entries().length).toBeGreaterThanOrEqual(3);
    for (const leaked of [
      'jane.doe@enterprise.com',
      '(555) 123-4567',
      '555.123.4567',
      '+44 20 7946 0958',
      '123-45-6789',
      '123 45 6789',
      'eyJhbGciOiJIUzI1NiJ9',
      'c2lnbmF0dXJl',
      'AbCdEf123',
    ]) {
      expect(text).not.toContain(leaked);
    }
  });

  it('keeps the masked shape, so a reader still sees that an identifier was there', () => {
    // Act
    logger.info('Lookup', { phone: '555-123-4567', headers: { authorization: 'Bearer x' } });

    // Assess
    expect(output.logged('Lookup')[0]).toMatchObject({ phone: '***-***-****', headers: { authorization: '[redacted]' } });
  });

  it('masks identifiers in a logged error message and stack', () => {
    // Act
    logger.error('Request failed', { error: new Error('no guest for 555-123-4567') });

    // Assess
    const [entry] = output.logged('Request failed');
    const error = entry?.['error'] as { message: string; stack: string };
    expect(error.message).toBe('no guest for ***-***-****');
    expect(error.stack).toContain('no guest for ***-***-****');
    expect(output.text()).not.toContain('555-123-4567');
  });

  it('masks keys appended for every line', () => {
    // Act
    logger.appendKeys({ guestEmail: 'jane.doe@enterprise.com', authorization: 'Bearer abc' });
    logger.info('With keys');

    // Assess
    expect(output.logged('With keys')[0]).toMatchObject({ guestEmail: '*'.repeat(23), authorization: '[redacted]' });
  });

  it('carries no credential when the invocation event itself is logged (POWERTOOLS_LOGGER_LOG_EVENT)', () => {
    // Prepare: an HTTP API payload 2.0 event; API Gateway moves the Cookie header into `cookies`.
    const event = {
      ...httpEvent({
        method: 'POST',
        path: '/guests',
        body: { email: 'jane.doe@enterprise.com' },
        headers: { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl', 'x-hub-signature-256': 'sha256=AbCdEf123=' },
        claims: { sub: 'user-1', email: 'john.roe@example.org', phone_number: '+14155552671' },
      }),
      cookies: ['session=s3ss10n-t0k3n', 'csrf=c5rf-t0k3n'],
    };

    // Act
    logger.logEventIfEnabled(event, true);

    // Assess
    const text = output.text();
    expect(output.logged('Lambda invocation event')).toHaveLength(1);
    for (const leaked of [
      'eyJhbGciOiJIUzI1NiJ9',
      'AbCdEf123',
      'jane.doe@enterprise.com',
      'john.roe@example.org',
      '+14155552671',
      's3ss10n-t0k3n',
      'c5rf-t0k3n',
    ]) {
      expect(text).not.toContain(leaked);
    }
  });
});
