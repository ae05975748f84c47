/**
 * Which failures can never succeed and which are worth another try (docs/api.md section 5):
 * a `failed` record result with a 4xx-class code is permanent for that record; 429, 5xx,
 * 409 and timeouts are transient.
 */

/** What to do with a failure. */
export type FailureKind = 'permanent' | 'transient';

/** HTTP-style codes that mean "try again", although they are in the 4xx class. */
const TRANSIENT_4XX = new Set([408, 409, 425, 429]);

/**
 * Symbolic codes that name a passing condition (throttling, timeouts, locks, outages).
 * Matched on the code's words, so `RATE_LIMITED`, `rate-limit-exceeded` and
 * `UpstreamTimeout` all count.
 */
const TRANSIENT_WORDS =
  /(RATE_?LIMIT|THROTTL|TOO_?MANY|TIME_?OUT|TIMED_?OUT|UNAVAILABLE|INTERNAL|SERVER_?ERROR|TEMPORAR|TRY_?AGAIN|RETRY|IN_?FLIGHT|IN_?PROGRESS|CONFLICT|LOCK|BUSY|DEADLOCK|NETWORK|OVERLOAD|CAPACITY)/;

/** Normalises `rate-limit.Exceeded` and `rateLimitExceeded` alike to `RATE_LIMIT_EXCEEDED`. */
const words = (code: string): string =>
  code
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();

/**
 * Classifies the `error.code` of a `failed` record result. Numeric codes follow HTTP
 * (4xx permanent except 408/409/425/429; anything else transient); symbolic codes are
 * transient when they name a passing condition, permanent otherwise (validation,
 * duplicates, unknown fields: resending the same record cannot help). A result without
 * a code is permanent: it goes to the DLQ at once, where an operator can see it.
 */
export function classifyRecordFailure(code: string | undefined): FailureKind {
  const trimmed = (code ?? '').trim();
  if (trimmed === '') return 'permanent';
  if (/^\d{3}$/.test(trimmed)) {
    const status = Number(trimmed);
    return status >= 400 && status < 500 && !TRANSIENT_4XX.has(status) ? 'permanent' : 'transient';
  }
  return TRANSIENT_WORDS.test(words(trimmed)) ? 'transient' : 'permanent';
}

/** The failure code a record without one is dead-lettered with. */
export const UNSPECIFIED_FAILURE_CODE = 'UNSPECIFIED';

/** The failure code of messages whose transient failures outlasted their receives. */
export const RETRIES_EXHAUSTED_CODE = 'RETRIES_EXHAUSTED';

/** The failure code of a record the CRM refused as a whole request, isolated to itself. */
export const rejectedRequestCode = (status: number): string => `CRM_HTTP_${status}`;

/** A failure code as it may appear in a metric dimension or message attribute. */
export function safeFailureCode(code: string | undefined): string {
  const cleaned = (code ?? '').trim().replace(/[^A-Za-z0-9_.:-]+/g, '_').slice(0, 64);
  return cleaned === '' ? UNSPECIFIED_FAILURE_CODE : cleaned;
}
