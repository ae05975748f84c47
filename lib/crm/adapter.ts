/**
 * The one CRM adapter interface (docs/api.md section 6): every provider (`rest`, `hubspot`,
 * `salesforce`, `dynamics`) upserts a chunk keyed by the suite's `externalId`, answers one
 * result per record in request order, classifies its own failures, looks customers up by
 * email or phone and reports the request budget its answers reveal. The worker and the
 * pre-chat lookup depend on this file only, never on a provider's wire format.
 *
 * Field mapping (each provider documents its own names in its file):
 * - `externalId`      -> the provider's unique key: HubSpot `idProperty` (HUBSPOT_ID_PROPERTY),
 *                        Salesforce External ID field (SALESFORCE_EXTERNAL_ID_FIELD), Dynamics
 *                        alternate key (DYNAMICS_ALTERNATE_KEY); `rest` sends it as is.
 * - `emailHash`, `phoneHash`, `lastInteraction`, `sourceUpdatedAt` -> one property each.
 * - `consentFlags.k`, `attributes.k`, `channelContext.k` -> one property per key, so the
 *   provider merges key by key: a key (or a whole map) a job does not carry is not sent,
 *   and providers only change the properties they are sent, so nothing is erased.
 */
import type { CrmRecord } from '#lib/jobs';

/** Providers `CRM_PROVIDER` can name. */
export type CrmProviderName = 'rest' | 'hubspot' | 'salesforce' | 'dynamics';

/** Every `CRM_PROVIDER` value, for validation. */
export const CRM_PROVIDERS: readonly CrmProviderName[] = ['rest', 'hubspot', 'salesforce', 'dynamics'];

/**
 * Default `CRM_MAX_REQUESTS_PER_SECOND` per provider, per worker container: 95 % of each
 * documented short window (5 % against network jitter) split over the worker's 2 containers
 * (the event source's maximumConcurrency): HubSpot 100 per 10 s (Free/Starter) -> 4.75/s;
 * Dynamics 6,000 per 5 min -> 9.5/s; Salesforce has only a 24-hour quota (10/s); `rest`
 * keeps today's 10. The worker's limiter then follows what the provider's answers report
 * (docs/crm-budgets.md).
 */
export const PROVIDER_REQUESTS_PER_SECOND: Readonly<Record<CrmProviderName, number>> = {
  rest: 10,
  hubspot: (100 * 0.95) / 2 / 10,
  salesforce: 10,
  dynamics: (6_000 * 0.95) / 2 / 300,
};

/**
 * Requests per container the worker may send ahead of its even pace after idle time (the
 * limiter's burst), per provider: what the short window's 5 % headroom holds for each of
 * the 2 containers, so the fleet stays within the window whatever the timing. HubSpot
 * 100 per 10 s -> 2; Dynamics 6,000 per 5 min -> 150; Salesforce has no short window
 * (one second of its pace, 10); `rest` none (its window is unknown).
 */
export const PROVIDER_BURST: Readonly<Record<CrmProviderName, number>> = {
  rest: 1,
  hubspot: Math.floor((100 * 0.05) / 2),
  salesforce: 10,
  dynamics: Math.floor((6_000 * 0.05) / 2),
};

/** Batch maximum per provider (docs/api.md section 5: `CRM_BATCH_SIZE` default and ceiling). */
export const PROVIDER_BATCH_LIMITS: Readonly<Record<CrmProviderName, number>> = { rest: 50, hubspot: 100, salesforce: 200, dynamics: 100 };

/** Whether resending the same record can ever succeed. */
export type FailureClass = 'permanent' | 'transient';

/** One record's result, in request order. */
export interface ProviderRecordResult {
  externalId: string;
  status: 'created' | 'updated' | 'unchanged' | 'failed';
  /**
   * Present when `status` is `failed`: the provider's code and (masked) message, and the
   * adapter's verdict (absent for `rest`, whose codes the worker classifies by their words).
   */
  error?: { code: string; message: string; classification?: FailureClass };
}

