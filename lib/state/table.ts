/**
 * The suite's one DynamoDB table (docs/api.md section 1): small state under a single string
 * key `pk` whose prefix names the kind of item (`outbox#<jobId>`, `pause#crm-sync`, ...).
 * Every item that can expire carries `expiresAt` (epoch seconds), the table's TTL
 * attribute; DynamoDB deletes expired items lazily, so reads treat them as absent at once.
 */
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { awsCall, awsRequestHandler } from '#lib/net';
import { ConditionFailedError } from './errors.ts';

/** One item of the state table. */
export interface StateItem {
  pk: string;
  /** Epoch seconds after which the item no longer exists for the suite (the table's TTL). */
  expiresAt?: number;
  [field: string]: unknown;
}

/** The conditions the suite's writes need, each one DynamoDB condition expression. */
export type PutCondition =
  /** `attribute_not_exists(pk)`: create only. */
  | { kind: 'absent' }
  /** `field = value`: replace only the version the writer read. */
  | { kind: 'equals'; field: string; value: string | number }
  /** `attribute_not_exists(pk) OR field < value`: create, or move forward only. */
  | { kind: 'absentOrBelow'; field: string; value: string | number };

/** One conditional write of `putEach`. */
export interface ConditionalPut {
  item: StateItem;
  condition?: PutCondition;
}

/** What became of one write of `putEach`, each on its own. */
export type PutOutcome<T extends StateItem = StateItem> =
  | { kind: 'written' }
  /** The condition did not hold; `current`: the item as it is now (absent, or past its TTL: undefined). */
  | { kind: 'conditionFailed'; current?: T }
  /** Not known to be written: the call failed, or DynamoDB kept refusing it (conflicts, throttling). */
  | { kind: 'failed'; error: Error };

/** Reads and writes of the state table, as every capability sees them. */
export interface StateTable {
  /** The item, or undefined when it does not exist or has expired. */
  get<T extends StateItem = StateItem>(pk: string): Promise<T | undefined>;
  /**
   * Many items at once (strongly consistent, as `get`): one BatchGetItem per 100 keys instead
   * of a call per key. The map holds the items that exist and have not expired.
   */
  getMany<T extends StateItem = StateItem>(pks: readonly string[]): Promise<Map<string, T>>;
  /** Writes the whole item; throws `ConditionFailedError` when the condition does not hold. */
  put(item: StateItem, condition?: PutCondition): Promise<void>;
  /**
   * Many conditional writes of distinct items, each succeeding or failing on its own as
   * parallel `put`s would, in one TransactWriteItems call per 100 items instead of a call
   * per item (see `DynamoStateTable.putEach`). Outcomes in the order of `writes`.
   */
  putEach<T extends StateItem = StateItem>(writes: readonly ConditionalPut[]): Promise<Array<PutOutcome<T>>>;
  /** Deletes the item (when the condition holds). */
  delete(pk: string, condition?: PutCondition): Promise<void>;
  /**
   * Items of a sparse index partition whose sort value is at most `upTo`, oldest first
   * (the outbox's due jobs).
   */
  queryIndex<T extends StateItem = StateItem>(index: IndexQuery): Promise<T[]>;
}

/** A query of one of the table's sparse indexes. */
export interface IndexQuery {
  indexName: string;
  partitionField: string;
  partition: string;
  sortField: string;
  upTo: string;
  limit: number;
}

/** BatchGetItem's limit on keys per call. */
const BATCH_GET_MAX_KEYS = 100;
/** BatchGetItem calls per 100 keys while DynamoDB leaves some unprocessed. */
const BATCH_GET_ATTEMPTS = 4;
/** TransactWriteItems' limit on actions per call. */
const TRANSACT_MAX_ITEMS = 100;
/**
 * TransactWriteItems calls per group: a cancelled call is made again without the writes
 * whose condition failed (the others were cancelled only because of them), and again
 * after a conflict with another transaction or a throttle.
 */
const TRANSACT_ATTEMPTS = 4;

