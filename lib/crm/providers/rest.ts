/**
 * The generic `rest` CRM (docs/api.md section 6, the reference) behind the adapter interface:
 * a wrapper around the existing batch upsert (`POST /records/batch-upsert` with the chunk's
 * idempotency key) and the `GET /customers` lookup, with their outcomes classified the way
 * every adapter classifies its own. Records are sent as they are: the `rest` CRM keeps the
 * suite's field names and merges `attributes` and `consentFlags` key by key itself.
 */
import { createHash } from 'node:crypto';
import { SecretError, type TokenProvider } from '#lib/auth';
import { canonicalJson, type CrmRecord } from '#lib/jobs';
import { batchUpsert, safeCrmText } from '../batch-upsert.ts';
import { CrmNetworkError } from '../errors.ts';
import { crmRequest } from '../http.ts';
import {
  type CallFailure,
  type CallOptions,
  type CrmAdapter,
  type ProviderCustomer,
  type ProviderLookupOutcome,
  type ProviderUpsertOutcome,
  type RequestBudget,
  type UpsertOptions,
} from '../adapter.ts';

/** The `rest` CRM's batch maximum (docs/api.md section 5: `CRM_BATCH_SIZE` default). */
export const REST_BATCH_LIMIT = 50;

/** How a `rest` adapter is built. */
export interface RestAdapterOptions {
  /** `CRM_BASE_URL`. */
  baseUrl: string;
  /** Bearer token from `apiToken` (the shared CRM token provider in deployed functions). */
  tokens: TokenProvider;
  fetch?: typeof fetch;
  now?: () => number;
}

/** The chunk's key when the caller gives none: a digest of its records, so a resend gets the same key. */
export function chunkKey(chunk: readonly CrmRecord[]): string {
  return createHash('sha256').update(canonicalJson(chunk)).digest('hex').slice(0, 40);
}

/** The reference adapter. */
export class RestAdapter implements CrmAdapter {
  readonly provider = 'rest' as const;
  readonly batchLimit = REST_BATCH_LIMIT;
  readonly #options: RestAdapterOptions;
  readonly #now: () => number;
  #budget: RequestBudget | undefined;

