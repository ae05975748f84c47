/**
 * DynamoDB transactions (`TransactWriteItems`, `TransactGetItems`) for the embedded
 * DynamoDB-compatible server, which (dynalite 4) has none. Each action is forwarded to
 * dynalite's own PutItem / UpdateItem / DeleteItem / GetItem (its request handler, called in this process), so its
 * validation and expression evaluation apply; this layer adds what a transaction means:
 *
 * - isolation: a read-write lock in front of dynalite. Every plain request holds it shared,
 *   a transaction holds it alone, so nothing observes or interleaves with one half applied;
 * - all or nothing: each write returns the item it replaced (`ReturnValues: ALL_OLD`, so no
 *   separate read); if any action fails, every action that was applied is undone (the prior
 *   item put back, or a created item removed) before the answer, a
 *   `TransactionCanceledException` with one reason per action in order;
 * - `ClientRequestToken`: a successful request's token is remembered for 10 minutes; the same
 *   request again answers success without applying it again, a different one with the same
 *   token is refused with `IdempotentParameterMismatchException`.
 *
 * The answers follow the DynamoDB API reference (TransactWriteItems, TransactGetItems,
 * CancellationReason). Consumed capacity is dynalite's for the writes, doubled as DynamoDB
 * bills a transactional write; ConditionCheck actions add none.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';

/** How long DynamoDB remembers a `ClientRequestToken` after the request that used it. */
export const CLIENT_REQUEST_TOKEN_WINDOW_MS = 10 * 60 * 1000;

/** The most actions one transaction may hold (DynamoDB's documented limit). */
export const MAX_TRANSACTION_ACTIONS = 100;

/** Options of {@link serveTransactions}; `now` lets a test move the token window's clock. */
export interface TransactionOptions {
  now?: () => number;
}

type AttributeMap = Record<string, unknown>;
type JsonObject = Record<string, unknown>;

/** A DynamoDB error answer: HTTP status and JSON body. */
class DynamoError extends Error {
  constructor(
    readonly status: number,
    readonly body: JsonObject,
  ) {
    super(String(body.message ?? body.Message ?? body.__type));
  }
}

const VALIDATE = 'com.amazon.coral.validate#ValidationException';
const DYNAMO = 'com.amazonaws.dynamodb.v20120810#';

function validation(message: string): DynamoError {
  return new DynamoError(400, { __type: VALIDATE, message });
}

/**
 * A FIFO read-write lock: shared holders run together, an exclusive holder runs alone, and a
 * waiting exclusive request holds back shared requests that arrive after it (no starvation).
 */
class ReadWriteLock {
  private shared = 0;
  private exclusive = false;
  private readonly waiting: Array<{ exclusive: boolean; grant: () => void }> = [];

  /** Waits for the lock; the returned function releases it (once). */
  acquire(exclusive: boolean): Promise<() => void> {
    return new Promise((resolve) => {
      this.waiting.push({ exclusive, grant: () => resolve(this.releaser(exclusive)) });
      this.dispatch();
    });
  }

  private releaser(exclusive: boolean): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (exclusive) this.exclusive = false;
      else this.shared -= 1;
      this.dispatch();
    };
  }

  private dispatch(): void {
    while (this.waiting.length > 0 && !this.exclusive) {
      const next = this.waiting[0]!;
      if (next.exclusive) {
        if (this.shared > 0) return;
        this.exclusive = true;
      } else {
        this.shared += 1;
      }
      this.waiting.shift();
      next.grant();
    }
  }
}

/**
 * Calls dynalite's own request handler in this process, without a socket: the request is
 * the one a client would send (target, JSON body, a SigV4-shaped Authorization header that
 * dynalite checks for form only), the answer is read from what the handler writes. It
 * bypasses the lock, which the transaction engine already holds.
 */
class InnerClient {
  constructor(private readonly listener: (req: IncomingMessage, res: ServerResponse) => void) {}

  async call(operation: string, input: JsonObject): Promise<JsonObject> {
    const body = Buffer.from(JSON.stringify(input), 'utf8');
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve) => {
      const req = Object.assign(new EventEmitter(), {
        method: 'POST',
        url: '/',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'content-length': String(body.length),
          'x-amz-target': `DynamoDB_20120810.${operation}`,
          'x-amz-date': '20000101T000000Z',
          authorization: 'AWS4-HMAC-SHA256 Credential=local/20000101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=local',
        },
      });
      const res = {
        statusCode: 200,
        contentType: undefined as string | undefined,
        setHeader: (): void => undefined,
        end: (chunk?: string | Buffer): void => resolve({ status: res.statusCode, text: chunk === undefined ? '' : chunk.toString() }),
      };
      this.listener(req as unknown as IncomingMessage, res as unknown as ServerResponse);
      req.emit('data', body);
      req.emit('end');
    });
    const parsed = (text ? JSON.parse(text) : {}) as JsonObject;
    if (status !== 200) throw new DynamoError(status, parsed);
    return parsed;
  }

}


