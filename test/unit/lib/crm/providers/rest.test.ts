import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RestAdapter, chunkKey } from '#lib/crm/providers/rest.ts';
import { startCrmSandbox, type CrmSandbox } from '#local/sandbox/index.ts';
import { countingTokens } from '#test/unit/lib/genesys/support.ts';
import { chunkOf, control, recordFactory } from './support.ts';

let sandbox: CrmSandbox;
beforeEach(async () => {
  sandbox = await startCrmSandbox({
    apiToken: 'token-1',
    customers: [{ id: 'cust-1', email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', loyaltyTier: 'gold', loyaltyPoints: 10 }],
  });
});
afterEach(async () => {
  await sandbox.close();
});
const adapterFor = (): RestAdapter => new RestAdapter({ baseUrl: sandbox.url, tokens: countingTokens() });
const call = { timeoutMs: 2_000 };

describe('RestAdapter (the reference CRM behind the adapter interface)', () => {
  it('upserts a chunk at its maximum (50) with the chunk key, and refuses 51 unsent', async () => {
    // Act
    const ok = await adapterFor().upsert(chunkOf(50), { ...call, idempotencyKey: 'chunk-1' });
    const over = await adapterFor().upsert(chunkOf(51), call);

    // Assess
    expect(ok).toMatchObject({ kind: 'ok', status: 200 });
    expect(over).toMatchObject({ kind: 'failed', failure: { kind: 'rejected' } });
    expect(sandbox.state().requests.map((r) => r['idempotencyKey'])).toEqual(['chunk-1']);
  });

  it.each([401, 403])('reads a %i to the upsert as refused credentials (the sync pauses, nothing is dead-lettered)', async (status) => {
    // Prepare
    sandbox.faults.add([{ operation: 'batchUpsert', status, times: 2 }]);

    // Act
    const outcome = await adapterFor().upsert([recordFactory('a')], call);

    // Assess
    expect(outcome).toMatchObject({ kind: 'failed', failure: { kind: 'credentials', status } });
  });

  it('derives the same key for the same chunk when none is given', () => {
    expect(chunkKey([recordFactory('a')])).toBe(chunkKey([recordFactory('a')]));
    expect(chunkKey([recordFactory('a')])).not.toBe(chunkKey([recordFactory('b')]));
  });

  it('classifies per-record failures and a 429 as rate limited', async () => {
    // Prepare
    await control(sandbox.url, '/__sandbox/record-failures', { rules: [{ externalId: 'b', code: 'VALIDATION_ERROR', message: 'bad' }] });

    // Act
    const partial = await adapterFor().upsert([recordFactory('a'), recordFactory('b')], call);
    sandbox.faults.add([{ operation: 'batchUpsert', status: 429, retryAfterSeconds: 3, times: 1 }]);
    const limited = await adapterFor().upsert([recordFactory('c')], call);

    // Assess
    expect(partial).toMatchObject({ kind: 'ok', results: [{ status: 'created' }, { status: 'failed', error: { code: 'VALIDATION_ERROR' } }] });
    expect(limited).toMatchObject({ kind: 'failed', failure: { kind: 'rate_limited', status: 429, retryAfterMs: 3_000 } });
  });

  it('looks customers up: found and not found', async () => {
    // Act
    const found = await adapterFor().lookupCustomer({ email: 'ada@example.com' }, call);
    const missing = await adapterFor().lookupCustomer({ email: 'nobody@example.com' }, call);

    // Assess
    expect(found).toEqual({ kind: 'found', customer: { id: 'cust-1', firstName: 'Ada', lastName: 'Lovelace', loyaltyTier: 'gold', accountStatus: 'active', loyaltyPoints: 10 } });
    expect(missing).toEqual({ kind: 'not_found' });
  });
});
