/**
 * The state table's DynamoDB adapter against an embedded DynamoDB-compatible server
 * (dynalite, created from serverless.yml's definition as the local stack does), and the
 * in-memory twin the other unit tests use, held to the same cases.
 */
import { DynamoDBClient, TransactionCanceledException, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConditionFailedError, DynamoStateTable, type StateTable } from '#lib/state';
import { MemoryStateTable } from '#lib/state/table.ts';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '#local/dynamodb.ts';
import { stateTableSpec } from '#test/support/state-table.ts';

const TABLE = stateTableSpec('unit-state');

const NOW = Date.parse('2026-11-30T12:00:00.000Z');
let dynamo: EmbeddedDynamoDb;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb([TABLE]);
});
afterAll(async () => {
  await dynamo.close();
});

const tables: Array<[string, () => StateTable]> = [
  ['DynamoDB (embedded)', () => new DynamoStateTable({ tableName: TABLE.tableName, client: dynamo.client, now: () => NOW })],
  ['in memory', () => new MemoryStateTable(() => NOW)],
];

describe.each(tables)('state table: %s', (_name, make) => {
  it('reads back what it wrote, and nothing for an unknown key', async () => {
    const table = make();
    await table.put({ pk: `a#${_name}`, count: 1, nested: { tier: 'gold' } });
    expect(await table.get(`a#${_name}`)).toEqual({ pk: `a#${_name}`, count: 1, nested: { tier: 'gold' } });
    expect(await table.get(`missing#${_name}`)).toBeUndefined();
  });

  it('reads many items at once (more than one BatchGetItem holds), leaving out the missing and the expired', async () => {
    const table = make();
    const keys = Array.from({ length: 130 }, (_, i) => `many#${_name}#${i}`);
    await Promise.all(keys.filter((_, i) => i % 3 !== 0).map((pk, i) => table.put({ pk, n: i, ...(pk.endsWith('#1') ? { expiresAt: NOW / 1000 - 1 } : {}) })));
    const found = await table.getMany([...keys, keys[2] as string]);
    expect([...found.keys()].sort()).toEqual(keys.filter((pk, i) => i % 3 !== 0 && !pk.endsWith('#1')).sort());
    expect(found.get(keys[2] as string)).toEqual(await table.get(keys[2] as string));
    expect((await table.getMany([])).size).toBe(0);
  });

  it('treats an item past expiresAt as absent, before TTL deletes it', async () => {
    const table = make();
    await table.put({ pk: `old#${_name}`, expiresAt: NOW / 1000 - 1 });
    await table.put({ pk: `live#${_name}`, expiresAt: NOW / 1000 + 60 });
    expect(await table.get(`old#${_name}`)).toBeUndefined();
    expect(await table.get(`live#${_name}`)).toMatchObject({ pk: `live#${_name}` });
  });

  it('refuses a create over an existing item', async () => {
    const table = make();
    await table.put({ pk: `once#${_name}`, v: 1 }, { kind: 'absent' });
    await expect(table.put({ pk: `once#${_name}`, v: 2 }, { kind: 'absent' })).rejects.toBeInstanceOf(ConditionFailedError);
    expect(await table.get(`once#${_name}`)).toMatchObject({ v: 1 });
  });

  it('replaces only the version the writer read', async () => {
    const table = make();
    await table.put({ pk: `ver#${_name}`, attempts: 0 });
    await table.put({ pk: `ver#${_name}`, attempts: 1 }, { kind: 'equals', field: 'attempts', value: 0 });
    await expect(table.put({ pk: `ver#${_name}`, attempts: 1 }, { kind: 'equals', field: 'attempts', value: 0 })).rejects.toBeInstanceOf(
      ConditionFailedError,
    );
    expect(await table.get(`ver#${_name}`)).toMatchObject({ attempts: 1 });
  });

  it('moves a value forward, never back', async () => {
    const table = make();
    const at = (value: string) => table.put({ pk: `fwd#${_name}`, newest: value }, { kind: 'absentOrBelow', field: 'newest', value });
    await at('2026-01-02');
    await at('2026-01-03');
    await expect(at('2026-01-01')).rejects.toBeInstanceOf(ConditionFailedError);
    await expect(at('2026-01-03')).rejects.toBeInstanceOf(ConditionFailedError);
    expect(await table.get(`fwd#${_name}`)).toMatchObject({ newest: '2026-01-03' });
  });

  it('deletes, and refuses a conditional delete of another version', async () => {
    const table = make();
    await table.put({ pk: `del#${_name}`, attempts: 2 });
    await expect(table.delete(`del#${_name}`, { kind: 'equals', field: 'attempts', value: 1 })).rejects.toBeInstanceOf(ConditionFailedError);
    await table.delete(`del#${_name}`, { kind: 'equals', field: 'attempts', value: 2 });
    expect(await table.get(`del#${_name}`)).toBeUndefined();
  });

  it('writes many items each on its own: the ones whose condition holds are written, the others answer with the item they met', async () => {
    const table = make();
    const key = (id: string) => `each#${_name}#${id}#${Math.random()}`;
    const [held, fresh, stale, moved] = [key('held'), key('fresh'), key('stale'), key('moved')];
    await table.put({ pk: held, rev: 1, value: 'kept' });
    await table.put({ pk: stale, rev: 3, value: 'newer' });
    await table.put({ pk: moved, rev: 1, value: 'old' });

    const outcomes = await table.putEach([
      { item: { pk: held, rev: 2 }, condition: { kind: 'absent' } },
      { item: { pk: fresh, rev: 1, value: 'new' }, condition: { kind: 'absent' } },
      { item: { pk: stale, rev: 2, value: 'older' }, condition: { kind: 'equals', field: 'rev', value: 1 } },
      { item: { pk: moved, rev: 2, value: 'moved' }, condition: { kind: 'equals', field: 'rev', value: 1 } },
    ]);

    expect(outcomes).toEqual([
      { kind: 'conditionFailed', current: { pk: held, rev: 1, value: 'kept' } },
      { kind: 'written' },
      { kind: 'conditionFailed', current: { pk: stale, rev: 3, value: 'newer' } },
      { kind: 'written' },
    ]);
    expect(await table.get(held)).toEqual({ pk: held, rev: 1, value: 'kept' });
    expect(await table.get(fresh)).toEqual({ pk: fresh, rev: 1, value: 'new' });
    expect(await table.get(stale)).toEqual({ pk: stale, rev: 3, value: 'newer' });
    expect(await table.get(moved)).toEqual({ pk: moved, rev: 2, value: 'moved' });
  });

  it('writes more items than one transaction holds, and refuses the same item twice in one call', async () => {
    const table = make();
    const ids = Array.from({ length: 130 }, (_, i) => `many#${_name}#${i}#${Math.random()}`);

    const outcomes = await table.putEach(ids.map((pk) => ({ item: { pk, n: 1 }, condition: { kind: 'absent' } })));

    expect(outcomes.every((outcome) => outcome.kind === 'written')).toBe(true);
    expect((await table.getMany(ids)).size).toBe(130);
    await expect(table.putEach([{ item: { pk: ids[0] as string } }, { item: { pk: ids[0] as string } }])).rejects.toThrow(/at most once/);
  });

  it('lists due items of a sparse index, oldest first, up to a limit', async () => {
    const table = make();
    const partition = `due-${_name}`;
    for (const [id, due] of [['c', '2026-11-30T12:00:03Z'], ['a', '2026-11-30T11:59:00Z'], ['b', '2026-11-30T12:00:00Z'], ['late', '2026-11-30T13:00:00Z']] as const) {
      await table.put({ pk: `idx#${_name}#${id}`, outboxPk: partition, outboxDue: due });
    }
    await table.put({ pk: `idx#${_name}#plain` });
    const query = { indexName: 'outbox', partitionField: 'outboxPk', partition, sortField: 'outboxDue', upTo: '2026-11-30T12:00:05Z' };
    expect((await table.queryIndex({ ...query, limit: 10 })).map((item) => item.pk)).toEqual([`idx#${_name}#a`, `idx#${_name}#b`, `idx#${_name}#c`]);
    expect((await table.queryIndex({ ...query, limit: 2 })).map((item) => item.pk)).toEqual([`idx#${_name}#a`, `idx#${_name}#b`]);
  });
});

