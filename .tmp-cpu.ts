import { DynamoStateTable, type StateTable } from '#lib/state';
import { createCrmBreaker, processBatch, RecordVersions, RequestRateLimiter, type SyncPorts } from '#lib/sync';
import { startStateTable } from './test/support/state-table.ts';
import { jobFactory, jobRecord } from './test/unit/lib/sync/support.ts';
const db = await startStateTable('cpu-state');
const base = new DynamoStateTable({ tableName: 'cpu-state', client: db.client });
const variants: Record<string, StateTable | Omit<StateTable, 'putEach'>> = {
  perItem: { get: (k) => base.get(k), getMany: (k) => base.getMany(k), put: (i, c) => base.put(i, c), delete: (k, c) => base.delete(k, c), queryIndex: (q) => base.queryIndex(q) },
  transactions: base,
};
let run = 0;
for (const round of [1, 2]) for (const [name, table] of Object.entries(variants)) {
  const ports = (): SyncPorts => ({
    upsert: async (records) => ({ kind: 'ok', status: 200, replayed: false, results: records.map((r) => ({ externalId: r.externalId, status: 'created' as const })) }),
    deadLetter: async () => new Set(), limiter: new RequestRateLimiter(1000), breaker: createCrmBreaker({ halfOpenAfterMs: 30_000 }),
    remainingMs: () => 20_000, sleep: async () => undefined, versions: new RecordVersions(table as StateTable),
  });
  const batches = 20;
  const c0 = process.cpuUsage(); const t0 = performance.now();
  for (let b = 0; b < batches; b += 1) {
    run += 1;
    const messages = Array.from({ length: 100 }, (_, i) => jobRecord(jobFactory({ externalId: `g-${run}-${i}`, at: '2026-03-01T10:00:00.000Z' }), `m-${run}-${i}`));
    const report = await processBatch(messages, { batchSize: 100, maxReceiveCount: 5 }, ports());
    if (report.batchItemFailures.length) throw new Error('failures ' + report.summary.deferred);
  }
  const u = process.cpuUsage(c0);
  console.log(`round ${round} ${name}: ${((performance.now() - t0) / batches).toFixed(1)} ms wall, ${((u.user + u.system) / 1000 / batches).toFixed(1)} ms CPU per 100-record batch (client + embedded server)`);
}
await db.close();