/** How long one state-table call may take when the caller has not said (whole call, retries included). */
export const STATE_CALL_BUDGET_MS = 2_000;

let sharedClient: DynamoDBClient | undefined;

/** The container's DynamoDB client (endpoint from `AWS_ENDPOINT_URL_DYNAMODB` locally). */
export function sharedDynamoDbClient(): DynamoDBClient {
  sharedClient ??= new DynamoDBClient({ requestHandler: awsRequestHandler(1_500), maxAttempts: 3 });
  return sharedClient;
}

/** Drops the shared client so a test can build it again against another endpoint. */
export function resetSharedDynamoDbClientForTests(): void {
  sharedClient?.destroy();
  sharedClient = undefined;
}

const nowSeconds = (now: () => number): number => Math.floor(now() / 1000);

const isLive = (item: StateItem | undefined, now: () => number): boolean =>
  item !== undefined && (item.expiresAt === undefined || item.expiresAt > nowSeconds(now));

/** The item key as DynamoDB takes it (what `marshall({ pk })` gives, without its walk). */
const keyOf = (pk: string): Record<string, AttributeValue> => ({ pk: { S: pk } });

/** A condition's value as DynamoDB takes it: strings as they are, numbers checked by `marshall`. */
const conditionValue = (value: string | number): AttributeValue => (typeof value === 'string' ? { S: value } : (marshall({ v: value }).v as AttributeValue));

