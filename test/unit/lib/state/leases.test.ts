/**
 * Write leases over the state table: against an embedded DynamoDB-compatible server
 * (dynalite, the conditional writes DynamoDB evaluates) and the in-memory twin, with a
 * clock the test moves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStateTable, WriteLeases, type StateTable } from '#lib/state';
import { MemoryStateTable } from '#lib/state/table.ts';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '#local/dynamodb.ts';
import type { TableSpec } from '#local/serverless-config.ts';

const TABLE: TableSpec = {
  logicalId: 'StateTable',
  tableName: 'unit-leases',
  keySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
  attributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
  globalSecondaryIndexes: [],
  ttlAttribute: 'expiresAt',
};

let dynamo: EmbeddedDynamoDb;
beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb([TABLE]);
});
afterAll(async () => {
  await dynamo.close();
});

/** A clock, a table on it, and leases on that table; `sleep` moves the clock. */
function world(make: (now: () => number) => StateTable) {
  let now = Date.parse('2026-11-30T12:00:00.000Z');
  const clock = (): number => now;
  const table = make(clock);
  const sleeps: number[] = [];
  const sleep = async (ms: number): Promise<void> => {
    sleeps.push(ms);
    now += ms;
  };
  return { leases: new WriteLeases(table, clock), table, sleep, sleeps, advance: (ms: number) => (now += ms) };
}

let counter = 0;
const name = (): string => `guest#g-${(counter += 1)}`;

describe.each<[string, (now: () => number) => StateTable]>([
  ['DynamoDB (embedded)', (now) => new DynamoStateTable({ tableName: TABLE.tableName, client: dynamo.client, now })],
  ['in memory', (now) => new MemoryStateTable(now)],
])('write leases: %s', (_table, make) => {
  it('lets one writer hold a lease at a time, and the next one take it once it is given back', async () => {
    // Prepare
    const { leases } = world(make);
    const key = name();

    // Act
    const first = await leases.acquire(key, { ttlMs: 5_000 });
    const second = await leases.acquire(key, { ttlMs: 5_000 });
    await first?.release();
    const third = await leases.acquire(key, { ttlMs: 5_000 });

    // Assess
    expect(first).toBeDefined();
    expect(second).toBeUndefined();
    expect(third).toBeDefined();
  });

  it('waits for a held lease, in growing pauses, no longer than asked', async () => {
    // Prepare
    const { leases, sleep, sleeps } = world(make);
    const key = name();
    await leases.acquire(key, { ttlMs: 10_000 });

    // Act
    const waited = await leases.acquire(key, { ttlMs: 5_000, waitMs: 1_000, sleep, random: () => 1 });

    // Assess
    expect(waited).toBeUndefined();
    expect(sleeps).toEqual([25, 50, 100, 200, 400]);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1_000);
  });

  it('is taken over once its holder ran out of time, and the old holder can neither renew nor release it', async () => {
    // Prepare
    const { leases, advance } = world(make);
    const key = name();
    const old = await leases.acquire(key, { ttlMs: 1_000 });
    advance(1_001);

    // Act
    const taken = await leases.acquire(key, { ttlMs: 5_000 });
    const renewed = await old?.renew(5_000);
    await old?.release();
    const meanwhile = await leases.acquire(key, { ttlMs: 5_000 });

    // Assess
    expect(taken).toBeDefined();
    expect(renewed).toBe(false);
    expect(meanwhile).toBeUndefined();
    expect(await taken?.renew(5_000)).toBe(true);
  });
});
