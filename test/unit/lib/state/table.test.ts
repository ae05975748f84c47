/**
 * The state table's DynamoDB adapter against an embedded DynamoDB-compatible server
 * (dynalite, created from serverless.yml's definition as the local stack does), and the
 * in-memory twin the other unit tests use, held to the same cases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
