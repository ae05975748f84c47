/** The control function's probe through a provider adapter: when the CRM sync may resume. */
import { describe, expect, it } from 'vitest';
import type { CallFailure, ProviderLookupOutcome } from '#lib/crm/adapter.ts';
import { PROBE_EMAIL, probeAdapter } from '#lib/sync/probe.ts';

const NOW = Date.parse('2026-03-01T10:00:00.000Z');
const adapter = (outcome: ProviderLookupOutcome, seen: string[] = []) => ({
  lookupCustomer: async (query: { email?: string }) => {
    seen.push(query.email ?? '');
    return outcome;
  },
});
const failed = (failure: CallFailure): ProviderLookupOutcome => ({ kind: 'failed', failure });

describe('probeAdapter', () => {
  it('looks up the reserved probe address and resumes on any answer', async () => {
    // Prepare
    const seen: string[] = [];

    // Act
    const result = await probeAdapter(adapter({ kind: 'not_found' }, seen));

    // Assess
    expect(result).toEqual({ kind: 'ok' });
    expect(seen).toEqual([PROBE_EMAIL]);
  });

  it.each([
    ['a daily quota still used up: pause until it resets', failed({ kind: 'quota_exhausted', status: 403, reason: 'REQUEST_LIMIT_EXCEEDED', resetAt: NOW + 3_600_000, probeAfterMs: 60_000 }), { kind: 'limit', retryAfterMs: 3_600_000 }],
    ['refused credentials: stay paused', failed({ kind: 'credentials', status: 401, reason: 'INVALID_SESSION_ID' }), { kind: 'credentials' }],
    ['no answer: stay paused', failed({ kind: 'transient', reason: 'HubSpot could not be reached' }), { kind: 'down' }],
    ['a ten-second window: the CRM answers, resume (the limiter slows down)', failed({ kind: 'rate_limited', status: 429, reason: 'TEN_SECONDLY_ROLLING', retryAfterMs: 1_000 }), { kind: 'ok' }],
  ])('reads %s', async (_case, outcome, expected) => {
    // Act
    const result = await probeAdapter(adapter(outcome), { now: () => NOW });

    // Assess
    expect(result).toMatchObject(expected);
  });
});
