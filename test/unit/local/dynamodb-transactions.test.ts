/**
 * TransactWriteItems and TransactGetItems on the embedded DynamoDB-compatible server, through
 * the real AWS SDK client: all or nothing, reasons in action order, DynamoDB's validation,
 * token idempotency, isolation from concurrent plain requests, and rollback.
 */
import type { AddressInfo } from 'node:net';
import {
  BatchGetItemCommand,
  CreateTableCommand,
  GetItemCommand,
  PutItemCommand,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
  TransactionCanceledException,
  type AttributeValue,
  type DynamoDBClient,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_REQUEST_TOKEN_WINDOW_MS, serveTransactions } from '#local/dynamodb-transactions.ts';
import { localDynamoDbClient, type EmbeddedDynamoDb } from '#local/dynamodb.ts';
import { startStateTable } from '#test/support/state-table.ts';

const TABLE = 'unit-transactions';

let dynamo: EmbeddedDynamoDb;
let client: DynamoDBClient;
beforeAll(async () => {
  dynamo = await startStateTable(TABLE);
  client = dynamo.client;
});
afterAll(async () => {
  await dynamo.close();
});

let counter = 0;
/** A key no other test uses. */
function freshPk(label: string): string {
  counter += 1;
  return `${label}-${counter}-${Math.random().toString(36).slice(2)}`;
}

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });

async function read(pk: string): Promise<Record<string, AttributeValue> | undefined> {
  return (await client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: s(pk) }, ConsistentRead: true }))).Item;
}

async function put(pk: string, attributes: Record<string, AttributeValue>): Promise<void> {
  await client.send(new PutItemCommand({ TableName: TABLE, Item: { pk: s(pk), ...attributes } }));
}