/**
 * Why a whole call did not give per-record results, as the adapter itself classifies it:
 * - `transient`: 5xx, timeouts, no answer, an answer that does not account for every record;
 * - `rate_limited`: a short window is full; slow down and retry after `retryAfterMs`;
 * - `quota_exhausted`: a daily quota is used up; stop until `resetAt` (when known), probing
 *   at most every `probeAfterMs`;
 * - `credentials`: the provider refused the credentials even after a fresh secret read;
 * - `permission`: the credentials work but lack a scope or privilege (permanent until fixed);
 * - `rejected`: the provider refused this request as malformed; resending it cannot succeed.
 */
export type CallFailure =
  | { kind: 'transient'; reason: string; status?: number; retryAfterMs?: number; timedOut?: boolean }
  | { kind: 'rate_limited'; reason: string; status: number; retryAfterMs: number }
  | { kind: 'quota_exhausted'; reason: string; status: number; resetAt?: number; probeAfterMs: number }
  | { kind: 'credentials'; reason: string; status?: number }
  | { kind: 'permission'; reason: string; status: number }
  | { kind: 'rejected'; reason: string; status: number; code?: string };

/** What one chunk upsert came to. Adapters never throw. */
export type ProviderUpsertOutcome =
  /** `replayed`: the CRM answered from its own idempotency store (`rest` only). */
  | { kind: 'ok'; status: number; results: ProviderRecordResult[]; replayed?: boolean }
  | { kind: 'failed'; failure: CallFailure };

/** The customer shape of docs/api.md section 6; fields the CRM left out stay absent. */
export interface ProviderCustomer {
  id: string;
  firstName?: string;
  lastName?: string;
  loyaltyTier?: string;
  accountStatus?: string;
  loyaltyPoints?: number;
}

/** What one lookup came to. Adapters never throw. */
export type ProviderLookupOutcome =
  | { kind: 'found'; customer: ProviderCustomer }
  | { kind: 'not_found' }
  | { kind: 'failed'; failure: CallFailure };

/**
 * The request budget as the provider's last answers describe it. Every field is optional:
 * each provider tells a different part (HubSpot the 10-second window and the day,
 * Salesforce the 24-hour usage, Dynamics only when it refuses).
 */
export interface RequestBudget {
  /** Requests allowed in the short window and still left in it. */
  windowLimit?: number;
  windowRemaining?: number;
  windowMs?: number;
  /** Requests allowed per day (or rolling 24 h) and still left. */
  dailyLimit?: number;
  dailyRemaining?: number;
  /** When the daily quota resets (epoch ms), when the provider says or documents it. */
  dailyResetAt?: number;
  /** Epoch ms of the answer this was read from. */
  observedAt: number;
}

/** Options of one call. */
export interface CallOptions {
  /** Hard deadline of the whole call, token included. */
  timeoutMs: number;
}

/** Options of one upsert: the chunk's deterministic key (only `rest` sends it; others have none). */
export interface UpsertOptions extends CallOptions {
  idempotencyKey?: string;
}

/**
 * What a read of records came to (`CrmAdapter.readRecords`): for each record the CRM has,
 * its values of the fields that record would be sent with, under the provider's names
 * (`records`, by externalId; a record the CRM does not have is absent), and the records
 * whose every value already equals what would be sent (`held`). Adapters never throw.
 */
export type ProviderReadOutcome =
  | { kind: 'ok'; records: Map<string, Record<string, unknown>>; held: Set<string> }
  | { kind: 'failed'; failure: CallFailure };

