/**
 * The control function's one cheap CRM request: a customer lookup for an address that
 * cannot exist (`GET /customers`, contract section 6), through the same CRM client,
 * token provider and credential re-read as every other CRM call. It changes nothing in
 * the CRM and tells whether the CRM takes requests again.
 */
import { CrmNetworkError, crmRequest, parseRetryAfter, type CrmRequestOptions } from '#lib/crm';
import { probeResultOf, type ProbeResult } from './outage.ts';

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
      ...(options.tokens ? { tokens: options.tokens } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), (options.now ?? Date.now)());
    return probeResultOf({ status: response.status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
  } catch (error) {
    if (error instanceof CrmNetworkError) return probeResultOf({ error: error.timedOut ? 'the CRM did not answer in time' : 'the CRM could not be reached' });
    return probeResultOf({ error: `the CRM credentials could not be read (${error instanceof Error ? error.name : 'error'})` });
  }
}
