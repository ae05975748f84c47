/**
 * The newest applied version per CRM record and the claims on it, against the embedded
 * DynamoDB (real conditional writes) and the in-memory table alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStateTable, type StateTable } from '#lib/state';
import { MemoryStateTable } from '#lib/state/table.ts';
import { RecordVersions, VERSION_TTL_SECONDS, versionOrder, type VersionItem } from '#lib/sync/versions.ts';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '#local/dynamodb.ts';

const TABLE = { logicalId: 'StateTable', tableName: 'unit-versions', keySchema: [{ AttributeName: 'pk', KeyType: 'HASH' as const }], attributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' as const }], globalSecondaryIndexes: [] };
const NOW = Date.parse('2026-03-01T10:00:00.000Z');
const v = (second: number, jobId = 'job-a'): string => versionOrder(`2026-03-01T09:00:${String(second).padStart(2, '0')}.000Z`, jobId);

let dynamo: EmbeddedDynamoDb;
beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb([TABLE]);
});
afterAll(async () => {
  await dynamo.close();
});

let run = 0;
const tables: Array<[string, (clock: { now: number }) => StateTable]> = [
  ['DynamoDB (embedded)', (clock) => new DynamoStateTable({ tableName: TABLE.tableName, client: dynamo.client, now: () => clock.now })],
  ['in memory', (clock) => new MemoryStateTable(() => clock.now)],
];

describe('versionOrder', () => {
  it('sorts like (sourceUpdatedAt, jobId): time first, the job id breaks ties', () => {
    expect(v(1, 'job-z') < v(2, 'job-a')).toBe(true);
    expect(v(2, 'job-a') < v(2, 'job-b')).toBe(true);
    expect(versionOrder('2026-03-01T09:00:02+01:00', 'j')).toBe(versionOrder('2026-03-01T08:00:02.000Z', 'j'));
  });
});

describe.each(tables)('RecordVersions on %s', (_name, make) => {
  const setup = () => {
    const clock = { now: NOW };
    const table = make(clock);
    run += 1;
    return { clock, table, versions: new RecordVersions(table, () => clock.now), id: `guest-${run}` };
  };

  it('claims a record never seen, and confirming it makes older and equal versions superseded', async () => {
    // Prepare
    const { versions, id } = setup();

    // Act
    const first = await versions.claim(id, v(5), 'inv-1', NOW + 30_000);
    await versions.confirm(id, v(5), 'inv-1');

    // Assess
    expect(first).toEqual({ kind: 'claimed' });
    expect(await versions.applied(id)).toBe(v(5));
    expect(await versions.claim(id, v(4), 'inv-2', NOW + 30_000)).toEqual({ kind: 'superseded', applied: v(5) });
    expect(await versions.claim(id, v(5), 'inv-2', NOW + 30_000)).toEqual({ kind: 'superseded', applied: v(5) });
    expect(await versions.claim(id, v(6), 'inv-2', NOW + 30_000)).toEqual({ kind: 'claimed', applied: v(5) });
  });

  it("makes another invocation wait while a claim is live, and lets it in once the claim is released or has lapsed", async () => {
    // Prepare
    const { versions, id, clock } = setup();
    await versions.claim(id, v(5), 'inv-1', NOW + 30_000);

    // Act / Assess: busy while inv-1 sends, whether the other version is older or newer
    expect(await versions.claim(id, v(9), 'inv-2', NOW + 30_000)).toEqual({ kind: 'busy', until: NOW + 30_000 });
    expect(await versions.claim(id, v(3), 'inv-2', NOW + 30_000)).toEqual({ kind: 'busy', until: NOW + 30_000 });
    await versions.release(id, 'inv-1');
    expect(await versions.claim(id, v(9), 'inv-2', NOW + 30_000)).toEqual({ kind: 'claimed' });

    // A claim whose invocation died lapses at its end.
    clock.now = NOW + 30_001;
    expect(await versions.claim(id, v(10), 'inv-3', NOW + 60_000)).toEqual({ kind: 'claimed' });
  });

  it('never moves the applied version back, even when an older send is confirmed late', async () => {
    // Prepare
    const { versions, id } = setup();
    await versions.claim(id, v(9), 'inv-1', NOW + 30_000);
    await versions.confirm(id, v(9), 'inv-1');

    // Act
    await versions.confirm(id, v(4), 'inv-2');

    // Assess
    expect(await versions.applied(id)).toBe(v(9));
  });

  it("releases only the owner's claim: a late release by another invocation leaves the live claim", async () => {
    // Prepare
    const { versions, id } = setup();
    await versions.claim(id, v(5), 'inv-1', NOW + 30_000);

    // Act
    await versions.release(id, 'inv-2');

    // Assess
    expect(await versions.claim(id, v(6), 'inv-3', NOW + 30_000)).toEqual({ kind: 'busy', until: NOW + 30_000 });
  });

  it('keeps the item for 35 days after its last write, and starts over once it has expired', async () => {
    // Prepare
    const { versions, id, table, clock } = setup();
    await versions.claim(id, v(5), 'inv-1', NOW + 30_000);
    await versions.confirm(id, v(5), 'inv-1');

    // Assess
    const item = await table.get<VersionItem>(`version#${id}`);
    expect(item?.expiresAt).toBe(Math.floor(NOW / 1000) + VERSION_TTL_SECONDS);
    clock.now = NOW + (VERSION_TTL_SECONDS + 1) * 1000;
    expect(await versions.claim(id, v(1), 'inv-2', clock.now + 30_000)).toEqual({ kind: 'claimed' });
  });

  it('lets exactly one of several concurrent claims through', async () => {
    // Prepare
    const { versions, id } = setup();

    // Act
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((owner, index) => versions.claim(id, v(10 + index), owner, NOW + 30_000)));

    // Assess
    expect(results.filter((result) => result.kind === 'claimed')).toHaveLength(1);
    expect(results.filter((result) => result.kind === 'busy')).toHaveLength(3);
  });
});

describe.each(tables)('RecordVersions after a send that got no answer, on %s', (_name, make) => {
  it('supersedes jobs older than the unanswered version, while the unanswered job itself may be sent again', async () => {
    // Prepare
    const clock = { now: NOW };
    const versions = new RecordVersions(make(clock), () => clock.now);
    const id = `guest-unanswered-${(run += 1)}`;
    await versions.claim(id, v(8), 'inv-1', NOW + 30_000);

    // Act: the CRM did not answer (it may hold version 8)
    await versions.release(id, 'inv-1', v(8));

    // Assess
    expect(await versions.claim(id, v(7), 'inv-2', NOW + 30_000)).toEqual({ kind: 'superseded', applied: v(8) });
    expect(await versions.claim(id, v(8), 'inv-3', NOW + 30_000)).toEqual({ kind: 'claimed', uncertain: v(8) });
  });
});

describe.each(tables)('RecordVersions on a whole batch, on %s', (_name, make) => {
  /** The table with its calls counted. */
  const counting = (table: StateTable) => {
    const calls = { get: 0, getMany: 0, put: 0, putEach: 0 };
    const counted: StateTable = {
      get: (pk) => ((calls.get += 1), table.get(pk)),
      getMany: (pks) => ((calls.getMany += 1), table.getMany(pks)),
      put: (item, condition) => ((calls.put += 1), table.put(item, condition)),
      putEach: (writes) => ((calls.putEach += 1), table.putEach(writes)),
      delete: (pk, condition) => table.delete(pk, condition),
      queryIndex: (query) => table.queryIndex(query),
    };
    return { calls, counted };
  };
  const fields = (second: number, jobId = 'job-a') => ({ lastInteraction: v(second, jobId), 'attr.tier': v(second, jobId) });
  const sent = (second: number) => ({ version: v(second), fields: fields(second), lastInteraction: '2026-03-01T09:00:00.000Z', sourceUpdatedAt: '2026-03-01T09:00:00.000Z' });

  it('claims a batch with one read of every item and one write call for all, and confirms them with one more and no read', async () => {
    // Prepare
    const clock = { now: NOW };
    const table = make(clock);
    const { calls, counted } = counting(table);
    const ids = Array.from({ length: 30 }, (_, i) => `guest-batch-${(run += 1)}-${i}`);
    const versions = new RecordVersions(counted, () => clock.now);

    // Act
    const claims = await versions.claimMany(ids.map((externalId) => ({ externalId, request: fields(5) })), 'inv-1', NOW + 30_000);
    const failed = await versions.settleMany(ids.map((externalId) => ({ externalId, confirmed: sent(5) })), 'inv-1');

    // Assess
    expect([...claims.values()].every((claim) => !(claim instanceof Error) && claim.kind === 'claimed')).toBe(true);
    expect(failed.size).toBe(0);
    expect(calls).toEqual({ get: 0, getMany: 1, put: 0, putEach: 2 });
    const fresh = new RecordVersions(table, () => clock.now);
    expect(await fresh.claimMany(ids.map((externalId) => ({ externalId, request: fields(5) })), 'inv-2', NOW + 30_000)).toEqual(new Map(ids.map((id) => [id, { kind: 'superseded', applied: v(5) }])));
  });

  it('decides again from the item a batch write met when another invocation wrote it first, without reading it, and writes the rest', async () => {
    // Prepare: between inv-1's read and its claims, inv-2 claims and confirms a newer version of one record
    const clock = { now: NOW };
    const table = make(clock);
    const ids = Array.from({ length: 3 }, (_, i) => `guest-race-${(run += 1)}-${i}`);
    const raced = ids[1] as string;
    const { calls, counted } = counting(table);
    let raceDone = false;
    const racing: StateTable = {
      ...counted,
      putEach: async (writes) => {
        if (!raceDone) {
          raceDone = true;
          const other = new RecordVersions(table, () => clock.now);
          await other.claim(raced, fields(9, 'job-b'), 'inv-2', NOW + 30_000);
          await other.confirm(raced, { ...sent(9), fields: fields(9, 'job-b'), version: v(9, 'job-b') }, 'inv-2');
        }
        return counted.putEach(writes);
      },
    };
    const versions = new RecordVersions(racing, () => clock.now);

    // Act
    const claims = await versions.claimMany(ids.map((externalId) => ({ externalId, request: fields(5) })), 'inv-1', NOW + 30_000);

    // Assess: the raced record is superseded by what inv-2 confirmed; the others are claimed; nothing read twice
    expect(claims.get(raced)).toEqual({ kind: 'superseded', applied: v(9, 'job-b') });
    expect([ids[0], ids[2]].map((id) => (claims.get(id as string) as { kind: string }).kind)).toEqual(['claimed', 'claimed']);
    expect(calls.get + calls.getMany).toBe(1);
  });

  it('reads the item again when another invocation wrote it after the claim, and keeps what that one wrote', async () => {
    // Prepare: inv-1 claims, its claim lapses, inv-2 claims and confirms a newer version
    const clock = { now: NOW };
    const table = make(clock);
    const id = `guest-stale-${(run += 1)}`;
    const first = new RecordVersions(table, () => clock.now);
    await first.claimMany([{ externalId: id, request: fields(5) }], 'inv-1', NOW + 1_000);
    clock.now = NOW + 2_000;
    const second = new RecordVersions(table, () => clock.now);
    await second.claimMany([{ externalId: id, request: fields(9) }], 'inv-2', NOW + 30_000);
    await second.confirm(id, sent(9), 'inv-2');

    // Act: inv-1's late confirmation of the older version
    await first.confirm(id, sent(5), 'inv-1');

    // Assess
    const view = await new RecordVersions(table, () => clock.now).view(id);
    expect(view.fields).toEqual(fields(9));
    expect(await first.applied(id)).toBe(v(9));
  });

  it('reads an item written before field versions as every field at its applied version', async () => {
    // Prepare: an item as the worker wrote it before (one applied version for the record)
    const clock = { now: NOW };
    const table = make(clock);
    const id = `guest-legacy-${(run += 1)}`;
    await table.put({ pk: `version#${id}`, applied: v(5), rev: 3, expiresAt: Math.floor(NOW / 1000) + 60 });
    const versions = new RecordVersions(table, () => clock.now);

    // Act
    const older = await versions.claimMany([{ externalId: id, request: { 'attr.first_name': v(4), lastInteraction: v(4) } }], 'inv-1', NOW + 30_000);
    const newer = await versions.claimMany([{ externalId: id, request: { 'attr.first_name': v(6), lastInteraction: v(6) } }], 'inv-1', NOW + 30_000);

    // Assess
    expect(older.get(id)).toEqual({ kind: 'superseded', applied: v(5) });
    expect(newer.get(id)).toMatchObject({ kind: 'claimed', applied: v(5), view: { floor: v(5) } });
  });
});

