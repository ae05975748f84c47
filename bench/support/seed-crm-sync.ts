/**
 * The seed's CRM sync, reproduced for comparison (seed 001, `syncGuestToCRM([guest])`
 * called once per guest): one batch-upsert request per guest, one after another, a key
 * made of `Date.now()` and randomness, a 10 s timeout, no retry. Kept here, never in lib/,
 * because it is what the worker replaces.
 */
import type { CrmRecord } from '#lib/jobs';

/** What the sequential run did. */
export interface SeedSyncResult {
  requests: number;
  failed: number;
  wallMs: number;
}

/** Sends each record in its own request, sequentially, as the seed does. */
export async function seedStyleSync(baseUrl: string, apiToken: string, records: readonly CrmRecord[]): Promise<SeedSyncResult> {
  let failed = 0;
  const started = performance.now();
  for (const record of records) {
    const idempotencyKey = `batch-${Date.now()}-${Math.random().toString(36).substring(7)}`;
    try {
      const response = await fetch(`${baseUrl}/records/batch-upsert`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
        body: JSON.stringify({ idempotencyKey, records: [record] }),
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      if (!response.ok) failed += 1;
    } catch {
      failed += 1;
    }
  }
  return { requests: records.length, failed, wallMs: performance.now() - started };
}
