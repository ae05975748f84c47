/**
 * CRM customer lookup for pre-chat enrichment (contract section 5, `GET /customers`).
 * The caller must never wait long or fail because of the CRM, so every lookup runs
 * under a time budget (default 5 s, cockatiel timeout), behind a circuit breaker
 * (cockatiel: after consecutive failures the CRM is left alone for a while and lookups
 * answer "unavailable" at once), and through a small in-container cache of recent
 * answers (short TTL, bounded size) so a guest who retries the form costs one lookup.
 * A lookup never throws: it answers found, not found, or unavailable with a reason.
 */
import { createHash } from 'node:crypto';
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleAll,
  timeout,
  wrap,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { TokenProvider } from '#lib/auth';
import { loadConfig } from '#lib/config';
import { normaliseIdentifier } from '#lib/identity';
import { logger, metrics } from '#lib/lambda';
import { MetricNames } from '#lib/metrics';
import type { ProviderCustomer } from './adapter.ts';
import { CrmNetworkError, crmRequest } from './http.ts';

/** A CRM customer as the lookup returns it: the adapters' customer shape, one definition. */
export type CrmCustomer = ProviderCustomer;

/** Who to look for: at least one of email and phone. */
export interface CustomerQuery {
  email?: string;
  phone?: string;
}

/** Why a lookup could not tell whether the customer exists. */
export type LookupUnavailableReason = 'timeout' | 'circuit_open' | 'network' | 'upstream_error' | 'invalid_response';

/** The answer of one lookup. */
export type CustomerLookupResult =
  | { outcome: 'found'; customer: CrmCustomer; fromCache: boolean }
  | { outcome: 'not_found'; fromCache: boolean }
  | { outcome: 'unavailable'; reason: LookupUnavailableReason; detail: string };

/** Circuit states as the lookup reports them. */
export type BreakerState = 'closed' | 'open' | 'half_open' | 'isolated';

/** How a `CustomerLookup` is built; everything but `baseUrl` has a default. */
export interface CustomerLookupOptions {
  baseUrl: string;
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

/** A failed CRM answer, thrown inside the breaker so it counts as a failure. */
class LookupFailure extends Error {
  constructor(
    readonly reason: LookupUnavailableReason,
    message: string,
  ) {
    super(message);
    this.name = 'LookupFailure';
  }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value : undefined);

/** The first usable customer of a CRM answer; partial records keep what they have. */
function firstCustomer(body: unknown): CrmCustomer | undefined | 'invalid' {
  if (!Array.isArray(body)) return 'invalid';
  for (const raw of body) {
    if (typeof raw !== 'object' || raw === null) continue;
    const record = raw as Record<string, unknown>;
    const id = text(record['id']) ?? (typeof record['id'] === 'number' ? String(record['id']) : undefined);
    if (!id) continue;
    const points = record['loyaltyPoints'];
    const customer: CrmCustomer = { id };
    for (const key of ['firstName', 'lastName', 'loyaltyTier', 'accountStatus'] as const) {
      const value = text(record[key]);
      if (value !== undefined) customer[key] = value;
    }
    if (typeof points === 'number' && Number.isFinite(points)) customer.loyaltyPoints = points;
    return customer;
  }
  return undefined;
}

const STATE_NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'isolated',
};

/** Looks customers up in the CRM within a budget, behind a breaker and a cache. */
export class CustomerLookup {
  readonly #options: CustomerLookupOptions;
  readonly #budgetMs: number;
  readonly #cache: BoundedTtlCache<CrmCustomer | null>;
  readonly #breaker: CircuitBreakerPolicy;

  constructor(options: CustomerLookupOptions) {
    this.#options = options;
    this.#budgetMs = options.budgetMs ?? CRM_LOOKUP_BUDGET_MS;
    this.#cache = new BoundedTtlCache(options.cacheMaxEntries ?? 500, options.cacheTtlMs ?? 60_000, options.now);
    this.#breaker = circuitBreaker(handleAll, {
      halfOpenAfter: options.halfOpenAfterMs ?? 30_000,
      breaker: new ConsecutiveBreaker(options.failureThreshold ?? 5),
    });
    const notify = options.onBreakerStateChange;
    if (notify) this.#breaker.onStateChange((state) => notify(STATE_NAMES[state]));
  }

  /** The circuit's state now. */
  breakerState(): BreakerState {
    return STATE_NAMES[this.#breaker.state];
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
    const search = new URLSearchParams();
    if (email) search.set('email', email);
    if (phone) search.set('phone', phone);
    const response = await crmRequest({
      baseUrl: this.#options.baseUrl,
      method: 'GET',
      path: `/customers?${search.toString()}`,
      timeoutMs: budgetMs,
      ...(this.#options.tokens ? { tokens: this.#options.tokens } : {}),
      ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
    });
    if (response.status === 404) return undefined;
    if (response.status !== 200) {
      throw new LookupFailure('upstream_error', `CRM customer lookup answered HTTP ${response.status}`);
    }
    const customer = firstCustomer(response.body);
    if (customer === 'invalid') throw new LookupFailure('invalid_response', 'CRM customer lookup answered something other than a list');
    return customer;
  }
}

function classify(error: unknown, budgetMs: number): { reason: LookupUnavailableReason; detail: string } {
  if (error instanceof BrokenCircuitError) {
    return { reason: 'circuit_open', detail: 'the CRM circuit is open after repeated failures' };
  }
  if (error instanceof TaskCancelledError || (error instanceof CrmNetworkError && error.timedOut)) {
    return { reason: 'timeout', detail: `the CRM did not answer within ${budgetMs} ms` };
  }
  if (error instanceof CrmNetworkError) return { reason: 'network', detail: error.message };
  if (error instanceof LookupFailure) return { reason: error.reason, detail: error.message };
  return { reason: 'upstream_error', detail: error instanceof Error ? error.message : 'unknown error' };
}

let shared: CustomerLookup | undefined;

const BREAKER_METRICS: Partial<Record<BreakerState, (typeof MetricNames)[keyof typeof MetricNames]>> = {
  open: MetricNames.CrmBreakerOpened,
  half_open: MetricNames.CrmBreakerHalfOpened,
  closed: MetricNames.CrmBreakerClosed,
};

/** The container's lookup (one cache, one breaker), configured from the `crm` section. */
export function sharedCustomerLookup(): CustomerLookup {
  shared ??= new CustomerLookup({
    baseUrl: loadConfig(['crm']).crm.baseUrl,
    onBreakerStateChange: (state) => {
      logger.warn('CRM lookup circuit changed state', { breakerState: state });
      const name = BREAKER_METRICS[state];
      if (name) metrics.addMetric(name, MetricUnit.Count, 1);
    },
  });
  return shared;
}

/** Drops the shared lookup (cache and breaker) so a test starts cold. */
export function resetSharedCustomerLookupForTests(): void {
  shared = undefined;
}
