/**
 * Never back in time (docs/api.md section 5): the newest version applied to each CRM record,
 * one state-table item per `externalId` (`version#<externalId>`), and a short claim on it
 * while one invocation sends that record.
 *
 * A version is `(sourceUpdatedAt, jobId)` written as one string that sorts like the pair
 * (`versionOrder`), so ties break by job id. Versions are kept field by field (docs/api.md
 * section 5: coalescing merges field by field): the item maps each field path
 * (`emailHash`, `phoneHash`, `lastInteraction`, `consent.<k>`, `attr.<k>`, `channelContext`)
 * to the version that last set it, so a job delayed behind a newer one that carried other
 * fields still sends its own; only the fields a newer applied job already set are dropped.
 * `lastInteraction` and `sourceUpdatedAt` are sent as the newest values the record was
 * ever sent with, so a partly superseded job never moves them back.
 *
 * Before a record is sent, the worker claims its item: a job none of whose fields is newer
 * than the field's version is superseded (acknowledged, never sent); a live claim
 * of another invocation makes the record wait (held back on SQS until that claim lapses,
 * without spending a receive on it); otherwise the claim is written, good until this
 * invocation's CRM budget ends, before its function timeout: a claim whose invocation died
 * lapses within the timeout. Once the CRM confirms, the applied version
 * moves forward and the claim goes; on any other fate only the claim goes. A send whose
 * answer never came (a timeout, a 5xx) may have been applied all the same: the versions of
 * the fields it carried are kept as uncertain, and older jobs' values of those fields are
 * dropped too, so a late older job can never overwrite what the CRM may already hold (the
 * uncertain job itself is still queued and is sent again). The claim is
 * what keeps two containers from sending two versions of one record in the wrong order:
 * checking and advancing alone would let a slow container's older send land after a
 * faster container's newer one.
 *
 * Every write is conditional on the revision the writer read (`equals` on `rev`, or
 * `absent` for the first), retried a few times when another writer got there first (from
 * the item the failed write met). A batch costs one BatchGetItem for all its items, one
 * write per record to claim and one to confirm (which also releases the claim), the
 * confirmation on the revision the claim wrote; the writes of a batch go out together,
 * one TransactWriteItems call per 100 records (`StateTable.putEach`), each record's
 * write still succeeding or failing on its own.
 *
 * TTL: 35 days, renewed by every write. A job older than that cannot be in flight (SQS
 * keeps messages at most 14 days, in the queue and in the DLQ), so an expired item only
 * forgets records nobody has written for five weeks; without a TTL one item per session
 * would stay forever.
 */
import { ConditionFailedError, type ConditionalPut, type PutOutcome, type StateItem, type StateTable } from '#lib/state';

/** Field path -> version (see `versionOrder`). */
export type FieldVersions = Record<string, string>;

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
  /** The newest version the CRM confirmed, for any field (see `versionOrder`). */
  applied?: string;
  /**
   * The version that last set each field (confirmed). Present on every item this code
   * writes; an item without it (written before field versions) has every field at `applied`.
   */
  fields?: FieldVersions;
  /** Every field is at least at this version (whole-record confirms; an older item's `applied`). */
  floor?: string;
  /** The invocation that claimed the record, the version it sends, and until when (epoch ms). */
  owner?: string;
  claimed?: string;
  claimedUntil?: number;
  /** A whole-record send without an answer (possibly applied): older jobs are superseded. */
  uncertain?: string;
  /** The same per field: the newest version of each field sent without an answer. */
  uncertainFields?: FieldVersions;
  /** The newest `lastInteraction` and `sourceUpdatedAt` the record was sent with (answered or not). */
  lastInteraction?: string;
  sourceUpdatedAt?: string;
  /** Revision: every write moves it by one, conditional on the one read. */
  rev: number;
}

/**
 * What the version store needs of the state table (`getMany`: one read for a whole batch;
 * `putEach`: the batch's writes together; each used when there).
 */
export type VersionStore = Pick<StateTable, 'get' | 'put'> & Partial<Pick<StateTable, 'getMany' | 'putEach'>>;

/** How one record's claim ends (`settleMany`): confirmed with what was sent, or released (`uncertain`: sent without an answer). */
export interface Settlement {
  externalId: string;
  confirmed?: string | SentFields;
  uncertain?: string | SentFields;
}