describe('state table: TransactWriteItems as DynamoDB answers it', () => {
  const client = new DynamoDBClient({ region: 'us-east-1' });
  const dynamoMock = mockClient(client);
  afterEach(() => dynamoMock.reset());
  const cancelled = (codes: Array<{ Code: string; Item?: Record<string, unknown> }>) =>
    new TransactionCanceledException({
      $metadata: {},
      message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.map((c) => c.Code).join(', ')}]`,
      CancellationReasons: codes.map(({ Code, Item }) => ({ Code, ...(Item ? { Item: marshall(Item) } : {}) })),
    });
  const table = () => new DynamoStateTable({ tableName: 'state', client, now: () => NOW });
  const writes = ['a', 'b', 'c'].map((id) => ({ item: { pk: `k#${id}`, rev: 2 }, condition: { kind: 'equals' as const, field: 'rev', value: 1 } }));

  it('sends the others again without the write whose condition failed, and tells that one the item it met', async () => {
    dynamoMock.on(TransactWriteItemsCommand).rejectsOnce(cancelled([{ Code: 'None' }, { Code: 'ConditionalCheckFailed', Item: { pk: 'k#b', rev: 5 } }, { Code: 'None' }])).resolves({});

    const outcomes = await table().putEach(writes);

    expect(outcomes).toEqual([{ kind: 'written' }, { kind: 'conditionFailed', current: { pk: 'k#b', rev: 5 } }, { kind: 'written' }]);
    const calls = dynamoMock.commandCalls(TransactWriteItemsCommand).map((call) => call.args[0].input.TransactItems?.map((entry) => entry.Put?.Item?.['pk']?.S));
    expect(calls).toEqual([['k#a', 'k#b', 'k#c'], ['k#a', 'k#c']]);
    expect(dynamoMock.commandCalls(TransactWriteItemsCommand)[0]?.args[0].input.TransactItems?.[0]?.Put?.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
  });

  it('tries again after a conflict with another transaction, and reports writes DynamoDB kept refusing as failed', async () => {
    dynamoMock.on(TransactWriteItemsCommand).rejects(cancelled([{ Code: 'TransactionConflict' }, { Code: 'None' }, { Code: 'None' }]));

    const outcomes = await table().putEach(writes);

    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['failed', 'failed', 'failed']);
    expect(dynamoMock.commandCalls(TransactWriteItemsCommand).length).toBe(4);
  });

  it('reports every write of a call that failed outright as failed, not as refused', async () => {
    dynamoMock.on(TransactWriteItemsCommand).rejects(new Error('socket hang up'));

    const outcomes = await table().putEach(writes);

    expect(outcomes).toEqual(writes.map(() => ({ kind: 'failed', error: expect.objectContaining({ message: 'socket hang up' }) })));
  });
});
