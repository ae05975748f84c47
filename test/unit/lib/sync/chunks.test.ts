/**
 * Finished chunks recorded with Powertools idempotency in the state table (embedded
 * DynamoDB): a chunk the CRM already applied is not sent again, an unfinished one is, and
 * one in flight when its Lambda died is sent again once the invocation's time is over.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BatchUpsertOutcome } from '#lib/crm';
import { CHUNK_TTL_SECONDS, dynamoPersistence, powertoolsChunkLedger } from '#lib/sync/chunks.ts';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '#local/dynamodb.ts';

const TABLE = { logicalId: 'StateTable', tableName: 'unit-chunks', keySchema: [{ AttributeName: 'pk', KeyType: 'HASH' as const }], attributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' as const }], globalSecondaryIndexes: [] };

let dynamo: EmbeddedDynamoDb;
beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb([TABLE]);
});
afterAll(async () => {
  await dynamo.close();
});
afterEach(() => {
  vi.useRealTimers();
});

let n = 0;
const freshKey = (): string => `crm-sync-${(n += 1)}-${Date.now()}`;
const applied = (ids: string[], status: 'created' | 'updated' = 'created'): BatchUpsertOutcome => ({ kind: 'ok', status: 200, replayed: false, results: ids.map((externalId) => ({ externalId, status })) });
const ledger = (remainingMs = 25_000) => powertoolsChunkLedger(dynamoPersistence(TABLE.tableName, dynamo.client), () => remainingMs);

describe('the finished-chunk ledger (Powertools idempotency on the state table)', () => {
  it('answers a redelivered chunk the CRM already applied from its record, without sending it again', async () => {
    // Prepare
    const key = freshKey();
    const send = vi.fn(async () => applied(['a', 'b']));

    // Act
    const first = await ledger().once(key, send);
    const again = await ledger().once(key, send);

    // Assess
    expect(first).toEqual({ kind: 'sent', outcome: applied(['a', 'b']) });
    expect(again).toEqual({ kind: 'replayed', results: [{ externalId: 'a', status: 'created' }, { externalId: 'b', status: 'created' }] });
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("keeps its records in the suite's single table: key pk under chunk#, TTL attribute expiresAt in epoch seconds", async () => {
    // Prepare
    const key = freshKey();
    const before = Math.floor(Date.now() / 1000);
    await ledger().once(key, async () => applied(['a']));

    // Act
    const items = (await dynamo.client.send(new ScanCommand({ TableName: TABLE.tableName }))).Items?.map((item) => unmarshall(item)) ?? [];

    // Assess
    const chunkItems = items.filter((item) => String(item['pk']).startsWith('chunk#'));
    expect(chunkItems.length).toBeGreaterThan(0);
    for (const item of chunkItems) {
      expect(item['pk']).toMatch(/^chunk#[A-Za-z0-9+/]{22}==$/);
      expect(item['expiresAt']).toBeGreaterThanOrEqual(before + CHUNK_TTL_SECONDS);
      expect(item['expiresAt']).toBeLessThan(before + CHUNK_TTL_SECONDS + 60);
    }
  });

  it.each([
    ['a transient failure of the call', { kind: 'transient', status: 503, reason: 'the CRM answered 503' } as BatchUpsertOutcome],
    ['a record the CRM could not lock', { kind: 'ok', status: 200, replayed: false, results: [{ externalId: 'a', status: 'failed', error: { code: 'UNABLE_TO_LOCK_ROW', message: 'locked', classification: 'transient' } }] } as BatchUpsertOutcome],
  ])('records nothing after %s, so the next try sends again', async (_case, answer) => {
    // Prepare
    const key = freshKey();
    const send = vi.fn(async () => answer);

    // Act
    const first = await ledger().once(key, send);
    const second = await ledger().once(key, send);

    // Assess
    expect(first).toEqual({ kind: 'sent', outcome: answer });
    expect(second).toEqual({ kind: 'sent', outcome: answer });
    expect(send).toHaveBeenCalledTimes(2);
  });

  it('leaves a chunk alone while another live invocation sends it, and sends it again once that invocation has run out of time', async () => {
    // Prepare: an invocation with 20 s left starts sending and dies (its call never returns)
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.parse('2026-03-01T10:00:00.000Z'));
    const key = freshKey();
    void ledger(20_000).once(key, () => new Promise<BatchUpsertOutcome>(() => undefined));
    await vi.waitFor(async () => {
      const items = (await dynamo.client.send(new ScanCommand({ TableName: TABLE.tableName }))).Items ?? [];
      expect(items.some((item) => unmarshall(item)['status'] === 'INPROGRESS')).toBe(true);
    });
    const send = vi.fn(async () => applied(['a']));

    // Act
    const during = await ledger().once(key, send);
    vi.setSystemTime(Date.parse('2026-03-01T10:00:21.000Z'));
    const after = await ledger().once(key, send);

    // Assess
    expect(during).toEqual({ kind: 'in_flight' });
    expect(after).toEqual({ kind: 'sent', outcome: applied(['a']) });
    expect(send).toHaveBeenCalledTimes(1);
  });

  it('sends nothing when the in-progress record cannot be written first (the chunk waits for the state table)', async () => {
    // Prepare: a table that does not exist makes every record write fail
    const broken = powertoolsChunkLedger(dynamoPersistence('no-such-table', dynamo.client), () => 25_000);
    const send = vi.fn(async () => applied(['a']));

    // Act
    const result = await broken.once(freshKey(), send);

    // Assess
    expect(result).toMatchObject({ kind: 'unavailable' });
    expect(send).not.toHaveBeenCalled();
  });
});
