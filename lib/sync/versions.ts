/**
 * Never back in time (contract section 5): the newest version applied to each CRM record,
 * one state-table item per `externalId` (`version#<externalId>`), and a short claim on it
 * while one invocation sends that record.
 *
 * A version is `(sourceUpdatedAt, jobId)` written as one string that sorts like the pair
 * (`versionOrder`), so ties break by job id. Before a record is sent, the worker claims
 * its item: an older-or-equal job is superseded (acknowledged, never sent); a live claim
 * of another invocation makes the record wait (held back on SQS until that claim lapses,
 * without spending a receive on it); otherwise the claim is written, good until this
 * invocation's CRM budget ends, before its function timeout: a claim whose invocation died
 * lapses within the timeout. Once the CRM confirms, the applied version
 * moves forward and the claim goes; on any other fate only the claim goes. A send whose
 * answer never came (a timeout, a 5xx) may have been applied all the same: its version
 * is kept as `uncertain`, and jobs older than it are superseded too, so a late older job
 * can never overwrite what the CRM may already hold (the uncertain job itself is still
 * queued and is sent again). The claim is
 * what keeps two containers from sending two versions of one record in the wrong order:
 * checking and advancing alone would let a slow container's older send land after a
 * faster container's newer one.
 *
 * Every write is conditional on the revision the writer read (`equals` on `rev`, or
 * `absent` for the first), retried a few times when another writer got there first.
 *
 * TTL: 35 days, renewed by every write. A job older than that cannot be in flight (SQS
 * keeps messages at most 14 days, in the queue and in the DLQ), so an expired item only
 * forgets records nobody has written for five weeks; without a TTL one item per session
 * would stay forever.
 */
import { ConditionFailedError, type StateItem, type StateTable } from '#lib/state';

/** Key prefix of the version items (the worker's IAM rights name it). */
export const VERSION_PREFIX = 'version#';

/** How long a version item outlives its last write. */
export const VERSION_TTL_SECONDS = 35 * 24 * 3_600;

/** Conditional-write attempts before a record is handed back as busy. */
const MAX_WRITE_ATTEMPTS = 5;
/** A record whose item kept changing under the claim is busy this long (others are writing it now). */
const CONTENDED_HOLD_MS = 1_000;

/** The version item. */
export interface VersionItem extends StateItem {
  /** The newest version the CRM confirmed (see `versionOrder`). */
  applied?: string;
  /** The invocation that claimed the record, the version it sends, and until when (epoch ms). */
  owner?: string;
  claimed?: string;
  claimedUntil?: number;
  /** The newest version sent without an answer (possibly applied): older jobs are superseded. */
  uncertain?: string;
  /** Revision: every write moves it by one, conditional on the one read. */
  rev: number;
}

/** What the version store needs of the state table. */
export type VersionStore = Pick<StateTable, 'get' | 'put'>;

/** A version as one string that sorts like `(sourceUpdatedAt, jobId)`. */
export function versionOrder(sourceUpdatedAt: string, jobId: string): string {
  const ms = Date.parse(sourceUpdatedAt);
  return `${String(Number.isFinite(ms) ? Math.max(0, ms) : 0).padStart(16, '0')}#${jobId}`;
}

/** What a claim came to. `applied` is the newest applied version seen (jobs at or below it are superseded). */
export type ClaimResult =
  | { kind: 'claimed'; applied?: string; uncertain?: string }
  | { kind: 'superseded'; applied: string }
  /** Another invocation's claim holds until `until` (epoch ms), when it lapses if not released sooner. */
  | { kind: 'busy'; until: number };

/** Whether a job's version may still be sent after a claim: above the applied version, not below an unanswered one. */
export function stillNewer(version: string, claim: { applied?: string; uncertain?: string }): boolean {
  return (claim.applied === undefined || version > claim.applied) && (claim.uncertain === undefined || version >= claim.uncertain);
}

const keyOf = (externalId: string): string => `${VERSION_PREFIX}${externalId}`;

/** The versions of CRM records, as the worker reads and moves them. */
export class RecordVersions {
  readonly #store: VersionStore;
  readonly #now: () => number;

