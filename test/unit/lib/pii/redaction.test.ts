/** The logger's redaction uses the one masking module: numbers and identifier keys included. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logger } from '#lib/observability';
import { redactLogValue } from '#lib/observability/logger.ts';
import { captureOutput, type CapturedOutput } from '#test/support/lambda.ts';

describe('redactLogValue masks as every route does', () => {
  it.each([
    ['callback', 5551234567, '***-***-****'],
    ['intl', 447911123456, '***-***-****'],
    ['Mobile', '555-1234', '***-***-****'],
    ['ssn', '123456789', '***-**-****'],
    ['SSN', 123456789, '***-**-****'],
    ['Email', 'jane@intranet', '*************'],
    ['note', 'call +44 (0)20 7946 0958 or ５５５１２３４５６７', 'call ***-***-**** or ***-***-****'],
  ])('%s: %j', (key, value, expected) => {
    // Act
    const redacted = redactLogValue(key, value);

    // Assess
    expect(redacted).toBe(expected);
  });

  it.each([
    ['latencyMs', 12.5],
    ['byteSize', 10_240],
    ['at', 1_700_000_000_000],
    ['orderId', 123456789],
  ])('keeps the number %s: %d', (key, value) => {
    // Assess
    expect(redactLogValue(key, value)).toBe(value);
  });
});

describe('the logger', () => {
  let output: CapturedOutput;
  beforeEach(() => {
    output = captureOutput();
  });
  afterEach(() => output.restore());

  it('writes no identifier given as a number, under an identifier key or in a new format', () => {
    // Act
    logger.info('guest update', { job: { attributes: { callback: 5551234567, Mobile: '555-1234', ssn: '123456789', note: "o'brien@example.com 0044 20 7946 0958" } } });

    // Assess
    const text = output.text();
    expect(text).toContain('guest update');
    expect(text).not.toMatch(/5551234567|555-1234|123456789|o'brien|7946/);
  });
});
