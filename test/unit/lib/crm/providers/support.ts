/**
 * What the provider adapter tests share: records, a secret cache over a mocked Secrets
 * Manager, one test clock, a fresh provider sandbox per test, and the upsert assertions.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ProviderLookupOutcome, ProviderReadOutcome, ProviderUpsertOutcome } from '#lib/crm/adapter.ts';
import { SecretCache } from '#lib/auth';
import type { CrmRecord } from '#lib/jobs';

/** The CRM secret's id in these tests. */
export const SECRET_ID = 'guest-sync/crm-credentials';

/** One mocked Secrets Manager for every test file that imports this module. */
export const secretsManager = mockClient(SecretsManagerClient);

/** GetSecretValue calls made so far. */
export const secretReads = (): number => secretsManager.commandCalls(GetSecretValueCommand).length;

/** Makes Secrets Manager answer `values` in turn (the last one from then on). */
export function secretAnswers(...values: Array<Record<string, unknown>>): void {
  secretsManager.reset();
  let mock = secretsManager.on(GetSecretValueCommand);
  values.slice(0, -1).forEach((value) => {
    mock = mock.resolvesOnce({ SecretString: JSON.stringify(value) });
  });
  mock.resolves({ SecretString: JSON.stringify(values.at(-1)) });
}

/** A fresh secret cache (5-minute TTL) over the mocked client. */
export const secretCache = (): SecretCache => new SecretCache({ client: new SecretsManagerClient({ region: 'us-east-1' }) });

/** A record as a prefill job would carry it. */
export const recordFactory = (externalId: string, overrides: Partial<CrmRecord> = {}): CrmRecord => ({
  externalId,
  emailHash: 'a'.repeat(64),
  consentFlags: { marketing: true },
  attributes: { tier: 'gold' },
  lastInteraction: '2025-03-01T10:00:00.000Z',
  sourceUpdatedAt: '2025-03-01T10:00:00.000Z',
  ...overrides,
});

/** A later job for the same session: only `attributes.lang`, no consent, no hashes (an hour on). */
export const laterRecordFactory = (externalId: string): CrmRecord => ({
  externalId,
  attributes: { lang: 'en' },
  lastInteraction: '2025-03-01T11:00:00.000Z',
  sourceUpdatedAt: '2025-03-01T11:00:00.000Z',
});

/** `n` distinct records. */
export const chunkOf = (n: number, prefix = 'session-'): CrmRecord[] => Array.from({ length: n }, (_, i) => recordFactory(`${prefix}${i}`));

/** A fault or control request to a sandbox. */
export async function control(url: string, path: string, body: unknown, method = 'POST'): Promise<void> {
  const response = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (response.status >= 300) throw new Error(`${path} answered ${response.status}`);
}

/** When each test starts. */
export const NOW = Date.parse('2025-03-01T12:00:00.000Z');

/** The clock the sandbox and the adapter read in a test; back at `NOW` before each test. */
export const clock = {
  at: NOW,
  now: (): number => clock.at,
  advance: (ms: number): void => {
    clock.at += ms;
  },
};

/**
 * A fresh provider sandbox for each test, started on `clock` with the CRM secret answering
 * `secret(sandbox)`, closed after the test. Answers a getter for the running one.
 */
export function sandboxPerTest<S extends { url: string; close(): Promise<void> }>(start: (now: () => number) => Promise<S>, secret: (sandbox: S) => Record<string, unknown>): () => S {
  let sandbox: S | undefined;
  beforeEach(async () => {
    clock.at = NOW;
    sandbox = await start(clock.now);
    secretAnswers(secret(sandbox));
  });
  afterEach(async () => {
    await sandbox?.close();
  });
  return () => {
    if (!sandbox) throw new Error('The sandbox starts before each test');
    return sandbox;
  };
}

/** Asserts an upsert succeeded and answered every record of `chunk` in request order, each with `status`. */
export function expectResultsInOrder(outcome: ProviderUpsertOutcome, chunk: readonly CrmRecord[], status: string): void {
  expect(outcome.kind).toBe('ok');
  if (outcome.kind !== 'ok') return;
  expect(outcome.results.map((r) => r.externalId)).toEqual(chunk.map((r) => r.externalId));
  expect(new Set(outcome.results.map((r) => r.status))).toEqual(new Set([status]));
}

