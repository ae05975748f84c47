/**
 * The CRM batch upsert (docs/api.md section 6): one `POST /records/batch-upsert` with the
 * chunk's idempotency key, answered as a typed outcome instead of an exception, so the
 * worker decides per outcome what is done, retried or dead-lettered. No retries here:
 * the worker owns the retry budget (it knows the Lambda's remaining time).
 */
import type { TokenProvider } from '#lib/auth';
import type { CrmRecord } from '#lib/jobs';
import { maskIdentifiers } from '#lib/pii';
import { parseRetryAfter, withDeadline } from '#lib/net';
import { CrmNetworkError } from './errors.ts';
import { crmRequest } from './http.ts';
import type { CallFailure, FailureClass } from './adapter.ts';

/** The four per-record statuses of docs/api.md section 6. */
export type CrmRecordStatus = 'created' | 'updated' | 'unchanged' | 'failed';

/** One record's result, in request order. */
export interface CrmRecordResult {
  externalId: string;
  status: CrmRecordStatus;
  /** `classification`: the provider adapter's own verdict, when it gave one. */
  error?: { code: string; message: string; classification?: FailureClass };
}

/** What one batch upsert came to. */
export type BatchUpsertOutcome =
  /** 200 with one well-formed result per record (possibly replayed by the CRM). */
  | { kind: 'ok'; status: number; results: CrmRecordResult[]; replayed: boolean }
  /**
   * Worth retrying the same chunk with the same key: 429, 5xx, 409 in flight, timeouts, no
   * answer. `failure`: a provider adapter's own classification (a quota, refused credentials).
   */
  | { kind: 'transient'; status?: number; reason: string; retryAfterMs?: number; timedOut?: boolean; failure?: CallFailure }
  /** The CRM refused the request itself (400, 413, 422, a lost scope ...): resending it unchanged cannot succeed. */
  | { kind: 'rejected'; status: number; reason: string; failure?: CallFailure };

/** Options of one batch upsert. */
export interface BatchUpsertRequest {
  baseUrl: string;
  idempotencyKey: string;
  records: CrmRecord[];
  timeoutMs: number;
  tokens: TokenProvider;
  fetch?: typeof fetch;
  /** Epoch ms, for an HTTP-date `Retry-After` (default `Date.now`). */
  now?: () => number;
}

/** Path of the batch upsert operation. */
export const BATCH_UPSERT_PATH = '/records/batch-upsert';

/**
 * Statuses that say nothing about the records themselves: the CRM is throttling, busy,
 * failing, still working on the same key, or the worker's credentials or URL are wrong.
 * Retrying (and, at last, dead-lettering with the reason) is right for all of them.
 */
const TRANSIENT_STATUSES = new Set([401, 403, 404, 408, 409, 425, 429]);

/** Whether an HTTP status of the batch upsert is transient for the whole chunk (any non-4xx error is). */
export function isTransientUpsertStatus(status: number): boolean {
  return status < 400 || status >= 500 || TRANSIENT_STATUSES.has(status);
}

const STATUSES = new Set<CrmRecordStatus>(['created', 'updated', 'unchanged', 'failed']);
const MAX_TEXT = 300;

/** CRM-provided text as it may be logged or stored: identifiers masked, bounded length. */
export function safeCrmText(text: unknown): string {
  if (typeof text !== 'string') return '';
  const masked = maskIdentifiers(text.replace(/\s+/g, ' ').trim()).value;
  return masked.length > MAX_TEXT ? `${masked.slice(0, MAX_TEXT - 1)}…` : masked;
}

/** The problem detail (or title) of an error answer, made safe. */
function detailOf(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const record = body as Record<string, unknown>;
  return safeCrmText(record['detail'] ?? record['message'] ?? record['title']);
}

/**
 * Checks a 200 body: `results` must hold one result per record, in request order, each
 * with a known status. Anything else is a CRM fault, not a verdict on the records.
 */
export function readResults(body: unknown, records: readonly CrmRecord[]): CrmRecordResult[] | string {
  const results = (body as { results?: unknown } | undefined)?.results;
  if (!Array.isArray(results)) return 'the CRM answered 200 without a results array';
  if (results.length !== records.length) {
    return `the CRM answered ${results.length} results for ${records.length} records`;
  }
  const read: CrmRecordResult[] = [];
  for (const [index, raw] of results.entries()) {
    const result = raw as Partial<CrmRecordResult> | null;
    if (typeof result !== 'object' || result === null || !STATUSES.has(result.status as CrmRecordStatus)) {
      return `the CRM answered an unknown status for result ${index}`;
    }
    if (result.externalId !== records[index]?.externalId) {
      return `the CRM answered result ${index} for another record than the one sent at that position`;
    }
    const entry: CrmRecordResult = { externalId: result.externalId as string, status: result.status as CrmRecordStatus };
    if (result.status === 'failed') {
      const error = (result.error ?? {}) as Partial<{ code: unknown; message: unknown }>;
      entry.error = {
        code: typeof error.code === 'string' && error.code.trim() !== '' ? error.code.trim() : typeof error.code === 'number' ? String(error.code) : '',
        message: safeCrmText(error.message),
      };
    }
    read.push(entry);
  }
  return read;
}

/**
 * Sends one chunk. Never throws: every answer, and the lack of one, becomes an outcome.
 * The key goes both in the `Idempotency-Key` header and in the body, as the contract asks.
 */
export async function batchUpsert(request: BatchUpsertRequest): Promise<BatchUpsertOutcome> {
  // A hard deadline over the whole call (token, attempts, body), held by a timer of our own
  // (`withDeadline`): the worker must never outlive its Lambda.
  const baseFetch = request.fetch ?? fetch;
  let response;
  try {
    response = await withDeadline(request.timeoutMs, (deadline) => {
      const boundFetch: typeof fetch = (input, init) => baseFetch(input, { ...init, signal: AbortSignal.any([deadline, ...(init?.signal ? [init.signal] : [])]) });
      return crmRequest({
        baseUrl: request.baseUrl,
        method: 'POST',
        path: BATCH_UPSERT_PATH,
        body: { idempotencyKey: request.idempotencyKey, records: request.records },
        headers: { 'idempotency-key': request.idempotencyKey },
        timeoutMs: request.timeoutMs,
        fetch: boundFetch,
        tokens: request.tokens,
      });
    }, { expired: () => new CrmNetworkError(`CRM POST ${BATCH_UPSERT_PATH} timed out`, true) });
  } catch (error) {
    if (error instanceof CrmNetworkError) {
      return { kind: 'transient', reason: error.timedOut ? 'the CRM did not answer in time' : 'the CRM could not be reached', timedOut: error.timedOut };
    }
    // The token provider could not read the CRM secret: nothing was sent.
    return { kind: 'transient', reason: `the CRM credentials could not be read (${error instanceof Error ? error.name : 'error'})` };
  }
  const { status } = response;
  if (status >= 200 && status < 300) {
    const results = readResults(response.body, request.records);
    if (typeof results === 'string') return { kind: 'transient', status, reason: results };
    return { kind: 'ok', status, results, replayed: response.headers.get('idempotent-replayed') === 'true' };
  }
  const detail = detailOf(response.body);
  const reason = `the CRM answered ${status}${detail ? `: ${detail}` : ''}`;
  if (isTransientUpsertStatus(status)) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), (request.now ?? Date.now)());
    return { kind: 'transient', status, reason, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }
  return { kind: 'rejected', status, reason };
}