/** The condition as a DynamoDB expression. */
function conditionExpression(condition: PutCondition | undefined): {
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
} {
  if (!condition) return {};
  if (condition.kind === 'absent') return { ConditionExpression: 'attribute_not_exists(pk)' };
  const values = { ':v': conditionValue(condition.value) };
  const names = { '#f': condition.field };
  if (condition.kind === 'equals') {
    return { ConditionExpression: '#f = :v', ExpressionAttributeNames: names, ExpressionAttributeValues: values };
  }
  return {
    ConditionExpression: 'attribute_not_exists(pk) OR #f < :v',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** The state table in DynamoDB, every call under a hard deadline. */
export class DynamoStateTable implements StateTable {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #now: () => number;
  readonly #budgetMs: () => number;

  constructor(options: { tableName: string; client?: DynamoDBClient; now?: () => number; budgetMs?: () => number }) {
    this.#client = options.client ?? sharedDynamoDbClient();
    this.#tableName = options.tableName;
    this.#now = options.now ?? Date.now;
    this.#budgetMs = options.budgetMs ?? (() => STATE_CALL_BUDGET_MS);
  }

  async get<T extends StateItem = StateItem>(pk: string): Promise<T | undefined> {
    const result = await awsCall(this.#budgetMs(), (o) => this.#client.send(new GetItemCommand({ TableName: this.#tableName, Key: keyOf(pk), ConsistentRead: true }), o));
    const item = result.Item ? (unmarshall(result.Item) as T) : undefined;
    return isLive(item, this.#now) ? item : undefined;
  }

  async getMany<T extends StateItem = StateItem>(pks: readonly string[]): Promise<Map<string, T>> {
    const found = new Map<string, T>();
    const unique = [...new Set(pks)];
    for (let start = 0; start < unique.length; start += BATCH_GET_MAX_KEYS) {
      let keys: Array<Record<string, AttributeValue>> = unique.slice(start, start + BATCH_GET_MAX_KEYS).map((pk) => marshall({ pk }));
      // DynamoDB may leave keys unprocessed (throttling, 16 MB): asked again, a few times.
      for (let attempt = 0; keys.length > 0; attempt += 1) {
        if (attempt >= BATCH_GET_ATTEMPTS) throw new Error(`${keys.length} state items could not be read (DynamoDB left them unprocessed)`);
        if (attempt > 0) await new Promise((done) => setTimeout(done, 20 * 2 ** attempt));
        const request = { [this.#tableName]: { Keys: keys, ConsistentRead: true } };
        const result = await awsCall(this.#budgetMs(), (o) => this.#client.send(new BatchGetItemCommand({ RequestItems: request }), o));
        for (const raw of result.Responses?.[this.#tableName] ?? []) {
          const item = unmarshall(raw) as T;
          if (isLive(item, this.#now)) found.set(item.pk, item);
        }
        keys = result.UnprocessedKeys?.[this.#tableName]?.Keys ?? [];
      }
    }
    return found;
  }

  async put(item: StateItem, condition?: PutCondition): Promise<void> {
    try {
      await awsCall(this.#budgetMs(), (o) => this.#client.send(new PutItemCommand({
          TableName: this.#tableName,
          Item: marshall(item, { removeUndefinedValues: true }),
          ...conditionExpression(condition),
        }), o));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ConditionFailedError(item.pk, { cause: error });
      throw error;
    }
  }

  /**
   * Each write on its own, batched: one TransactWriteItems call per 100 items, each Put
   * conditional as `put` and asking for the item as it is when its condition fails
   * (`ALL_OLD`). A transaction is all or nothing, so when some conditions fail the call is
   * cancelled and made again with the others alone (their conditions still hold, or fail
   * the same way next time); a conflict with another transaction or a throttle is tried
   * again a few times. Every write thus ends written, refused by its condition (with the
   * item it met), or failed. A transaction costs two write units per item instead of one;
   * it saves the per-call work of a hundred separate requests (about a millisecond of
   * client CPU each, which a 512 MB function feels) and their round trips.
   */
  async putEach<T extends StateItem = StateItem>(writes: readonly ConditionalPut[]): Promise<Array<PutOutcome<T>>> {
    if (new Set(writes.map((write) => write.item.pk)).size !== writes.length) throw new Error('putEach takes each item at most once');
    const outcomes: Array<PutOutcome<T> | undefined> = writes.map(() => undefined);
    const groups: number[][] = [];
    for (let start = 0; start < writes.length; start += TRANSACT_MAX_ITEMS) {
      groups.push(writes.slice(start, start + TRANSACT_MAX_ITEMS).map((_, offset) => start + offset));
    }
    await Promise.all(groups.map((group) => this.#transactGroup(writes, group, outcomes)));
    return outcomes.map((outcome) => outcome ?? { kind: 'failed', error: new Error('the write was not attempted') });
  }

  async #transactGroup<T extends StateItem>(writes: readonly ConditionalPut[], group: number[], outcomes: Array<PutOutcome<T> | undefined>): Promise<void> {
    let pending = group;
    let lastError: Error = new Error('DynamoDB kept cancelling the transaction');
    for (let attempt = 0; pending.length > 0 && attempt < TRANSACT_ATTEMPTS; attempt += 1) {
      if (attempt > 0) await new Promise((done) => setTimeout(done, 10 * 2 ** attempt));
      const TransactItems = pending.map((index) => {
        const { item, condition } = writes[index] as ConditionalPut;
        return {
          Put: {
            TableName: this.#tableName,
            Item: marshall(item, { removeUndefinedValues: true }),
            ...conditionExpression(condition),
            ...(condition ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
          },
        };
      });
      try {
        await awsCall(this.#budgetMs(), (o) => this.#client.send(new TransactWriteItemsCommand({ TransactItems }), o));
        for (const index of pending) outcomes[index] = { kind: 'written' };
        return;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) {
          const failure = error instanceof Error ? error : new Error(String(error));
          for (const index of pending) outcomes[index] = { kind: 'failed', error: failure };
          return;
        }
        lastError = error;
        const reasons = error.CancellationReasons ?? [];
        const again: number[] = [];
        pending.forEach((index, position) => {
          const reason = reasons[position];
          if (reason?.Code === 'ConditionalCheckFailed') {
            const current = reason.Item ? (unmarshall(reason.Item) as T) : undefined;
            outcomes[index] = { kind: 'conditionFailed', ...(isLive(current, this.#now) ? { current } : {}) };
          } else {
            // `None` (cancelled because of another write), a conflict, a throttle: again.
            again.push(index);
          }
        });
        pending = again;
      }
    }
    for (const index of pending) outcomes[index] = { kind: 'failed', error: lastError };
  }

  async delete(pk: string, condition?: PutCondition): Promise<void> {
    try {
      await awsCall(this.#budgetMs(), (o) => this.#client.send(new DeleteItemCommand({ TableName: this.#tableName, Key: keyOf(pk), ...conditionExpression(condition) }), o));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ConditionFailedError(pk, { cause: error });
      throw error;
    }
  }

  async queryIndex<T extends StateItem = StateItem>(query: IndexQuery): Promise<T[]> {
    const result = await awsCall(this.#budgetMs(), (o) => this.#client.send(new QueryCommand({
        TableName: this.#tableName,
        IndexName: query.indexName,
        KeyConditionExpression: '#p = :p AND #s <= :s',
        ExpressionAttributeNames: { '#p': query.partitionField, '#s': query.sortField },
        ExpressionAttributeValues: marshall({ ':p': query.partition, ':s': query.upTo }),
        Limit: query.limit,
        ScanIndexForward: true,
      }), o));
    return (result.Items ?? []).map((item) => unmarshall(item) as T).filter((item) => isLive(item, this.#now));
  }
}

/**
 * The same semantics in memory, for unit tests of the code that uses the table (the
 * DynamoDB class itself is tested against an embedded DynamoDB-compatible server).
 */
export class MemoryStateTable implements StateTable {
  readonly items = new Map<string, StateItem>();
  constructor(private readonly now: () => number = Date.now) {}

  #holds(pk: string, condition: PutCondition | undefined): boolean {
    if (!condition) return true;
    const current = this.items.get(pk);
    if (condition.kind === 'absent') return current === undefined;
    const field = current?.[condition.field] as string | number | undefined;
    if (condition.kind === 'equals') return current !== undefined && field === condition.value;
    return current === undefined || (field !== undefined && field < condition.value);
  }

  async get<T extends StateItem = StateItem>(pk: string): Promise<T | undefined> {
    const item = this.items.get(pk);
    return isLive(item, this.now) ? (structuredClone(item) as T) : undefined;
  }

  async getMany<T extends StateItem = StateItem>(pks: readonly string[]): Promise<Map<string, T>> {
    const found = new Map<string, T>();
    for (const pk of pks) {
      const item = await this.get<T>(pk);
      if (item) found.set(pk, item);
    }
    return found;
  }

  async put(item: StateItem, condition?: PutCondition): Promise<void> {
    if (!this.#holds(item.pk, condition)) throw new ConditionFailedError(item.pk);
    this.items.set(item.pk, structuredClone(item));
  }

  async putEach<T extends StateItem = StateItem>(writes: readonly ConditionalPut[]): Promise<Array<PutOutcome<T>>> {
    if (new Set(writes.map((write) => write.item.pk)).size !== writes.length) throw new Error('putEach takes each item at most once');
    return writes.map(({ item, condition }): PutOutcome<T> => {
      if (this.#holds(item.pk, condition)) {
        this.items.set(item.pk, structuredClone(item));
        return { kind: 'written' };
      }
      const current = this.items.get(item.pk);
      return { kind: 'conditionFailed', ...(isLive(current, this.now) ? { current: structuredClone(current) as T } : {}) };
    });
  }

  async delete(pk: string, condition?: PutCondition): Promise<void> {
    if (!this.#holds(pk, condition)) throw new ConditionFailedError(pk);
    this.items.delete(pk);
  }

  async queryIndex<T extends StateItem = StateItem>(query: IndexQuery): Promise<T[]> {
    return [...this.items.values()]
      .filter((item) => item[query.partitionField] === query.partition)
      .filter((item) => String(item[query.sortField]) <= query.upTo)
      .filter((item) => isLive(item, this.now))
      .sort((a, b) => String(a[query.sortField]).localeCompare(String(b[query.sortField])))
      .slice(0, query.limit)
      .map((item) => structuredClone(item) as T);
  }
}