  constructor(store: VersionStore, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  /** The newest applied version of a record, if any. */
  async applied(externalId: string): Promise<string | undefined> {
    return (await this.#store.get<VersionItem>(keyOf(externalId)))?.applied;
  }

  /** Claims `externalId` for `owner` to send `version`, until `untilMs`. */
  async claim(externalId: string, version: string, owner: string, untilMs: number): Promise<ClaimResult> {
    return this.#update<ClaimResult>(externalId, (item) => {
      if (item?.applied !== undefined && item.applied >= version) return { result: { kind: 'superseded', applied: item.applied } };
      if (item?.uncertain !== undefined && item.uncertain > version) return { result: { kind: 'superseded', applied: item.uncertain } };
      if (item?.owner !== undefined && item.owner !== owner && (item.claimedUntil ?? 0) > this.#now()) return { result: { kind: 'busy', until: item.claimedUntil ?? 0 } };
      return {
        next: { applied: item?.applied, uncertain: item?.uncertain, owner, claimed: version, claimedUntil: untilMs },
        result: { kind: 'claimed', ...(item?.applied === undefined ? {} : { applied: item.applied }), ...(item?.uncertain === undefined ? {} : { uncertain: item.uncertain }) },
      };
    }, { kind: 'busy', until: this.#now() + CONTENDED_HOLD_MS });
  }

  /** The CRM confirmed `version`: the applied version moves forward (never back) and `owner`'s claim goes. */
  async confirm(externalId: string, version: string, owner: string): Promise<void> {
    await this.#update(externalId, (item) => {
      const applied = item?.applied !== undefined && item.applied > version ? item.applied : version;
      const keep = item?.owner !== undefined && item.owner !== owner;
      return { next: { applied, uncertain: item?.uncertain, ...(keep ? { owner: item.owner, claimed: item.claimed, claimedUntil: item.claimedUntil } : {}) }, result: undefined };
    }, 'fail');
  }

  /**
   * `owner` did not get `externalId` confirmed: its claim goes, the applied version stays.
   * `uncertainVersion`: a send of that version got no answer, so it may have been applied.
   */
  async release(externalId: string, owner: string, uncertainVersion?: string): Promise<void> {
    await this.#update(externalId, (item) => {
      const raise = uncertainVersion !== undefined && (item?.uncertain === undefined || item.uncertain < uncertainVersion);
      const mine = item !== undefined && item.owner === owner;
      if (!mine && !raise) return { result: undefined };
      const uncertain = raise ? uncertainVersion : item?.uncertain;
      const claim = mine || item === undefined ? {} : { owner: item.owner, claimed: item.claimed, claimedUntil: item.claimedUntil };
      return { next: { applied: item?.applied, uncertain, ...claim }, result: undefined };
    }, 'fail');
  }

  /**
   * Read, decide, write conditionally on the revision read; again when another writer got
   * there first. `exhausted` is the answer after the last attempt (`'fail'`: throw).
   */
  async #update<R>(
    externalId: string,
    decide: (item: VersionItem | undefined) => { next?: Omit<VersionItem, 'pk' | 'rev'>; result: R },
    exhausted: R | 'fail',
  ): Promise<R> {
    const pk = keyOf(externalId);
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt += 1) {
      const item = await this.#store.get<VersionItem>(pk);
      const { next, result } = decide(item);
      if (!next) return result;
      const fields = Object.fromEntries(Object.entries(next).filter(([, value]) => value !== undefined));
      try {
        await this.#store.put(
          { pk, ...fields, rev: (item?.rev ?? 0) + 1, expiresAt: Math.floor(this.#now() / 1000) + VERSION_TTL_SECONDS },
          // None read (or one past its TTL, which DynamoDB may not have swept yet): create only if still none.
          item === undefined ? { kind: 'absentOrBelow', field: 'expiresAt', value: Math.floor(this.#now() / 1000) + 1 } : { kind: 'equals', field: 'rev', value: item.rev },
        );
        return result;
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
      }
    }
    if (exhausted === 'fail') throw new Error(`The version of a CRM record changed ${MAX_WRITE_ATTEMPTS} times while it was being written`);
    return exhausted;
  }
}