/**
 * The lookup stories every provider tells alike, against the customer its file seeds: found
 * by `phone` (named `phoneStory`), and an unknown email not found.
 */
export function lookupStories(lookup: (query: { email?: string; phone?: string }) => Promise<ProviderLookupOutcome>, seeded: { phoneStory: string; phone: string; firstName: string }): void {
  it(seeded.phoneStory, async () => {
    // Act
    const outcome = await lookup({ phone: seeded.phone });

    // Assess
    expect(outcome).toMatchObject({ kind: 'found', customer: { firstName: seeded.firstName } });
  });

  it('answers not found for an unknown email', async () => {
    // Act
    const outcome = await lookup({ email: 'nobody@example.com' });

    // Assess
    expect(outcome).toEqual({ kind: 'not_found' });
  });
}

/** What the read stories need of a provider: its adapter, its sandbox, its read operation and its own names of a record's values. */
export interface ReadSubject {
  read: (records: readonly CrmRecord[]) => Promise<ProviderReadOutcome>;
  upsert: (records: readonly CrmRecord[]) => Promise<ProviderUpsertOutcome>;
  state: () => { records: Record<string, { writes: number }>; requests: Array<{ operation: string }> };
  addFault: (rule: Record<string, unknown>) => void;
  /** The sandbox's operation name of the read. */
  operation: string;
  /** A record's values under the provider's names, as the adapter sends them. */
  sentValues: (record: CrmRecord) => Record<string, unknown>;
}

/**
 * The read stories every provider tells alike (before a record whose send went unanswered
 * is sent again): found with its values as sent and held, absent when the CRM lacks it,
 * not held when a value differs, a failed read reported; a read never writes.
 */
export function readStories(subject: () => ReadSubject): void {
  it('reads the records it has with their values as sent (held), leaves out the one it lacks, and writes nothing', async () => {
    // Prepare: one id with a quote, escaped in the query
    const written = [recordFactory("o'brien-1"), recordFactory('session-2', { phoneHash: 'b'.repeat(64), channelContext: { channel: 'web' } })];
    expect((await subject().upsert(written)).kind).toBe('ok');
    const writesBefore = Object.values(subject().state().records).map((r) => r.writes);

    // Act
    const outcome = await subject().read([...written, recordFactory('never-sent')]);

    // Assess
    expect(outcome.kind).toBe('ok');
    if (outcome.kind !== 'ok') return;
    expect([...outcome.records.keys()].sort()).toEqual(["o'brien-1", 'session-2']);
    expect(outcome.records.get("o'brien-1")).toEqual(subject().sentValues(written[0] as CrmRecord));
    expect(outcome.records.get('session-2')).toEqual(subject().sentValues(written[1] as CrmRecord));
    expect([...outcome.held].sort()).toEqual(["o'brien-1", 'session-2']);
    expect(Object.values(subject().state().records).map((r) => r.writes)).toEqual(writesBefore);
    expect(subject().state().requests.filter((r) => r.operation === subject().operation)).toHaveLength(1);
  });

  it('does not count a record whose CRM values differ from what would be sent as held', async () => {
    // Prepare: the CRM holds version 1; version 2 changes the tier
    await subject().upsert([recordFactory('session-1')]);
    const next = recordFactory('session-1', { attributes: { tier: 'silver' }, sourceUpdatedAt: '2025-03-01T11:00:00.000Z', lastInteraction: '2025-03-01T11:00:00.000Z' });

    // Act
    const outcome = await subject().read([next]);

    // Assess
    expect(outcome.kind).toBe('ok');
    if (outcome.kind !== 'ok') return;
    expect(outcome.records.has('session-1')).toBe(true);
    expect(outcome.held.size).toBe(0);
  });

  it('reports a read the CRM failed as a failure, never as "not there"', async () => {
    // Prepare
    subject().addFault({ operation: subject().operation, status: 503, times: 1 });

    // Act
    const outcome = await subject().read([recordFactory('session-1')]);

    // Assess
    expect(outcome).toMatchObject({ kind: 'failed', failure: { kind: 'transient', status: 503 } });
  });
}
