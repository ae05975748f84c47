/**
 * `Retry-After` (RFC 9110 section 10.2.3) as a wait in milliseconds: the one parser every
 * client of the suite (Genesys, the CRM, each CRM provider) reads the header with.
 */

/**
 * The wait a `Retry-After` value asks for: delay seconds (a fraction is tolerated) or an
 * HTTP date measured against `now` (a date in the past is no wait); undefined when absent or
 * unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  const raw = value?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
