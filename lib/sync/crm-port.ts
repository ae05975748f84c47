/**
 * The worker's CRM port on the adapter `CRM_PROVIDER` chose (docs/api.md section 6): the
 * container's one adapter, and its outcomes in the processor's terms. Each adapter's own
 * classification travels with the outcome (`failure`), so the processor can pause on a
 * daily quota or refused credentials, only slow down on a short window, and dead-letter
 * on a lost scope, whatever the provider.
 */
import { sharedCrmTokenProvider, sharedSecretCache } from '#lib/auth';
import type { Config } from '#lib/config';
import type { BatchUpsertOutcome, CrmAdapter, ProviderUpsertOutcome, RequestBudget } from '#lib/crm';
import type { HeldOutcome } from './processor.ts';
import { createCrmAdapter, crmAdapterSettings } from '#lib/crm/providers';

let adapter: { key: string; adapter: CrmAdapter } | undefined;

/** The container's adapter for the `crm` section (built once, rebuilt only when the settings change). */
export function sharedCrmAdapter(config: Pick<Config, 'runtime' | 'crm'>): CrmAdapter {
  const key = JSON.stringify(config.crm);
  if (adapter?.key !== key) {
    // The rest CRM keeps the shared token provider (its secret rotation handling).
    adapter = { key, adapter: createCrmAdapter(crmAdapterSettings(config.crm, { secrets: sharedSecretCache(config), restTokens: sharedCrmTokenProvider(config) })) };
  }
  return adapter.adapter;
}

/** Forgets the container's adapter, so each test starts cold. */
export function resetSharedCrmAdapterForTests(): void {
  adapter = undefined;
}

/** An adapter's upsert outcome in the processor's terms. */
export function toBatchOutcome(outcome: ProviderUpsertOutcome): BatchUpsertOutcome {
  if (outcome.kind === 'ok') return { kind: 'ok', status: outcome.status, results: outcome.results, replayed: outcome.replayed === true };
  const { failure } = outcome;
  switch (failure.kind) {
    case 'transient':
      return {
        kind: 'transient',
        reason: failure.reason,
        ...(failure.status === undefined ? {} : { status: failure.status }),
        ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
        ...(failure.timedOut ? { timedOut: true } : {}),
        failure,
      };
    case 'rate_limited':
      return { kind: 'transient', status: failure.status, reason: failure.reason, retryAfterMs: failure.retryAfterMs, failure };
    case 'quota_exhausted':
      return { kind: 'transient', status: failure.status, reason: failure.reason, failure };
    case 'credentials':
      return { kind: 'transient', status: failure.status ?? 401, reason: failure.reason, failure };
    case 'permission':
    case 'rejected':
      return { kind: 'rejected', status: failure.status, reason: failure.reason, failure };
    default:
      return { kind: 'transient', reason: 'the CRM adapter gave an unknown failure' };
  }
}

/** What reads the budget each answer reveals (the worker's rate limiter). */
export interface BudgetObserver {
  observe(budget: RequestBudget | undefined): void;
}

/**
 * The processor's `upsert` port on `adapter`; after every answer the budget the provider
 * revealed (its rate-limit headers) goes to `budget`, so the pace follows the provider.
 */
export function adapterUpsert(
  adapter: CrmAdapter,
  budget?: BudgetObserver,
): (records: Parameters<CrmAdapter['upsert']>[0], idempotencyKey: string, timeoutMs: number) => Promise<BatchUpsertOutcome> {
  return async (records, idempotencyKey, timeoutMs) => {
    const outcome = await adapter.upsert(records, { idempotencyKey, timeoutMs });
    budget?.observe(adapter.budget());
    return toBatchOutcome(outcome);
  };
}

/**
 * The processor's `held` port on `adapter` (undefined when the adapter cannot read records,
 * as `rest`, whose chunk key already makes a repeated send a replay): which records the CRM
 * already holds as they would be sent; the budget its answer revealed goes to `budget`.
 */
export function adapterHeld(
  adapter: CrmAdapter,
  budget?: BudgetObserver,
): ((records: Parameters<CrmAdapter['upsert']>[0], timeoutMs: number) => Promise<HeldOutcome>) | undefined {
  const read = adapter.readRecords?.bind(adapter);
  if (!read) return undefined;
  return async (records, timeoutMs) => {
    const outcome = await read(records, { timeoutMs });
    budget?.observe(adapter.budget());
    if (outcome.kind === 'ok') return { kind: 'ok', held: outcome.held };
    const { failure } = outcome;
    return { kind: 'failed', reason: failure.reason, ...(failure.kind === 'rate_limited' ? { retryAfterMs: failure.retryAfterMs } : {}) };
  };
}