/** One record on its way through `#updateMany`: how to decide its write from the item read. */
interface Pending<R> {
  externalId: string;
  decide: (item: VersionItem | undefined) => Decision<R>;
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/** Conditional puts in flight at once when the table has no `putEach`. */
const CLAIM_CONCURRENCY = 32;

/** A version as one string that sorts like `(sourceUpdatedAt, jobId)`. */
export function versionOrder(sourceUpdatedAt: string, jobId: string): string {
  const ms = Date.parse(sourceUpdatedAt);
  return `${String(Number.isFinite(ms) ? Math.max(0, ms) : 0).padStart(16, '0')}#${jobId}`;
}

/** What the worker knows of a record's versions after claiming it (field by field). */
export interface VersionView {
  fields: FieldVersions;
  floor?: string;
  uncertain?: string;
  uncertainFields: FieldVersions;
  lastInteraction?: string;
  sourceUpdatedAt?: string;
}

/**
 * What a claim came to. `applied` is the newest applied version seen; `view` (a claim by
 * fields) tells which fields of which job may still be sent (`mayStillSend`).
 */
export type ClaimResult =
  | { kind: 'claimed'; applied?: string; uncertain?: string; view?: VersionView }
  | { kind: 'superseded'; applied: string }
  /** Another invocation's claim holds until `until` (epoch ms), when it lapses if not released sooner. */
  | { kind: 'busy'; until: number };

/** What a confirmed (or unanswered) send carried: the version of each field sent, the job's version, the stamps. */
export interface SentFields {
  /** The newest version of the jobs sent (the record's version). */
  version: string;
  fields: FieldVersions;
  lastInteraction: string;
  sourceUpdatedAt: string;
}

const newer = (a: string | undefined, b: string | undefined): string | undefined => (a === undefined ? b : b === undefined || a >= b ? a : b);
const later = (a: string | undefined, b: string | undefined): string | undefined => (a === undefined ? b : b === undefined || Date.parse(a) >= Date.parse(b) ? a : b);

/** Whether field `path` of a job at `version` may still be sent: newer than the field's version, not below an unanswered send of it. */
export function mayStillSend(view: VersionView, path: string, version: string): boolean {
  const applied = newer(view.fields[path], view.floor);
  const uncertain = newer(view.uncertainFields[path], view.uncertain);
  return (applied === undefined || version > applied) && (uncertain === undefined || version >= uncertain);
}

/** The field-by-field view of an item (an item from before field versions has every field at `applied`). */
export function viewOf(item: VersionItem | undefined): VersionView {
  if (!item) return { fields: {}, uncertainFields: {} };
  const floor = item.fields === undefined ? item.applied : item.floor;
  return {
    fields: item.fields ?? {},
    ...(floor === undefined ? {} : { floor }),
    ...(item.uncertain === undefined ? {} : { uncertain: item.uncertain }),
    uncertainFields: item.uncertainFields ?? {},
    ...(item.lastInteraction === undefined ? {} : { lastInteraction: item.lastInteraction }),
    ...(item.sourceUpdatedAt === undefined ? {} : { sourceUpdatedAt: item.sourceUpdatedAt }),
  };
}

/** The item's state as this code writes it (field versions always present), less key, revision and claim. */
interface Stored {
  applied?: string;
  fields: FieldVersions;
  floor?: string;
  uncertain?: string;
  uncertainFields?: FieldVersions;
  lastInteraction?: string;
  sourceUpdatedAt?: string;
}
const storedOf = (item: VersionItem | undefined): Stored => {
  const view = viewOf(item);
  return {
    ...(item?.applied === undefined ? {} : { applied: item.applied }),
    fields: view.fields,
    ...(view.floor === undefined ? {} : { floor: view.floor }),
    ...(view.uncertain === undefined ? {} : { uncertain: view.uncertain }),
    ...(Object.keys(view.uncertainFields).length === 0 ? {} : { uncertainFields: view.uncertainFields }),
    ...(view.lastInteraction === undefined ? {} : { lastInteraction: view.lastInteraction }),
    ...(view.sourceUpdatedAt === undefined ? {} : { sourceUpdatedAt: view.sourceUpdatedAt }),
  };
};

const raise = (into: FieldVersions, from: FieldVersions): FieldVersions => {
  const out = { ...into };
  for (const [path, version] of Object.entries(from)) out[path] = newer(out[path], version) as string;
  return out;
};

/** A claim request: one version for the whole record, or the newest version of each field the jobs carry. */
export type ClaimRequest = string | FieldVersions;

/** What one decision on an item comes to: the item to write (if any) and the answer. */
interface Decision<R> {
  next?: Omit<VersionItem, 'pk' | 'rev'>;
  result: R;
}

const keyOf = (externalId: string): string => `${VERSION_PREFIX}${externalId}`;

/**
 * The versions of CRM records, as the worker reads and moves them. One instance per
 * invocation: it remembers the items it read in bulk and the ones it wrote, so a claim
 * needs no read of its own (one BatchGetItem for the batch) and a confirmation or release
 * none either (the claim's write is the revision it is conditional on). A write whose
 * condition fails means the item changed meanwhile: it is read again, as always.
 */
export class RecordVersions {
  readonly #store: VersionStore;
  readonly #now: () => number;
  /** Items as this instance last read or wrote them (absent: known not to exist), by key. */
  readonly #known = new Map<string, VersionItem | undefined>();