/** A Put that succeeds only when the item does not exist yet (a first claim). */
function claim(pk: string, extra: Record<string, AttributeValue> = {}): TransactWriteItem {
  return {
    Put: {
      TableName: TABLE,
      Item: { pk: s(pk), state: s('claimed'), ...extra },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** The error a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<Error & { name: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { name: string };
  }
  throw new Error('expected the request to fail');
}

describe('TransactWriteItems', () => {
  it('applies Put, Update, Delete and ConditionCheck together', async () => {
    // Prepare
    const [created, updated, deleted, checked] = ['created', 'updated', 'deleted', 'checked'].map(freshPk) as [string, string, string, string];
    await put(updated, { version: n(1) });
    await put(deleted, { state: s('old') });
    await put(checked, { state: s('confirmed'), version: n(7) });

    // Act
    const answer = await client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          claim(created),
          {
            Update: {
              TableName: TABLE,
              Key: { pk: s(updated) },
              UpdateExpression: 'SET #v = #v + :one, #s = :s',
              ConditionExpression: '#v = :expected',
              ExpressionAttributeNames: { '#v': 'version', '#s': 'state' },
              ExpressionAttributeValues: { ':one': n(1), ':expected': n(1), ':s': s('confirmed') },
            },
          },
          { Delete: { TableName: TABLE, Key: { pk: s(deleted) }, ConditionExpression: 'attribute_exists(pk)' } },
          {
            ConditionCheck: {
              TableName: TABLE,
              Key: { pk: s(checked) },
              ConditionExpression: '#s = :confirmed',
              ExpressionAttributeNames: { '#s': 'state' },
              ExpressionAttributeValues: { ':confirmed': s('confirmed') },
            },
          },
        ],
      }),
    );

    // Assess
    expect(answer.$metadata.httpStatusCode).toBe(200);
    expect(await read(created)).toEqual({ pk: s(created), state: s('claimed') });
    expect(await read(updated)).toEqual({ pk: s(updated), version: n(2), state: s('confirmed') });
    expect(await read(deleted)).toBeUndefined();
    expect(await read(checked)).toEqual({ pk: s(checked), state: s('confirmed'), version: n(7) });
  });

  it('writes nothing when one condition fails, and gives one reason per action in order (ALL_OLD item where asked)', async () => {
    // Prepare
    const [first, taken, third, checkedMissing] = ['first', 'taken', 'third', 'missing'].map(freshPk) as [string, string, string, string];
    await put(taken, { state: s('confirmed'), owner: s('another worker') });

    // Act
    const error = await failure(
      client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            claim(first),
            claim(taken),
            claim(third),
            { ConditionCheck: { TableName: TABLE, Key: { pk: s(checkedMissing) }, ConditionExpression: 'attribute_exists(pk)' } },
          ],
        }),
      ),
    );

    // Assess
    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect(error.name).toBe('TransactionCanceledException');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(error.message).toBe(
      'Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed, None, ConditionalCheckFailed]',
    );
    expect((error as TransactionCanceledException).CancellationReasons).toEqual([
      { Code: 'None' },
      {
        Code: 'ConditionalCheckFailed',
        Message: 'The conditional request failed',
        Item: { pk: s(taken), state: s('confirmed'), owner: s('another worker') },
      },
      { Code: 'None' },
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
    ]);
    expect(await read(first)).toBeUndefined();
    expect(await read(third)).toBeUndefined();
    expect(await read(checkedMissing)).toBeUndefined();
    expect(await read(taken)).toEqual({ pk: s(taken), state: s('confirmed'), owner: s('another worker') });
  });

  it('gives no Item for a failed condition that did not ask for ALL_OLD', async () => {
    // Prepare
    const taken = freshPk('taken');
    await put(taken, { state: s('confirmed') });

    // Act
    const error = await failure(
      client.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { TableName: TABLE, Item: { pk: s(taken) }, ConditionExpression: 'attribute_not_exists(pk)' } }],
        }),
      ),
    );

    // Assess
    expect((error as TransactionCanceledException).CancellationReasons).toEqual([
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
    ]);
  });

  it('restores every item of a transaction whose third action fails (created removed, changed and deleted put back)', async () => {
    // Prepare
    const [created, changed, blocked, deleted] = ['created', 'changed', 'blocked', 'deleted'].map(freshPk) as [string, string, string, string];
    await put(changed, { version: n(1), note: s('before') });
    await put(blocked, { state: s('confirmed') });
    await put(deleted, { state: s('keep me') });

    // Act
    const error = await failure(
      client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            claim(created),
            {
              Update: {
                TableName: TABLE,
                Key: { pk: s(changed) },
                UpdateExpression: 'SET version = :two REMOVE note',
                ExpressionAttributeValues: { ':two': n(2) },
              },
            },
            claim(blocked),
            { Delete: { TableName: TABLE, Key: { pk: s(deleted) } } },
          ],
        }),
      ),
    );

    // Assess
    expect((error as TransactionCanceledException).CancellationReasons?.map((reason) => reason.Code)).toEqual([
      'None',
      'None',
      'ConditionalCheckFailed',
      'None',
    ]);
    expect(await read(created)).toBeUndefined();
    expect(await read(changed)).toEqual({ pk: s(changed), version: n(1), note: s('before') });
    expect(await read(blocked)).toEqual({ pk: s(blocked), state: s('confirmed') });
    expect(await read(deleted)).toEqual({ pk: s(deleted), state: s('keep me') });
  });

  it('cancels with a ValidationError reason when an update does not fit the item it finds', async () => {
    // Prepare
    const [counted, other] = ['counted', 'other'].map(freshPk) as [string, string];
    await put(counted, { total: s('not a number') });

    // Act
    const error = await failure(
      client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            claim(other),
            { Update: { TableName: TABLE, Key: { pk: s(counted) }, UpdateExpression: 'SET #t = #t + :one', ExpressionAttributeNames: { '#t': 'total' }, ExpressionAttributeValues: { ':one': n(1) } } },
          ],
        }),
      ),
    );

    // Assess
    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect((error as TransactionCanceledException).CancellationReasons).toEqual([
      { Code: 'None' },
      { Code: 'ValidationError', Message: 'An operand in the update expression has an incorrect data type' },
    ]);
    expect(await read(other)).toBeUndefined();
  });

  describe('refuses as DynamoDB does, writing nothing', () => {
    it('more than 100 actions: ValidationException', async () => {
      const pks = Array.from({ length: 101 }, () => freshPk('many'));
      const error = await failure(client.send(new TransactWriteItemsCommand({ TransactItems: pks.map((pk) => claim(pk)) })));
      expect(error.name).toBe('ValidationException');
      expect(error.message).toContain('Member must have length less than or equal to 100');
      expect(await read(pks[0]!)).toBeUndefined();
    });

    it('exactly 100 actions are accepted', async () => {
      const pks = Array.from({ length: 100 }, () => freshPk('hundred'));
      await client.send(new TransactWriteItemsCommand({ TransactItems: pks.map((pk) => claim(pk)) }));
      expect(await read(pks[99]!)).toEqual({ pk: s(pks[99]!), state: s('claimed') });
    });

    it('no actions: ValidationException', async () => {
      const error = await failure(client.send(new TransactWriteItemsCommand({ TransactItems: [] })));
      expect(error.name).toBe('ValidationException');
      expect(error.message).toContain('Member must have length greater than or equal to 1');
    });

    it('two actions on one item: ValidationException', async () => {
      const [other, twice] = ['other', 'twice'].map(freshPk) as [string, string];
      const error = await failure(
        client.send(
          new TransactWriteItemsCommand({
            TransactItems: [claim(other), claim(twice), { ConditionCheck: { TableName: TABLE, Key: { pk: s(twice) }, ConditionExpression: 'attribute_not_exists(pk)' } }],
          }),
        ),
      );
      expect(error.name).toBe('ValidationException');
      expect(error.message).toBe('Transaction request cannot include multiple operations on one item');
      expect(await read(other)).toBeUndefined();
      expect(await read(twice)).toBeUndefined();
    });

    it('an unknown table: ResourceNotFoundException', async () => {
      const other = freshPk('other');
      const error = await failure(
        client.send(
          new TransactWriteItemsCommand({
            TransactItems: [claim(other), { Put: { TableName: 'no-such-table', Item: { pk: s('x') } } }],
          }),
        ),
      );
      expect(error.name).toBe('ResourceNotFoundException');
      expect(await read(other)).toBeUndefined();
    });

    it('an action dynalite itself refuses (an unused expression value): ValidationException', async () => {
      const other = freshPk('other');
      const error = await failure(
        client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              claim(other),
              { Put: { TableName: TABLE, Item: { pk: s(freshPk('unused')) }, ConditionExpression: 'attribute_not_exists(pk)', ExpressionAttributeValues: { ':unused': n(1) } } },
            ],
          }),
        ),
      );
      expect(error.name).toBe('ValidationException');
      expect(await read(other)).toBeUndefined();
    });
  });

  describe('ClientRequestToken', () => {
    /** A transaction that adds 1 to the item's counter each time it is applied. */
    const increment = (pk: string): TransactWriteItem => ({
      Update: { TableName: TABLE, Key: { pk: s(pk) }, UpdateExpression: 'ADD applied :one', ExpressionAttributeValues: { ':one': n(1) } },
    });

    it('the same request with the same token succeeds again without being applied twice', async () => {
      const pk = freshPk('token');
      const token = `token-${pk}`.slice(0, 36);
      await client.send(new TransactWriteItemsCommand({ ClientRequestToken: token, TransactItems: [increment(pk)] }));
      const again = await client.send(new TransactWriteItemsCommand({ ClientRequestToken: token, TransactItems: [increment(pk)] }));
      expect(again.$metadata.httpStatusCode).toBe(200);
      expect(await read(pk)).toEqual({ pk: s(pk), applied: n(1) });
    });

    it('another request with the same token: IdempotentParameterMismatchException, nothing applied', async () => {
      const [pk, other] = ['token', 'other'].map(freshPk) as [string, string];
      const token = `mismatch-${pk}`.slice(0, 36);
      await client.send(new TransactWriteItemsCommand({ ClientRequestToken: token, TransactItems: [increment(pk)] }));
      const error = await failure(client.send(new TransactWriteItemsCommand({ ClientRequestToken: token, TransactItems: [increment(other)] })));
      expect(error.name).toBe('IdempotentParameterMismatchException');
      expect(await read(other)).toBeUndefined();
    });

    it('a cancelled transaction does not use up its token: the retry applies', async () => {
      const [pk, gate] = ['token', 'gate'].map(freshPk) as [string, string];
      const token = `retry-${pk}`.slice(0, 36);
      const request = {
        ClientRequestToken: token,
        TransactItems: [increment(pk), { ConditionCheck: { TableName: TABLE, Key: { pk: s(gate) }, ConditionExpression: 'attribute_exists(pk)' } }],
      };
      await failure(client.send(new TransactWriteItemsCommand(request)));
      await put(gate, {});
      await client.send(new TransactWriteItemsCommand(request));
      expect(await read(pk)).toEqual({ pk: s(pk), applied: n(1) });
    });

    it('after the 10-minute window the same token is a new request', async () => {
      // Prepare: a server of its own whose clock the test moves.
      let now = Date.parse('2026-12-01T00:00:00.000Z');
      const server = dynalite({ createTableMs: 0 });
      serveTransactions(server, { now: () => now });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const own = localDynamoDbClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      try {
        await own.send(
          new CreateTableCommand({
            TableName: TABLE,
            BillingMode: 'PAY_PER_REQUEST',
            KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
            AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          }),
        );
        const request = { ClientRequestToken: 'window', TransactItems: [increment('counted')] };

        // Act
        await own.send(new TransactWriteItemsCommand(request));
        now += CLIENT_REQUEST_TOKEN_WINDOW_MS - 1;
        await own.send(new TransactWriteItemsCommand(request));
        now += 2;
        await own.send(new TransactWriteItemsCommand(request));

        // Assess
        const item = await own.send(new GetItemCommand({ TableName: TABLE, Key: { pk: s('counted') } }));
        expect(item.Item).toEqual({ pk: s('counted'), applied: n(2) });
      } finally {
        own.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });

  it('a conditional PutItem racing a transaction on one of its items: exactly one wins, and reads see whole states (20 rounds)', async () => {
    const winners = { transaction: 0, plainPut: 0 };
    for (let round = 0; round < 20; round += 1) {
      // Prepare: two items at version 0.
      const [a, b] = [freshPk('a'), freshPk('b')];
      await Promise.all([put(a, { version: n(0) }), put(b, { version: n(0) })]);
      const fromZero = (pk: string): TransactWriteItem => ({
        Put: { TableName: TABLE, Item: { pk: s(pk), version: n(1) }, ConditionExpression: 'version = :zero', ExpressionAttributeValues: { ':zero': n(0) } },
      });
      const batchRead = () =>
        client
          .send(new BatchGetItemCommand({ RequestItems: { [TABLE]: { Keys: [{ pk: s(a) }, { pk: s(b) }], ConsistentRead: true } } }))
          .then((answer) => answer.Responses?.[TABLE] ?? []);

      // Act: the transaction moves a and b from 0 to 1; a plain conditional PutItem races it,
      // moving b from 0 to 5; reads are interleaved at several points.
      const reads = [batchRead()];
      const transaction = client.send(new TransactWriteItemsCommand({ TransactItems: [fromZero(a), fromZero(b)] }));
      // The loser's refusal may come back before allSettled below looks at it (the server runs
      // on its own thread): a handler now keeps it from counting as an unhandled rejection.
      void transaction.catch(() => undefined);
      reads.push(batchRead());
      await new Promise((resolve) => setImmediate(resolve));
      const plainPut = client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { pk: s(b), version: n(5) },
          ConditionExpression: 'version = :zero',
          ExpressionAttributeValues: { ':zero': n(0) },
        }),
      );
      void plainPut.catch(() => undefined);
      reads.push(batchRead());
      await new Promise((resolve) => setImmediate(resolve));
      reads.push(batchRead());
      const [transactionResult, plainResult] = await Promise.allSettled([transaction, plainPut]);
      const seen = await Promise.all(reads);

      // Assess: exactly one of the two wins, and every state anyone saw is a whole one.
      expect([transactionResult.status, plainResult.status].sort()).toEqual(['fulfilled', 'rejected']);
      const state = async () => `${(await read(a))?.version?.N}/${(await read(b))?.version?.N}`;
      if (transactionResult.status === 'fulfilled') {
        winners.transaction += 1;
        expect(plainResult.status === 'rejected' && (plainResult.reason as Error).name).toBe('ConditionalCheckFailedException');
        expect(await state()).toBe('1/1');
      } else {
        winners.plainPut += 1;
        expect(transactionResult.reason).toBeInstanceOf(TransactionCanceledException);
        expect(await state()).toBe('0/5');
      }
      for (const items of seen) {
        const byKey = Object.fromEntries(items.map((item) => [item.pk!.S, item.version!.N]));
        expect(['0/0', '1/1', '0/5']).toContain(`${byKey[a]}/${byKey[b]}`);
      }
    }
    expect(winners.transaction + winners.plainPut).toBe(20);
  }, 60_000);

  it('a cancelled transaction is never seen by a concurrent PutItem or read, even for a moment (50 rounds)', async () => {
    for (let round = 0; round < 50; round += 1) {
      // Prepare: ten items at version 0, and a gate at version 9 so the transaction below
      // (all ten from 0 to 1, then the gate from 0 to 1) is always cancelled.
      const items = Array.from({ length: 10 }, () => freshPk('a'));
      const gate = freshPk('gate');
      await Promise.all([...items.map((pk) => put(pk, { version: n(0) })), put(gate, { version: n(9) })]);
      const fromZero = (pk: string): TransactWriteItem => ({
        Put: { TableName: TABLE, Item: { pk: s(pk), version: n(1) }, ConditionExpression: 'version = :zero', ExpressionAttributeValues: { ':zero': n(0) } },
      });
      const target = items[round % items.length]!;

      // Act: while the transaction runs, reads of all ten repeat, and a plain conditional
      // PutItem moves one of them from 0 to 2.
      let settled = false;
      const transaction = client.send(new TransactWriteItemsCommand({ TransactItems: [...items.map(fromZero), fromZero(gate)] }));
      void transaction.catch(() => undefined).finally(() => (settled = true));
      const seen: string[] = [];
      const reader = (async () => {
        do {
          const answer = await client.send(new BatchGetItemCommand({ RequestItems: { [TABLE]: { Keys: items.map((pk) => ({ pk: s(pk) })), ConsistentRead: true } } }));
          for (const item of answer.Responses?.[TABLE] ?? []) seen.push(item.version!.N!);
        } while (!settled);
      })();
      await new Promise((resolve) => setTimeout(resolve, round % 5));
      const plainPut = client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { pk: s(target), version: n(2) },
          ConditionExpression: 'version = :zero',
          ExpressionAttributeValues: { ':zero': n(0) },
        }),
      );
      const [transactionResult, plainResult] = await Promise.allSettled([transaction, plainPut]);
      await reader;

      // Assess: the plain write never finds the 1 the cancelled transaction would have written,
      // no read ever sees it, and afterwards only the plain write remains.
      expect(transactionResult.status).toBe('rejected');
      expect(plainResult.status).toBe('fulfilled');
      expect(seen.filter((version) => version !== '0' && version !== '2')).toEqual([]);
      const after = await Promise.all(items.map(async (pk) => (await read(pk))?.version?.N));
      expect(after).toEqual(items.map((pk) => (pk === target ? '2' : '0')));
    }
  }, 60_000);
});

describe('TransactGetItems', () => {
  it('reads every item at one instant, an empty answer for a missing item', async () => {
    const [present, missing] = ['present', 'missing'].map(freshPk) as [string, string];
    await put(present, { state: s('confirmed'), secret: s('not projected') });
    const answer = await client.send(
      new TransactGetItemsCommand({
        TransactItems: [
          { Get: { TableName: TABLE, Key: { pk: s(present) }, ProjectionExpression: 'pk, #s', ExpressionAttributeNames: { '#s': 'state' } } },
          { Get: { TableName: TABLE, Key: { pk: s(missing) } } },
        ],
      }),
    );
    expect(answer.Responses).toEqual([{ Item: { pk: s(present), state: s('confirmed') } }, {}]);
  });
});
