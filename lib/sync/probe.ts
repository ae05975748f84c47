/**
 * The control function's one cheap CRM request: a customer lookup for an address that
 * cannot exist (`GET /customers`, docs/api.md section 6), through the same CRM client,
 * token provider and credential re-read as every other CRM call. It changes nothing in
 * the CRM and tells whether the CRM takes requests again.
 */
import { CrmNetworkError, crmRequest, type CrmAdapter, type CrmRequestOptions } from '#lib/crm';
import { parseRetryAfter } from '#lib/net';
import { LIMIT_RETRY_AFTER_MS, MAX_LIMIT_PAUSE_MS, probeResultOf, type ProbeResult } from './outage.ts';

/** The address looked up: reserved (RFC 2606), so no customer can have it; not personal data. */
export const PROBE_EMAIL = 'crm-sync-probe@example.invalid';

/** Probes the CRM at `baseUrl` within `timeoutMs`. Never throws. */
export async function probeCrm(options: Pick<CrmRequestOptions, 'baseUrl' | 'tokens' | 'fetch'> & { timeoutMs?: number; now?: () => number }): Promise<ProbeResult> {
  try {
    const response = await crmRequest({
      baseUrl: options.baseUrl,
      method: 'GET',
      path: `/customers?${new URLSearchParams({ email: PROBE_EMAIL }).toString()}`,
      timeoutMs: options.timeoutMs ?? 5_000,
      tokens: options.tokens,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), (options.now ?? Date.now)());
    return probeResultOf({ status: response.status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
  } catch (error) {
    if (error instanceof CrmNetworkError) return probeResultOf({ error: error.timedOut ? 'the CRM did not answer in time' : 'the CRM could not be reached' });
    return probeResultOf({ error: `the CRM credentials could not be read (${error instanceof Error ? error.name : 'error'})` });
  }
}

/**
 * Probes a provider through its adapter's customer lookup of `PROBE_EMAIL` (HubSpot search,
 * Salesforce SOQL, Dynamics filter), read with the adapter's own classification: any answer
 * means the CRM takes requests again, except a quota still used up (pause until it resets),
 * refused credentials, or no answer at all. Never throws.
 */
export async function probeAdapter(adapter: Pick<CrmAdapter, 'lookupCustomer'>, options: { timeoutMs?: number; now?: () => number } = {}): Promise<ProbeResult> {
  let outcome;
  try {
    outcome = await adapter.lookupCustomer({ email: PROBE_EMAIL }, { timeoutMs: options.timeoutMs ?? 5_000 });
  } catch (error) {
    return { kind: 'down', reason: `the CRM probe failed (${error instanceof Error ? error.name : 'error'})` };
  }
  if (outcome.kind !== 'failed') return { kind: 'ok' };
  const { failure } = outcome;
  switch (failure.kind) {
    case 'transient':
      return { kind: 'down', reason: failure.reason };
    case 'credentials':
      return { kind: 'credentials', reason: failure.reason };
    case 'quota_exhausted': {
      const untilReset = failure.resetAt === undefined ? undefined : failure.resetAt - (options.now ?? Date.now)();
      return { kind: 'limit', reason: failure.reason, retryAfterMs: Math.min(MAX_LIMIT_PAUSE_MS, Math.max(LIMIT_RETRY_AFTER_MS, untilReset ?? failure.probeAfterMs)) };
    }
    case 'rate_limited':
      return failure.retryAfterMs >= LIMIT_RETRY_AFTER_MS ? { kind: 'limit', reason: failure.reason, retryAfterMs: Math.min(MAX_LIMIT_PAUSE_MS, failure.retryAfterMs) } : { kind: 'ok' };
    default:
      // A lookup refused as malformed or for a scope the worker's writes may not need: the CRM answered.
      return { kind: 'ok' };
  }
}
