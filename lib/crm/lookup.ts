/**
 * CRM customer lookup for pre-chat enrichment (docs/api.md sections 2 and 6): the lookup of
 * the adapter `CRM_PROVIDER` chooses (`rest` `GET /customers`, HubSpot search, Salesforce
 * SOQL / SOSL, Dynamics `$filter`). The caller must never wait long or fail because of
 * the CRM, so every lookup runs under a time budget (default 5 s, cockatiel timeout),
 * behind a circuit breaker (cockatiel: after consecutive failures the CRM is left alone
 * for a while and lookups answer "unavailable" at once), and through a small in-container
 * cache of recent answers (short TTL, bounded size) so a guest who retries the form costs
 * one lookup. A lookup never throws: it answers found, not found, or unavailable with a
 * reason read from the adapter's failure kind (a provider's refusal, HubSpot's search
 * limit included, is "unavailable", never an error to the page).
 */
import { createHash } from 'node:crypto';
import { BrokenCircuitError, TaskCancelledError, TimeoutStrategy, handleAll, timeout, wrap, type CircuitBreakerPolicy } from 'cockatiel';
import { sharedCrmTokenProvider, sharedSecretCache, type TokenProvider } from '#lib/auth';
import type { Config } from '#lib/config';
import { normaliseIdentifier } from '#lib/identity';
import { logger } from '#lib/observability';
import type { CallFailure, CrmAdapter, ProviderCustomer } from './adapter.ts';
import { breakerState, countBreakerChange, createCrmBreaker, type BreakerState } from './breaker.ts';
import { createCrmAdapter, crmAdapterSettings } from './providers/index.ts';
import { RestAdapter } from './providers/rest.ts';

/** A CRM customer as the lookup returns it: the adapters' customer shape, one definition. */
export type CrmCustomer = ProviderCustomer;

/** Who to look for: at least one of email and phone. */
export interface CustomerQuery {
  email?: string;
  phone?: string;
}

/**
 * Why a lookup could not tell whether the customer exists: the breaker, the budget, or the
 * adapter's failure kind (`rate_limited`: a short window or HubSpot's search limit;
 * `quota_exhausted`: a daily quota; `credentials`; `permission`: a missing scope or privilege).
 */
export type LookupUnavailableReason =
  | 'timeout'
  | 'circuit_open'
  | 'network'
  | 'upstream_error'
  | 'invalid_response'
  | 'rate_limited'
  | 'quota_exhausted'
  | 'credentials'
  | 'permission';

/** The answer of one lookup. */
export type CustomerLookupResult =
  | { outcome: 'found'; customer: CrmCustomer; fromCache: boolean }
  | { outcome: 'not_found'; fromCache: boolean }
  | { outcome: 'unavailable'; reason: LookupUnavailableReason; detail: string };

/**
 * How a `CustomerLookup` is built: the provider's `adapter`, or (the `rest` CRM) its
 * `baseUrl` with `tokens` and `fetch`; everything else has a default.
 */
export interface CustomerLookupOptions {
  /** The adapter whose `lookupCustomer` asks the CRM. */
  adapter?: Pick<CrmAdapter, 'lookupCustomer'>;
  /** Without `adapter`: the `rest` CRM at this URL, with these tokens. */
  baseUrl?: string;
  tokens?: TokenProvider;
  fetch?: typeof fetch;
  /** Longest a lookup may take, token included (default 5 000 ms). */
  budgetMs?: number;
  /** How long an answer (found or not found) is reused (default 60 s). */
  cacheTtlMs?: number;
  /** Most answers kept; the least recently used goes first (default 500). */
  cacheMaxEntries?: number;
  /** Consecutive failures that open the circuit (default 5). */
  failureThreshold?: number;
  /** How long an open circuit refuses lookups before one trial (default 30 s). */
  halfOpenAfterMs?: number;
  /** Clock of the cache (the breaker uses cockatiel's own). */
  now?: () => number;
  /** Told when the circuit changes state (metrics and logs). */
  onBreakerStateChange?: (state: BreakerState) => void;
}

/** Default lookup budget: the contract's 5 s. */
export const CRM_LOOKUP_BUDGET_MS = 5_000;

/**
 * A least-recently-used map whose entries expire. Hand-written: no cache library is among
 * the dependencies, and a `Map` (which keeps insertion order) makes one in a few lines.
 */
