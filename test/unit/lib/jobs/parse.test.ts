import { describe, expect, it } from 'vitest';
import { INVALID_JOB_CODE, parseJob } from '#lib/jobs/parse';
import { job } from '#test/support/factories.ts';

const valid = job({ externalId: 'ext-1', attributes: { tier: 'gold', points: 120, vip: true } });
const withChange = (change: (job: Record<string, any>) => void): string => {
  const job = structuredClone(valid) as unknown as Record<string, any>;
  change(job);
  return JSON.stringify(job);
};

describe('parseJob', () => {
  it('reads a valid job back exactly', () => {
    // Act
    const parsed = parseJob(JSON.stringify(valid));

    // Assess
    expect(parsed).toEqual({ ok: true, job: valid });
  });

  it.each(['prefill', 'webhook', 'guest', 'prechat', 'event'])('accepts the %s source', (source) => {
    expect(parseJob(withChange((job) => (job.source = source))).ok).toBe(true);
  });

  it('accepts a record with only the required fields', () => {
    // Prepare
    const body = withChange((job) => {
      job.record = { externalId: 'x', lastInteraction: '2025-03-01T10:00:00Z', sourceUpdatedAt: '2025-03-01T10:00:00+02:00' };
    });

    // Act / Assess
    expect(parseJob(body).ok).toBe(true);
  });

  describe.each<[string, string, string]>([
    ['bad JSON', '{"v":1,', 'not valid JSON'],
    ['a JSON array', '[]', '/ must be object'],
    ['an unknown version', withChange((job) => (job.v = 2)), '/v must be equal to constant'],
    ['an unknown kind', withChange((job) => (job.kind = 'crm.delete')), '/kind must be equal to constant'],
    ['an unknown source', withChange((job) => (job.source = 'email')), '/source must be equal to one of the allowed values'],
    ['no jobId', withChange((job) => delete job.jobId), '/jobId is required'],
    ['a jobId with spaces', withChange((job) => (job.jobId = 'guest 1')), '/jobId must match pattern'],
    ['no record', withChange((job) => delete job.record), '/record is required'],
    ['no externalId', withChange((job) => delete job.record.externalId), '/record/externalId is required'],
    ['an empty externalId', withChange((job) => (job.record.externalId = '')), '/record/externalId must NOT have fewer than 1 characters'],
    ['no sourceUpdatedAt', withChange((job) => delete job.record.sourceUpdatedAt), '/record/sourceUpdatedAt is required'],
    ['a date without a zone', withChange((job) => (job.record.sourceUpdatedAt = '2025-03-01 10:00')), '/record/sourceUpdatedAt must match pattern'],
    ['an impossible date', withChange((job) => (job.record.lastInteraction = '2025-13-45T10:00:00Z')), '/record/lastInteraction is not a real date-time'],
    ['a plaintext-looking email hash', withChange((job) => (job.record.emailHash = 'jane@example.com')), '/record/emailHash must match pattern'],
    ['a nested attribute', withChange((job) => (job.record.attributes = { address: { city: 'Oslo' } })), '/record/attributes/address must be string,number,boolean'],
    ['an unknown record field', withChange((job) => (job.record.email = 'jane@example.com')), '/record/email is not an allowed property'],
  ])('rejects %s', (_case, body, expected) => {
    it('as a permanent INVALID_JOB naming the failing path', () => {
      // Act
      const parsed = parseJob(body);

      // Assess
      expect(parsed.ok).toBe(false);
      if (parsed.ok) return;
      expect(parsed.code).toBe(INVALID_JOB_CODE);
      expect(parsed.reason).toContain(expected);
    });

    it('without repeating a value from the message', () => {
      // Act
      const parsed = parseJob(body);

      // Assess
      expect(JSON.stringify(parsed)).not.toMatch(/jane@example\.com|Oslo|crm\.delete/);
    });
  });

  it('keeps the job id of an invalid job that has a readable one', () => {
    // Act
    const parsed = parseJob(withChange((job) => delete job.record.externalId));

    // Assess
    expect(parsed).toMatchObject({ ok: false, jobId: valid.jobId });
  });

  it('ignores envelope fields a later producer may add', () => {
    expect(parseJob(withChange((job) => (job.traceId = 'abc'))).ok).toBe(true);
  });
});