  constructor(options: RestAdapterOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  budget(): RequestBudget | undefined {
    return this.#budget ? { ...this.#budget } : undefined;
  }

  async upsert(chunk: readonly CrmRecord[], options: UpsertOptions): Promise<ProviderUpsertOutcome> {
    if (chunk.length === 0) return { kind: 'ok', status: 200, results: [] };
    if (chunk.length > this.batchLimit) {
      return { kind: 'failed', failure: { kind: 'rejected', status: 413, reason: `The CRM takes at most ${this.batchLimit} records per call here; got ${chunk.length}` } };
    }
    const outcome = await batchUpsert({
      baseUrl: this.#options.baseUrl,
      idempotencyKey: options.idempotencyKey ?? chunkKey(chunk),
      records: [...chunk],
      timeoutMs: options.timeoutMs,
      now: this.#now,
      tokens: this.#options.tokens,
      ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
    });
    this.#budget = { observedAt: this.#now() };
    if (outcome.kind === 'ok') {
      return {
        kind: 'ok',
        status: outcome.status,
        ...(outcome.replayed ? { replayed: true } : {}),
        // The rest CRM's codes are its own: the worker classifies them by their words
        // (RATE_LIMITED, LOCKED, ... are transient), so no verdict is attached here.
        results: outcome.results.map((result) =>
          result.status === 'failed'
            ? { externalId: result.externalId, status: 'failed', error: { code: result.error?.code ?? '', message: result.error?.message ?? '' } }
            : { externalId: result.externalId, status: result.status },
        ),
      };
    }
    if (outcome.kind === 'rejected') return { kind: 'failed', failure: { kind: 'rejected', status: outcome.status, reason: outcome.reason } };
    const { status, reason } = outcome;
    if (status === 429) return { kind: 'failed', failure: { kind: 'rate_limited', status, reason, retryAfterMs: outcome.retryAfterMs ?? 1_000 } };
    // The rest CRM has no scopes: a 401 or 403 to a re-read token means refused credentials,
    // which pause the sync (as before the adapters), not a lost scope that dead-letters.
    if (status === 401 || status === 403) return { kind: 'failed', failure: { kind: 'credentials', status, reason } };
    return {
      kind: 'failed',
      failure: {
        kind: 'transient',
        reason,
        ...(status === undefined ? {} : { status }),
        ...(outcome.retryAfterMs === undefined ? {} : { retryAfterMs: outcome.retryAfterMs }),
        ...(outcome.timedOut ? { timedOut: true } : {}),
      },
    };
  }

  async lookupCustomer(query: { email?: string; phone?: string }, options: CallOptions): Promise<ProviderLookupOutcome> {
    const search = new URLSearchParams();
    if (query.email?.trim()) search.set('email', query.email.trim().toLowerCase());
    if (query.phone?.trim()) search.set('phone', query.phone.trim());
    if ([...search.keys()].length === 0) return { kind: 'not_found' };
    let response;
    try {
      response = await crmRequest({
        baseUrl: this.#options.baseUrl,
        method: 'GET',
        path: `/customers?${search.toString()}`,
        timeoutMs: options.timeoutMs,
        tokens: this.#options.tokens,
        ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
      });
    } catch (error) {
      if (error instanceof CrmNetworkError) return { kind: 'failed', failure: { kind: 'transient', reason: error.message, ...(error.timedOut ? { timedOut: true } : {}) } };
      // As every provider: an unreadable secret may pass, a missing or malformed one is a deployment mistake.
      if (error instanceof SecretError && error.reason !== 'read_failed') return { kind: 'failed', failure: { kind: 'credentials', reason: error.message } };
      return { kind: 'failed', failure: { kind: 'transient', reason: 'the CRM credentials could not be read' } };
    }
    if (response.status === 404) return { kind: 'not_found' };
    if (response.status !== 200) return { kind: 'failed', failure: this.#classify(response.status, response.body) };
    if (!Array.isArray(response.body)) return { kind: 'failed', failure: { kind: 'transient', status: 200, reason: 'the CRM answered something other than a list' } };
    for (const raw of response.body as unknown[]) {
      if (typeof raw !== 'object' || raw === null) continue;
      const row = raw as Record<string, unknown>;
      const id = typeof row['id'] === 'string' && row['id'].trim() !== '' ? row['id'] : typeof row['id'] === 'number' ? String(row['id']) : undefined;
      if (!id) continue;
      const customer: ProviderCustomer = { id };
      for (const key of ['firstName', 'lastName', 'loyaltyTier', 'accountStatus'] as const) {
        // A blank text is no value (as the lookup has always read it).
        if (typeof row[key] === 'string' && (row[key] as string).trim() !== '') customer[key] = row[key] as string;
      }
      if (typeof row['loyaltyPoints'] === 'number' && Number.isFinite(row['loyaltyPoints'])) customer.loyaltyPoints = row['loyaltyPoints'] as number;
      return { kind: 'found', customer };
    }
    return { kind: 'not_found' };
  }

  #classify(status: number, body: unknown): CallFailure {
    const detail = typeof body === 'object' && body !== null ? safeCrmText((body as Record<string, unknown>)['detail']) : '';
    const reason = `the CRM answered ${status}${detail ? `: ${detail}` : ''}`;
    if (status === 429) return { kind: 'rate_limited', status, reason, retryAfterMs: 1_000 };
    if (status === 401) return { kind: 'credentials', status, reason };
    if (status === 403) return { kind: 'permission', status, reason };
    if (status >= 500) return { kind: 'transient', status, reason };
    return { kind: 'rejected', status, reason };
  }
}