export class BoundedTtlCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The live value of `key`, refreshed as most recently used; expired entries are dropped. */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value`, evicting the least recently used entries beyond the bound. */
  set(key: string, value: V): void {
    if (this.maxEntries <= 0 || this.ttlMs <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  /** Entries held (expired ones included until touched). */
  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** A failed CRM answer, thrown inside the breaker so it counts as a failure (every failure kind does, as before the adapters). */
class LookupFailure extends Error {
  constructor(
    readonly reason: LookupUnavailableReason,
    message: string,
    readonly timedOut = false,
  ) {
    super(message);
    this.name = 'LookupFailure';
  }
}

/** Looks customers up in the CRM within a budget, behind a breaker and a cache. */
export class CustomerLookup {
  readonly #adapter: Pick<CrmAdapter, 'lookupCustomer'>;
  readonly #budgetMs: number;
  readonly #cache: BoundedTtlCache<CrmCustomer | null>;
  readonly #breaker: CircuitBreakerPolicy;

  constructor(options: CustomerLookupOptions) {
    if (!options.adapter && (!options.baseUrl || !options.tokens)) throw new Error('CustomerLookup needs an adapter, or the rest CRM base URL and its tokens');
    this.#adapter =
      options.adapter ??
      new RestAdapter({ baseUrl: options.baseUrl as string, tokens: options.tokens as TokenProvider, ...(options.fetch ? { fetch: options.fetch } : {}) });
    this.#budgetMs = options.budgetMs ?? CRM_LOOKUP_BUDGET_MS;
    this.#cache = new BoundedTtlCache(options.cacheMaxEntries ?? 500, options.cacheTtlMs ?? 60_000, options.now);
    // Every failed lookup counts, thrown as a `LookupFailure` or a timeout.
    this.#breaker = createCrmBreaker({
      failures: handleAll,
      halfOpenAfterMs: options.halfOpenAfterMs ?? 30_000,
      threshold: options.failureThreshold ?? 5,
      ...(options.onBreakerStateChange ? { onStateChange: options.onBreakerStateChange } : {}),
    });
  }

  /** The circuit's state now. */
  breakerState(): BreakerState {
    return breakerState(this.#breaker);
  }

  /** Forgets cached answers (the breaker keeps its state). */
  clearCache(): void {
    this.#cache.clear();
  }

  /**
   * Finds the customer matching the email or phone. `budgetMs` can only shorten the
   * configured budget (for a Lambda with little time left). Never throws.
   */
  async lookup(query: CustomerQuery, options: { budgetMs?: number } = {}): Promise<CustomerLookupResult> {
    const email = query.email?.trim() ? normaliseIdentifier('email', query.email) : undefined;
    const phone = query.phone?.trim() ? query.phone.trim() : undefined;
    if (!email && !phone) return { outcome: 'not_found', fromCache: false };

    // Keyed by a digest, so the cache never holds an identifier in the clear.
    const key = createHash('sha256')
      .update(`${email ?? ''}\n${phone ? normaliseIdentifier('phone', phone) : ''}`)
      .digest('hex');
    const cached = this.#cache.get(key);
    if (cached !== undefined) {
      return cached === null ? { outcome: 'not_found', fromCache: true } : { outcome: 'found', customer: cached, fromCache: true };
    }

    const budgetMs = Math.max(1, Math.min(this.#budgetMs, options.budgetMs ?? Number.POSITIVE_INFINITY));
    const policy = wrap(this.#breaker, timeout(budgetMs, TimeoutStrategy.Aggressive));
    try {
      const customer = await policy.execute(() => this.#request(email, phone, budgetMs));
      this.#cache.set(key, customer ?? null);
      return customer ? { outcome: 'found', customer, fromCache: false } : { outcome: 'not_found', fromCache: false };
    } catch (error) {
      return { outcome: 'unavailable', ...classify(error, budgetMs) };
    }
  }

  async #request(email: string | undefined, phone: string | undefined, budgetMs: number): Promise<CrmCustomer | undefined> {
    const outcome = await this.#adapter.lookupCustomer({ ...(email ? { email } : {}), ...(phone ? { phone } : {}) }, { timeoutMs: budgetMs });
    if (outcome.kind === 'found') return outcome.customer;
    if (outcome.kind === 'not_found') return undefined;
    throw new LookupFailure(reasonOf(outcome.failure), outcome.failure.reason, outcome.failure.kind === 'transient' && outcome.failure.timedOut === true);
  }
}

/** The lookup's reason for an adapter's failure kind. */
export function reasonOf(failure: CallFailure): LookupUnavailableReason {
  switch (failure.kind) {
    case 'transient':
      if (failure.timedOut) return 'timeout';
      if (failure.status === undefined) return 'network';
      // A 2xx the adapter could not read (no list, no results) is an invalid answer.
      return failure.status >= 200 && failure.status < 300 ? 'invalid_response' : 'upstream_error';
    case 'rejected':
      return 'upstream_error';
    default:
      return failure.kind;
  }
}

function classify(error: unknown, budgetMs: number): { reason: LookupUnavailableReason; detail: string } {
  if (error instanceof BrokenCircuitError) {
    return { reason: 'circuit_open', detail: 'the CRM circuit is open after repeated failures' };
  }
  if (error instanceof TaskCancelledError || (error instanceof LookupFailure && error.timedOut)) {
    return { reason: 'timeout', detail: `the CRM did not answer within ${budgetMs} ms` };
  }
  if (error instanceof LookupFailure) return { reason: error.reason, detail: error.message };
  return { reason: 'upstream_error', detail: error instanceof Error ? error.message : 'unknown error' };
}

let shared: CustomerLookup | undefined;

/**
 * The container's lookup (one cache, one breaker) on the adapter the `crm` section names
 * (`CRM_PROVIDER`); the `rest` CRM keeps the shared CRM token provider, as before.
 */
export function sharedCustomerLookup(config: Pick<Config, 'runtime' | 'crm'>): CustomerLookup {
  shared ??= new CustomerLookup({
    adapter: createCrmAdapter(crmAdapterSettings(config.crm, { secrets: sharedSecretCache(config), restTokens: sharedCrmTokenProvider(config) })),
    onBreakerStateChange: (state) => {
      logger.warn('CRM lookup circuit changed state', { breakerState: state });
      countBreakerChange(state);
    },
  });
  return shared;
}

/** Drops the shared lookup (cache and breaker) so a test starts cold. */
export function resetSharedCustomerLookupForTests(): void {
  shared = undefined;
}