/** The result of one write action of a transaction. */
type Outcome =
  | { kind: 'applied'; capacity?: JsonObject; prior: AttributeMap | undefined }
  | { kind: 'cancelled'; reason: JsonObject }
  | { kind: 'error'; error: DynamoError };

interface PlannedAction {
  kind: 'Put' | 'Update' | 'Delete' | 'ConditionCheck';
  spec: JsonObject;
  tableName: string;
  key: AttributeMap | undefined;
  returnAllOld: boolean;
}

/** Keys with sorted member names, so equal requests and equal keys compare equal as text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as JsonObject)
      .sort()
      .map((name) => `${JSON.stringify(name)}:${canonical((value as JsonObject)[name])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The part of a dynalite error that says what it was (`ConditionalCheckFailedException`, ...). */
function errorName(error: DynamoError): string {
  return String(error.body.__type ?? '').split('#').pop() ?? '';
}

/**
 * dynalite's ValidationExceptions that depend on the item's current state, not on the request:
 * DynamoDB reports those inside a transaction as a `ValidationError` cancellation reason.
 */
const DATA_DEPENDENT_VALIDATION = [
  'Item size to update has exceeded the maximum allowed size',
  'Type mismatch for attribute to update',
  'The document path provided in the update expression is invalid for update',
  'An operand in the update expression has an incorrect data type',
  'The update expression attempted to update the secondary index key to unsupported type',
  'The provided expression refers to an attribute that does not exist in the item',
  'Number overflow',
  'Number underflow',
];

/** `TransactItems` as DynamoDB checks it for both operations: present, a list, 1 to 100 entries. */
function transactItemsOf(input: JsonObject): unknown[] {
  const items = input.TransactItems;
  if (items === undefined || items === null) {
    throw validation("1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null");
  }
  if (!Array.isArray(items)) throw new DynamoError(400, { __type: 'com.amazon.coral.service#SerializationException' });
  if (items.length < 1) {
    throw validation("1 validation error detected: Value '[]' at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1");
  }
  if (items.length > MAX_TRANSACTION_ACTIONS) {
    throw validation(
      `1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to ${MAX_TRANSACTION_ACTIONS}`,
    );
  }
  return items;
}

/** One transaction engine per embedded server: its lock, its remembered tokens, its client of dynalite. */
class Transactions {
  readonly lock = new ReadWriteLock();
  private readonly tokens = new Map<string, { fingerprint: string; expiresAt: number; answer: JsonObject }>();

  constructor(
    private readonly inner: InnerClient,
    private readonly now: () => number,
  ) {}

  /** The key attribute names of `tableName`, or ResourceNotFoundException. */
  private async keyNames(tableName: string): Promise<string[]> {
    try {
      const described = await this.inner.call('DescribeTable', { TableName: tableName });
      const table = described.Table as { KeySchema: Array<{ AttributeName: string }> };
      const names = table.KeySchema.map((element) => element.AttributeName);
      return names;
    } catch (error) {
      if (error instanceof DynamoError && errorName(error) === 'ResourceNotFoundException') {
        throw new DynamoError(400, { __type: `${DYNAMO}ResourceNotFoundException`, message: 'Requested resource not found' });
      }
      throw error;
    }
  }