/** One CRM provider behind the suite. */
export interface CrmAdapter {
  readonly provider: CrmProviderName;
  /** The provider's documented maximum records per upsert call; chunks never exceed it. */
  readonly batchLimit: number;
  /** Upserts one chunk (at most `batchLimit` records, distinct `externalId`s). */
  upsert(chunk: readonly CrmRecord[], options: UpsertOptions): Promise<ProviderUpsertOutcome>;
  /** Finds a customer by email or phone (plaintext, used only in the request). */
  lookupCustomer(query: { email?: string; phone?: string }, options: CallOptions): Promise<ProviderLookupOutcome>;
  /** The budget read from the latest answers, or undefined before any answer. */
  budget(): RequestBudget | undefined;
  /**
   * Reads what the CRM holds of `records` (at most `batchLimit`, distinct externalIds), so a
   * send that went unanswered is not written twice by a provider without idempotency keys.
   * Absent for `rest`, whose chunk key makes the CRM replay a repeated send.
   */
  readRecords?(records: readonly CrmRecord[], options: CallOptions): Promise<ProviderReadOutcome>;
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/**
 * Whether a value the CRM answered is the value sent: the same, the same text (HubSpot
 * answers every property as a string), or the same instant (a date-time field answered
 * in the CRM's own format, e.g. `+0000` or without milliseconds).
 */
export function sameCrmValue(sent: string | number | boolean, stored: unknown): boolean {
  if (stored === sent) return true;
  if (stored === null || stored === undefined || typeof stored === 'object') return false;
  const text = String(stored);
  if (text === String(sent)) return true;
  if (typeof sent === 'number') return text.trim() !== '' && Number(text) === sent;
  if (typeof sent === 'string' && ISO_DATE_TIME.test(sent) && ISO_DATE_TIME.test(text)) return Date.parse(sent) === Date.parse(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return false;
}


/** Per-record codes that are worth retrying: a lock or a busy row, not the record itself. */
export const TRANSIENT_RECORD_CODES: ReadonlySet<string> = new Set(['UNABLE_TO_LOCK_ROW', 'ALL_OR_NONE_OPERATION_ROLLED_BACK', 'INTERNAL_ERROR']);

/** Classifies a per-record provider code: transient when listed, permanent otherwise. */
export function classifyRecordCode(code: string): FailureClass {
  return TRANSIENT_RECORD_CODES.has(code) ? 'transient' : 'permanent';
}

/** The flat property values a record maps to, before each provider names them. */
export interface FlatRecordFields {
  emailHash?: string;
  phoneHash?: string;
  lastInteraction: string;
  sourceUpdatedAt: string;
  /** `[map, key, value]` for every key of consentFlags, attributes and channelContext. */
  entries: Array<['consent' | 'attr' | 'channel', string, string | number | boolean]>;
}

/** Splits a record into the values every provider maps; absent maps give no entries. */
export function flattenRecord(record: CrmRecord): FlatRecordFields {
  const entries: FlatRecordFields['entries'] = [];
  const maps: Array<[FlatRecordFields['entries'][number][0], Record<string, string | number | boolean> | undefined]> = [
    ['consent', record.consentFlags],
    ['attr', record.attributes],
    ['channel', record.channelContext],
  ];
  for (const [kind, map] of maps) {
    for (const [key, value] of Object.entries(map ?? {})) entries.push([kind, key, value]);
  }
  return {
    ...(record.emailHash === undefined ? {} : { emailHash: record.emailHash }),
    ...(record.phoneHash === undefined ? {} : { phoneHash: record.phoneHash }),
    lastInteraction: record.lastInteraction,
    sourceUpdatedAt: record.sourceUpdatedAt,
    entries,
  };
}

/** A key made safe for a provider's property names: lower-case letters, digits, single underscores. */
export function propertySafeKey(key: string): string {
  const safe = key
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return safe === '' ? 'x' : safe;
}

/** Whole-call timeouts and network errors, in the adapters' words. */
export function networkFailure(error: unknown, what: string): CallFailure {
  const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
  return { kind: 'transient', reason: timedOut ? `${what} did not answer in time` : `${what} could not be reached`, timedOut };
}
