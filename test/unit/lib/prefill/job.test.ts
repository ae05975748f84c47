import { describe, expect, it } from 'vitest';
import { containsIdentifier } from '#lib/pii';
import { buildPrefillJob } from '#lib/prefill/job.ts';
import { processPrefill } from '#lib/prefill/process.ts';

const SESSION_ID = '3f6c1d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f';
const SALT = 'unit-test-salt';
const processed = () =>
  processPrefill(
    {
      attributes: { first_name: 'Jane', email: 'jane.doe@enterprise.com', phone: '555-123-4567', note: 'ssn 123-45-6789' },
      consent: { marketing_opt_in: 'false' },
    },
    SALT,
  );

describe('buildPrefillJob', () => {
  it('makes one crm.upsert job for the session with hashes, consent and masked attributes', () => {
    // Prepare
    const now = new Date('2025-01-15T10:30:00.000Z');

    // Act
    const job = buildPrefillJob(SESSION_ID, processed(), now);

    // Assess
    expect(job).toEqual({
      v: 1,
      kind: 'crm.upsert',
      jobId: expect.stringMatching(/^prefill-[0-9a-f]{32}$/),
      source: 'prefill',
      enqueuedAt: '2025-01-15T10:30:00.000Z',
      record: {
        externalId: SESSION_ID,
        emailHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        phoneHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        consentFlags: { marketing_opt_in: false },
        attributes: { first_name: 'Jane', note: 'ssn ***-**-****', marketing_opt_in: false },
        lastInteraction: '2025-01-15T10:30:00.000Z',
        sourceUpdatedAt: '2025-01-15T10:30:00.000Z',
      },
    });
  });

  it('carries no plaintext email, phone or SSN anywhere', () => {
    // Act
    const job = buildPrefillJob(SESSION_ID, processed());

    // Assess
    const text = JSON.stringify(job);
    expect(text).not.toMatch(/jane\.doe|555-123-4567|123-45-6789/);
    expect(containsIdentifier(text)).toBe(false);
  });

  it('gives the same change the same job id, whenever it is sent', () => {
    // Act
    const first = buildPrefillJob(SESSION_ID, processed(), new Date('2025-01-15T10:30:00Z'));
    const again = buildPrefillJob(SESSION_ID, processed(), new Date('2025-01-15T11:45:00Z'));

    // Assess
    expect(again.jobId).toBe(first.jobId);
  });

  describe.each([
    ['another session', '9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d', { first_name: 'Jane' }],
    ['another attribute value', SESSION_ID, { first_name: 'Janet' }],
    ['another attribute', SESSION_ID, { first_name: 'Jane', tier: 'gold' }],
  ])('a different change (%s)', (_case, sessionId, attributes) => {
    it('gets a different job id', () => {
      // Prepare
      const base = buildPrefillJob(SESSION_ID, processPrefill({ attributes: { first_name: 'Jane' } }, undefined));

      // Act
      const other = buildPrefillJob(sessionId, processPrefill({ attributes }, undefined));

      // Assess
      expect(other.jobId).not.toBe(base.jobId);
    });
  });
});