  /** Checks what DynamoDB checks before a transaction touches anything; returns the actions in order. */
  private async plan(input: JsonObject): Promise<PlannedAction[]> {
    const token = input.ClientRequestToken;
    if (token !== undefined && (typeof token !== 'string' || token.length < 1 || token.length > 36)) {
      throw validation(
        "1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36",
      );
    }
    const items = transactItemsOf(input);
    const actions: PlannedAction[] = [];
    for (const item of items) {
      if (!isObject(item)) throw new DynamoError(400, { __type: 'com.amazon.coral.service#SerializationException' });
      const kinds = (['Put', 'Update', 'Delete', 'ConditionCheck'] as const).filter((kind) => item[kind] !== undefined && item[kind] !== null);
      if (kinds.length !== 1) throw validation('TransactItems can only contain one of Check, Put, Update or Delete');
      const kind = kinds[0]!;
      const spec = item[kind];
      if (!isObject(spec)) throw new DynamoError(400, { __type: 'com.amazon.coral.service#SerializationException' });
      if (typeof spec.TableName !== 'string') {
        throw validation(`1 validation error detected: Value null at 'transactItems.${actions.length + 1}.member.${kind.charAt(0).toLowerCase()}${kind.slice(1)}.tableName' failed to satisfy constraint: Member must not be null`);
      }
      if (kind === 'ConditionCheck' && typeof spec.ConditionExpression !== 'string') {
        throw validation(`1 validation error detected: Value null at 'transactItems.${actions.length + 1}.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null`);
      }
      const returnValues = spec.ReturnValuesOnConditionCheckFailure;
      if (returnValues !== undefined && returnValues !== 'ALL_OLD' && returnValues !== 'NONE') {
        throw validation(
          `1 validation error detected: Value '${String(returnValues)}' at 'transactItems.${actions.length + 1}.member.${kind.charAt(0).toLowerCase()}${kind.slice(1)}.returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]`,
        );
      }
      actions.push({ kind, spec, tableName: spec.TableName, key: undefined, returnAllOld: returnValues === 'ALL_OLD' });
    }
    const schemas = new Map<string, string[]>();
    for (const action of actions) {
      if (!schemas.has(action.tableName)) schemas.set(action.tableName, await this.keyNames(action.tableName));
    }
    const seen = new Set<string>();
    for (const action of actions) {
      const source = action.kind === 'Put' ? action.spec.Item : action.spec.Key;
      if (!isObject(source)) continue; // dynalite refuses it with its own ValidationException
      const names = schemas.get(action.tableName)!;
      if (!names.every((name) => source[name] !== undefined)) continue;
      action.key = Object.fromEntries(names.map((name) => [name, source[name]]));
      const identity = `${action.tableName}\u0000${canonical(action.key)}`;
      if (seen.has(identity)) throw validation('Transaction request cannot include multiple operations on one item');
      seen.add(identity);
    }
    return actions;
  }

  /** The item as it is now, or undefined; a malformed key is the request's ValidationException. */
  private async read(tableName: string, key: AttributeMap): Promise<AttributeMap | undefined> {
    const answer = await this.inner.call('GetItem', { TableName: tableName, Key: key, ConsistentRead: true });
    return answer.Item as AttributeMap | undefined;
  }

  private pick(spec: JsonObject, names: string[]): JsonObject {
    return Object.fromEntries(names.filter((name) => spec[name] !== undefined).map((name) => [name, spec[name]]));
  }

  /**
   * Applies one action through dynalite; a failed condition or a state-dependent error
   * becomes its cancellation reason. The item as it was comes back with the write itself
   * (`ReturnValues: ALL_OLD`), for the undo; it is read separately only for a condition check
   * and for a failed condition that asked for it (nothing has changed it then: the lock is held).
   */
  private async apply(action: PlannedAction, capacity: unknown): Promise<Outcome> {
    const prior = action.kind === 'ConditionCheck' && action.key ? await this.read(action.tableName, action.key) : undefined;
    const expressions = ['ConditionExpression', 'ExpressionAttributeNames', 'ExpressionAttributeValues'];
    const withCapacity = capacity === 'TOTAL' || capacity === 'INDEXES' ? { ReturnConsumedCapacity: capacity } : {};
    let operation: string;
    let input: JsonObject;
    switch (action.kind) {
      case 'Put':
        operation = 'PutItem';
        input = { ...this.pick(action.spec, ['TableName', 'Item', ...expressions]), ReturnValues: 'ALL_OLD', ...withCapacity };
        break;
      case 'Update':
        operation = 'UpdateItem';
        input = { ...this.pick(action.spec, ['TableName', 'Key', 'UpdateExpression', ...expressions]), ReturnValues: 'ALL_OLD', ...withCapacity };
        break;
      case 'Delete':
        operation = 'DeleteItem';
        input = { ...this.pick(action.spec, ['TableName', 'Key', ...expressions]), ReturnValues: 'ALL_OLD', ...withCapacity };
        break;
      case 'ConditionCheck':
        // Evaluates the condition against the item and leaves it as it is: rewriting the same
        // item when it exists, deleting nothing when it does not.
        operation = prior ? 'PutItem' : 'DeleteItem';
        input = prior
          ? { TableName: action.tableName, Item: prior, ...this.pick(action.spec, expressions) }
          : this.pick(action.spec, ['TableName', 'Key', ...expressions]);
        break;
    }
    try {
      const answer = await this.inner.call(operation, input);
      if (action.kind === 'ConditionCheck') return { kind: 'applied', prior };
      const old = isObject(answer.Attributes) ? (answer.Attributes as AttributeMap) : undefined;
      return isObject(answer.ConsumedCapacity) ? { kind: 'applied', capacity: answer.ConsumedCapacity, prior: old } : { kind: 'applied', prior: old };
    } catch (error) {
      if (!(error instanceof DynamoError)) throw error;
      const name = errorName(error);
      if (name === 'ConditionalCheckFailedException') {
        const met = action.returnAllOld && action.key ? (prior ?? (await this.read(action.tableName, action.key))) : undefined;
        return {
          kind: 'cancelled',
          reason: {
            Code: 'ConditionalCheckFailed',
            Message: 'The conditional request failed',
            ...(met ? { Item: met } : {}),
          },
        };
      }
      const message = String(error.body.message ?? '');
      if (name === 'ValidationException' && DATA_DEPENDENT_VALIDATION.some((text) => message.startsWith(text))) {
        return { kind: 'cancelled', reason: { Code: 'ValidationError', Message: message } };
      }
      return { kind: 'error', error };
    }
  }

