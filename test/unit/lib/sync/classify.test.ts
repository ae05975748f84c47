import { describe, expect, it } from 'vitest';
import { classifyRecordFailure, safeFailureCode, type FailureKind } from '#lib/sync/classify.ts';
import { isTransientUpsertStatus } from '#lib/crm/batch-upsert.ts';

describe('classifyRecordFailure (a failed record result)', () => {
  it.each<[string | undefined, FailureKind]>([
    // HTTP-style codes: 4xx permanent, except the ones that mean "later"
    ['400', 'permanent'],
    ['404', 'permanent'],
    ['422', 'permanent'],
    ['408', 'transient'],
    ['409', 'transient'],
    ['425', 'transient'],
    ['429', 'transient'],
    ['500', 'transient'],
    ['503', 'transient'],
    // Symbolic codes: a passing condition is transient, anything about the data permanent
    ['VALIDATION_ERROR', 'permanent'],
    ['INVALID_EMAIL_HASH', 'permanent'],
    ['DUPLICATE_RECORD', 'permanent'],
    ['RECORD_LOCKED', 'transient'],
    ['RATE_LIMITED', 'transient'],
    ['rate-limit-exceeded', 'transient'],
    ['rateLimitExceeded', 'transient'],
    ['THROTTLED', 'transient'],
    ['TIMEOUT', 'transient'],
    ['UpstreamTimeout', 'transient'],
    ['SERVICE_UNAVAILABLE', 'transient'],
    ['INTERNAL_ERROR', 'transient'],
    ['CONFLICT', 'transient'],
    ['IN_FLIGHT', 'transient'],
    // No code: permanent, so an operator sees it in the DLQ at once
    ['', 'permanent'],
    [undefined, 'permanent'],
  ])('%s is %s', (code, kind) => {
    expect(classifyRecordFailure(code)).toBe(kind);
  });
});

describe('isTransientUpsertStatus (the whole request)', () => {
  it.each<[number, boolean]>([
    [400, false],
    [413, false],
    [422, false],
    [401, true],
    [403, true],
    [404, true],
    [408, true],
    [409, true],
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [504, true],
    [302, true],
  ])('%i: transient %s', (status, transient) => {
    expect(isTransientUpsertStatus(status)).toBe(transient);
  });
});

describe('safeFailureCode', () => {
  it.each<[string | undefined, string]>([
    ['VALIDATION_ERROR', 'VALIDATION_ERROR'],
    [' bad code\n', 'bad_code'],
    ['', 'UNSPECIFIED'],
    [undefined, 'UNSPECIFIED'],
    ['x'.repeat(100), 'x'.repeat(64)],
  ])('%j -> %j', (code, safe) => {
    expect(safeFailureCode(code)).toBe(safe);
  });
});