  constructor(store: VersionStore, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  /** The newest applied version of a record, if any. */
  async applied(externalId: string): Promise<string | undefined> {
    return (await this.#store.get<VersionItem>(keyOf(externalId)))?.applied;
  }

  /** The field-by-field view of a record's versions. */
  async view(externalId: string): Promise<VersionView> {
    return viewOf(await this.#store.get<VersionItem>(keyOf(externalId)));
  }

  /**
   * Claims `externalId` for `owner` until `untilMs`, to send `request`: one version for the
   * whole record (superseded at or below the applied version), or the newest version of each
   * field the jobs carry (superseded only when no field is newer than its own version).
   */
  async claim(externalId: string, request: ClaimRequest, owner: string, untilMs: number): Promise<ClaimResult> {
    const result = (await this.claimMany([{ externalId, request }], owner, untilMs)).get(externalId);
    if (result === undefined || result instanceof Error) throw result ?? new Error('no claim answer');
    return result;
  }

  #decideClaim(item: VersionItem | undefined, request: ClaimRequest, owner: string, untilMs: number): Decision<ClaimResult> {
    const view = viewOf(item);
    if (typeof request === 'string') {
      const uncertain = Object.values(view.uncertainFields).reduce<string | undefined>((a, b) => newer(a, b), view.uncertain);
      if (item?.applied !== undefined && item.applied >= request) return { result: { kind: 'superseded', applied: item.applied } };
      if (uncertain !== undefined && uncertain > request) return { result: { kind: 'superseded', applied: uncertain } };
    } else if (!Object.entries(request).some(([path, version]) => mayStillSend(view, path, version))) {
      return { result: { kind: 'superseded', applied: item?.applied ?? view.floor ?? '' } };
    }
    if (item?.owner !== undefined && item.owner !== owner && (item.claimedUntil ?? 0) > this.#now()) return { result: { kind: 'busy', until: item.claimedUntil ?? 0 } };
    return {
      next: { ...storedOf(item), owner, claimed: typeof request === 'string' ? request : Object.values(request).reduce((a, b) => (a >= b ? a : b), ''), claimedUntil: untilMs },
      result: {
        kind: 'claimed',
        ...(item?.applied === undefined ? {} : { applied: item.applied }),
        ...(item?.uncertain === undefined ? {} : { uncertain: item.uncertain }),
        ...(typeof request === 'string' ? {} : { view }),
      },
    };
  }

  /**
   * Claims many records for `owner` until `untilMs` (as `claim`): every item read at once,
   * the claims written at once (`putEach`: one call per 100 items where the table has it).
   * Each record's answer, or the error that stopped it. `reread`: the items are read again
   * even if this instance knows them (records it found busy a moment ago).
   */
  async claimMany(requests: ReadonlyArray<{ externalId: string; request: ClaimRequest }>, owner: string, untilMs: number, options: { reread?: boolean } = {}): Promise<Map<string, ClaimResult | Error>> {
    if (options.reread) for (const { externalId } of requests) this.#known.delete(keyOf(externalId));
    return this.#updateMany(
      requests.map(({ externalId, request }) => ({ externalId, decide: (item: VersionItem | undefined) => this.#decideClaim(item, request, owner, untilMs) })),
      () => ({ kind: 'busy', until: this.#now() + CONTENDED_HOLD_MS }),
    );
  }

  /**
   * The CRM confirmed `sent` (a whole-record version, or the fields of a send): each field's
   * version moves forward (never back) and `owner`'s claim goes.
   */
  async confirm(externalId: string, sent: string | SentFields, owner: string): Promise<void> {
    await this.#one(this.#settling({ externalId, confirmed: sent }, owner));
  }

  /**
   * `owner` did not get `externalId` confirmed: its claim goes, the applied versions stay.
   * `uncertain`: a send (of that version, or of those fields) got no answer, so it may have been applied.
   */
  async release(externalId: string, owner: string, uncertain?: string | SentFields): Promise<void> {
    await this.#one(this.#settling({ externalId, ...(uncertain === undefined ? {} : { uncertain }) }, owner));
  }

  /**
   * Ends `owner`'s claims on many records at once, each as `confirm` (when `confirmed` is
   * given) or `release` would: the writes go together (`putEach`). The records whose write
   * failed, with the error.
   */
  async settleMany(settlements: ReadonlyArray<Settlement>, owner: string): Promise<Map<string, Error>> {
    const results = await this.#updateMany(settlements.map((settlement) => this.#settling(settlement, owner)), () => new Error(`The version of a CRM record changed ${MAX_WRITE_ATTEMPTS} times while it was being written`));
    return new Map([...results].filter((entry): entry is [string, Error] => entry[1] instanceof Error));
  }

  #settling(settlement: Settlement, owner: string): Pending<undefined> {
    const { externalId, confirmed: sent, uncertain } = settlement;
    if (sent !== undefined) return { externalId, decide: (item) => ({ next: confirmed(item, sent, owner), result: undefined }) };
    return {
      externalId,
      decide: (item) => {
        const mine = item !== undefined && item.owner === owner;
        if (!mine && uncertain === undefined) return { result: undefined };
        return { next: released(item, owner, uncertain), result: undefined };
      },
    };
  }

  async #one(pending: Pending<undefined>): Promise<void> {
    const result = (await this.#updateMany([pending], () => new Error(`The version of a CRM record changed ${MAX_WRITE_ATTEMPTS} times while it was being written`))).get(pending.externalId);
    if (result instanceof Error) throw result;
  }

  /**
   * Read, decide, write conditionally on the revision read; again, for the records another
   * writer got to first, from the item their failed write met. Items come from what this
   * instance read or wrote last, else one read of all that are missing; writes go out
   * together (`putEach`) when there are several. `exhausted`: the answer of a record still
   * contended after the last attempt.
   */
  async #updateMany<R>(entries: ReadonlyArray<Pending<R>>, exhausted: () => R | Error): Promise<Map<string, R | Error>> {
    const results = new Map<string, R | Error>();
    let pending = [...entries];
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS && pending.length > 0; attempt += 1) {
      try {
        await this.#readMissing(pending.map((entry) => keyOf(entry.externalId)));
      } catch (error) {
        for (const entry of pending) results.set(entry.externalId, asError(error));
        return results;
      }
      const writes: Array<{ entry: Pending<R>; read: VersionItem | undefined; written: VersionItem; result: R }> = [];
      for (const entry of pending) {
        const pk = keyOf(entry.externalId);
        const read = this.#live(this.#known.get(pk));
        const { next, result } = entry.decide(read);
        if (!next) {
          this.#known.set(pk, read);
          results.set(entry.externalId, result);
        } else {
          writes.push({ entry, read, written: this.#itemOf(pk, read, next), result });
        }
      }
      const outcomes = await this.#write(writes.map(({ read, written }) => ({ item: written, condition: this.#conditionOf(read) })));
      pending = [];
      writes.forEach(({ entry, written, result }, index) => {
        const outcome = outcomes[index] as PutOutcome<VersionItem> & { known?: boolean };
        const pk = keyOf(entry.externalId);
        if (outcome.kind === 'written') {
          this.#known.set(pk, written);
          results.set(entry.externalId, result);
        } else if (outcome.kind === 'conditionFailed') {
          // Another writer got there first: decide again on the item the write met (or read it).
          if ('current' in outcome || outcome.known) this.#known.set(pk, outcome.current);
          else this.#known.delete(pk);
          pending.push(entry);
        } else {
          this.#known.delete(pk);
          results.set(entry.externalId, outcome.error);
        }
      });
    }
    for (const entry of pending) results.set(entry.externalId, exhausted());
    return results;
  }

  /** Reads the items of `keys` this instance does not know (one call for one, one batch for more). */
  async #readMissing(keys: string[]): Promise<void> {
    const missing = keys.filter((key) => !this.#known.has(key));
    if (missing.length === 0) return;
    if (missing.length > 1 && this.#store.getMany) {
      const items = await this.#store.getMany<VersionItem>(missing);
      for (const key of missing) this.#known.set(key, items.get(key));
      return;
    }
    await Promise.all(missing.map(async (key) => this.#known.set(key, await this.#store.get<VersionItem>(key))));
  }

  /**
   * The writes, each on its own: together in `putEach` calls when the table has it and there
   * are several, else as conditional puts in parallel (a failed condition then says nothing
   * of the item: it is read again).
   */
  async #write(writes: ConditionalPut[]): Promise<Array<PutOutcome<VersionItem> & { known?: boolean }>> {
    if (writes.length === 0) return [];
    if (writes.length > 1 && this.#store.putEach) {
      const outcomes = await this.#store.putEach<VersionItem>(writes).catch((error: unknown) => writes.map(() => ({ kind: 'failed' as const, error: asError(error) })));
      return outcomes.map((outcome) => (outcome.kind === 'conditionFailed' ? { ...outcome, known: true } : outcome));
    }
    const outcomes: Array<PutOutcome<VersionItem>> = new Array(writes.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let index = next++; index < writes.length; index = next++) {
        const { item, condition } = writes[index] as ConditionalPut;
        try {
          await this.#store.put(item, condition);
          outcomes[index] = { kind: 'written' };
        } catch (error) {
          outcomes[index] = error instanceof ConditionFailedError ? { kind: 'conditionFailed' } : { kind: 'failed', error: asError(error) };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CLAIM_CONCURRENCY, writes.length) }, worker));
    return outcomes;
  }

  /** A remembered item as a read would see it now (one past its TTL does not exist). */
  #live(item: VersionItem | undefined): VersionItem | undefined {
    return item?.expiresAt !== undefined && item.expiresAt <= Math.floor(this.#now() / 1000) ? undefined : item;
  }

  #itemOf(pk: string, read: VersionItem | undefined, next: Omit<VersionItem, 'pk' | 'rev'>): VersionItem {
    const fields = Object.fromEntries(Object.entries(next).filter(([, value]) => value !== undefined));
    return { pk, ...fields, rev: (read?.rev ?? 0) + 1, expiresAt: Math.floor(this.#now() / 1000) + VERSION_TTL_SECONDS };
  }

  #conditionOf(read: VersionItem | undefined) {
    // None read (or one past its TTL, which DynamoDB may not have swept yet): create only if still none.
    return read === undefined
      ? ({ kind: 'absentOrBelow', field: 'expiresAt', value: Math.floor(this.#now() / 1000) + 1 } as const)
      : ({ kind: 'equals', field: 'rev', value: read.rev } as const);
  }
}

/** The item after `owner`'s send of `sent` was confirmed; another owner's live claim stays. */
function confirmed(item: VersionItem | undefined, sent: string | SentFields, owner: string): Omit<VersionItem, 'pk' | 'rev'> {
  const stored = storedOf(item);
  const keep = item?.owner !== undefined && item.owner !== owner;
  const claim = keep ? { owner: item.owner, claimed: item.claimed, claimedUntil: item.claimedUntil } : {};
  if (typeof sent === 'string') {
    return { ...stored, applied: newer(stored.applied, sent), floor: newer(stored.floor, sent), ...claim };
  }
  return {
    ...stored,
    applied: newer(stored.applied, sent.version),
    fields: raise(stored.fields, sent.fields),
    lastInteraction: later(stored.lastInteraction, sent.lastInteraction),
    sourceUpdatedAt: later(stored.sourceUpdatedAt, sent.sourceUpdatedAt),
    ...claim,
  };
}

/** The item after `owner` let go of its claim; `uncertain`: what it sent without an answer. */
function released(item: VersionItem | undefined, owner: string, uncertain: string | SentFields | undefined): Omit<VersionItem, 'pk' | 'rev'> {
  const stored = storedOf(item);
  const mine = item !== undefined && item.owner === owner;
  const claim = mine || item === undefined ? {} : { owner: item.owner, claimed: item.claimed, claimedUntil: item.claimedUntil };
  if (uncertain === undefined) return { ...stored, ...claim };
  if (typeof uncertain === 'string') return { ...stored, uncertain: newer(stored.uncertain, uncertain), ...claim };
  return {
    ...stored,
    uncertainFields: raise(stored.uncertainFields ?? {}, uncertain.fields),
    lastInteraction: later(stored.lastInteraction, uncertain.lastInteraction),
    sourceUpdatedAt: later(stored.sourceUpdatedAt, uncertain.sourceUpdatedAt),
    ...claim,
  };
}