  /** Puts back what an applied action changed. */
  private async undo(action: PlannedAction, prior: AttributeMap | undefined): Promise<void> {
    if (prior) await this.inner.call('PutItem', { TableName: action.tableName, Item: prior });
    else await this.inner.call('DeleteItem', { TableName: action.tableName, Key: action.key });
  }

  /** TransactWriteItems, all or nothing, under the exclusive lock. */
  async write(input: JsonObject): Promise<JsonObject> {
    const { ClientRequestToken: _token, ...parameters } = input;
    const fingerprint = canonical(parameters);
    const token = typeof input.ClientRequestToken === 'string' ? input.ClientRequestToken : undefined;
    const release = await this.lock.acquire(true);
    try {
      this.forgetExpiredTokens();
      const actions = await this.plan(input);
      if (token !== undefined) {
        const remembered = this.tokens.get(token);
        if (remembered) {
          if (remembered.fingerprint !== fingerprint) {
            throw new DynamoError(400, {
              __type: `${DYNAMO}IdempotentParameterMismatchException`,
              Message: 'Request parameters do not match the parameters of the request that used this ClientRequestToken',
            });
          }
          return remembered.answer;
        }
      }
      const outcomes = await Promise.all(actions.map((action) => this.apply(action, input.ReturnConsumedCapacity)));
      const failed = outcomes.some((outcome) => outcome.kind !== 'applied');
      if (failed) {
        await Promise.all(
          actions.map((action, index) => {
            const outcome = outcomes[index]!;
            return outcome.kind === 'applied' && action.kind !== 'ConditionCheck' ? this.undo(action, outcome.prior) : undefined;
          }),
        );
        const refusal = outcomes.find((outcome) => outcome.kind === 'error');
        if (refusal?.kind === 'error') throw refusal.error;
        const reasons = outcomes.map((outcome) => (outcome.kind === 'cancelled' ? outcome.reason : { Code: 'None' }));
        throw new DynamoError(400, {
          __type: `${DYNAMO}TransactionCanceledException`,
          Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((reason) => reason.Code).join(', ')}]`,
          CancellationReasons: reasons,
        });
      }
      const answer = this.consumedCapacity(outcomes, input.ReturnConsumedCapacity);
      if (token !== undefined) this.tokens.set(token, { fingerprint, expiresAt: this.now() + CLIENT_REQUEST_TOKEN_WINDOW_MS, answer });
      return answer;
    } finally {
      release();
    }
  }

  /** TransactGetItems: every item read at one instant, under the exclusive lock. */
  async get(input: JsonObject): Promise<JsonObject> {
    const release = await this.lock.acquire(true);
    try {
      const items = transactItemsOf(input);
      const gets = items.map((item: unknown, index: number) => {
        const get = isObject(item) ? item.Get : undefined;
        if (!isObject(get)) {
          throw validation(`1 validation error detected: Value null at 'transactItems.${index + 1}.member.get' failed to satisfy constraint: Member must not be null`);
        }
        if (typeof get.TableName !== 'string') {
          throw validation(`1 validation error detected: Value null at 'transactItems.${index + 1}.member.get.tableName' failed to satisfy constraint: Member must not be null`);
        }
        return get;
      });
      const seen = new Set<string>();
      for (const get of gets) {
        const names = await this.keyNames(get.TableName as string);
        if (!isObject(get.Key)) continue;
        const key = get.Key;
        const identity = `${String(get.TableName)}\u0000${canonical(Object.fromEntries(names.map((name) => [name, key[name]])))}`;
        if (seen.has(identity)) throw validation('Transaction request cannot include multiple operations on one item');
        seen.add(identity);
      }
      const answers = await Promise.all(
        gets.map((get) =>
          this.inner.call('GetItem', { ...this.pick(get, ['TableName', 'Key', 'ProjectionExpression', 'ExpressionAttributeNames']), ConsistentRead: true }),
        ),
      );
      return { Responses: answers.map((answer) => (answer.Item ? { Item: answer.Item } : {})) };
    } finally {
      release();
    }
  }

  /** The answer of a successful TransactWriteItems: `{}`, or the writes' capacity per table (doubled, as DynamoDB bills it). */
  private consumedCapacity(outcomes: Outcome[], wanted: unknown): JsonObject {
    if (wanted !== 'TOTAL' && wanted !== 'INDEXES') return {};
    const perTable = new Map<string, JsonObject>();
    const add = (into: JsonObject, from: JsonObject): void => {
      for (const [name, value] of Object.entries(from)) {
        if (typeof value === 'number') into[name] = ((into[name] as number | undefined) ?? 0) + 2 * value;
        else if (isObject(value)) add((into[name] ??= {}) as JsonObject, value);
        else into[name] = value;
      }
    };
    for (const outcome of outcomes) {
      if (outcome.kind !== 'applied' || !outcome.capacity) continue;
      const tableName = String(outcome.capacity.TableName);
      const total = perTable.get(tableName) ?? {};
      add(total, outcome.capacity);
      perTable.set(tableName, total);
    }
    return { ConsumedCapacity: [...perTable.values()] };
  }

  private forgetExpiredTokens(): void {
    const now = this.now();
    for (const [token, remembered] of this.tokens) if (remembered.expiresAt <= now) this.tokens.delete(token);
  }
}

function send(req: IncomingMessage, res: ServerResponse, status: number, body: JsonObject): void {
  const text = JSON.stringify(body);
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
  res.statusCode = status;
  res.setHeader('x-amzn-RequestId', randomBytes(39).toString('base64').toUpperCase().replace(/\+|\//g, '0'));
  res.setHeader('x-amz-crc32', crc32(text));
  res.setHeader('Content-Type', contentType === 'application/x-amz-json-1.0' ? contentType : 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Answers one TransactWriteItems / TransactGetItems request as DynamoDB does. */
async function answerTransaction(engine: Transactions, operation: 'TransactWriteItems' | 'TransactGetItems', req: IncomingMessage, res: ServerResponse): Promise<void> {
  const text = await readBody(req);
  const authorization = req.headers.authorization;
  if (!authorization || !authorization.trim().startsWith('AWS4-')) {
    send(req, res, 400, { __type: 'com.amazon.coral.service#MissingAuthenticationTokenException', message: 'Request is missing Authentication Token' });
    return;
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch {
    input = undefined;
  }
  if (!isObject(input)) {
    send(req, res, 400, { __type: 'com.amazon.coral.service#SerializationException' });
    return;
  }
  try {
    send(req, res, 200, operation === 'TransactWriteItems' ? await engine.write(input) : await engine.get(input));
  } catch (error) {
    if (error instanceof DynamoError) send(req, res, error.status, error.body);
    else send(req, res, 500, { __type: `${DYNAMO}InternalServerError`, message: error instanceof Error ? error.message : String(error) });
  }
}

/**
 * Puts transactions in front of a dynalite server: its 'request' listener is wrapped so plain
 * requests hold the lock shared and the two transaction operations are answered here.
 */
export function serveTransactions(server: Server, options: TransactionOptions = {}): void {
  const [dynaliteListener] = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  if (!dynaliteListener) throw new Error('serveTransactions needs a server with its request listener');
  server.removeAllListeners('request');
  const inner = new InnerClient(dynaliteListener);
  const engine = new Transactions(inner, options.now ?? Date.now);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const operation = String(req.headers['x-amz-target'] ?? '').split('.');
    if (req.method === 'POST' && operation.length === 2 && operation[0] === 'DynamoDB_20120810' && (operation[1] === 'TransactWriteItems' || operation[1] === 'TransactGetItems')) {
      void answerTransaction(engine, operation[1], req, res);
      return;
    }
    void engine.lock.acquire(false).then((release) => {
      res.once('finish', release);
      res.once('close', release);
      dynaliteListener(req, res);
    });
  });
}
