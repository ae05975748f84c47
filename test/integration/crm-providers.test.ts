/**
 * The CRM scenarios of issue 13 against each real CRM's sandbox: for HubSpot, Salesforce
 * and Dynamics 365 in turn, a local stack of its own with `CRM_PROVIDER` set (the worker
 * speaks that provider's API to its sandbox, with its token flow), the real embedded SQS
 * with a 6 s visibility timeout (see VISIBILITY_SECONDS), the state table, and the control
 * function probing every second. One stack at a time, shared by the provider's scenarios and stopped after them.
 *
 * Scenarios: duplicates and out-of-order versions of one record, a storm of the provider's
 * own rate-limit refusals, 5xx answers, requests that time out, per-record failures
 * (permanent ones to the DLQ with their reason, transient ones retried), and a DLQ redrive
 * after the cause is fixed (an older version redriven after a newer one never overwrites it),
 * and the answer that arrives after the function timeout: the CRM applied the chunk, the
 * worker recorded the version as uncertain, and on redelivery it reads the records from the
 * CRM (these providers have no idempotency keys) instead of writing that version again.
 * Each ends with the invariants of test/support/provider-invariant.ts: nothing lost, no
 * version written twice, no record older than its newest accepted version.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CrmSyncJob } from '#lib/jobs';
import { invokeLocalFunction } from '#local/lambda-invoke.ts';
import { readSecretsFile } from '#local/secrets-manager.ts';
import { localSqsClient } from '#local/sqs.ts';
import { freeStackPorts, startLocalStack, type LocalStack, type StackEndpoints } from '#local/stack.ts';
import { redriveDlq } from '#scripts/dlq/tools.ts';
import { attributeOf, depthAt, expectProviderInvariants, providerState, type ProviderStateView } from '#test/support/provider-invariant.ts';
import { jobVersion } from '#test/support/factories.ts';
import { addFaults, enqueue, purge, until } from '#test/support/stack.ts';

type Provider = 'hubspot' | 'salesforce' | 'dynamics';

/** What differs between the providers: their field names, operations, codes and rate-limit refusal. */
interface Profile {
  provider: Provider;
  /** The field carrying `sourceUpdatedAt`, and the one carrying `attributes.<key>`. */
  sourceField: string;
  attrField: (key: string) => string;
  /** The sandbox's operation name of the batch upsert (for fault rules). */
  upsert: string;
  /** The sandbox's operation name of the read the worker makes before re-sending an unanswered record. */
  read: string;
  /** A per-record code the provider uses for a record that can never pass, and the DLQ failure code it ends as. */
  permanentCode: string;
  permanentDlqCode: string;
  /**
   * A per-record code for a passing condition (a locked row, an internal error); none for
   * Dynamics, whose UpsertMultiple has no per-record results (a record it fails fails the call).
   */
  transientCode?: string;
  /**
   * A storm of the provider's own rate-limit refusals while `jobs` are being synced;
   * resolves with how many of the worker's upserts it refused, once the worker met it.
   */
  storm: (at: StackEndpoints, jobs: CrmSyncJob[]) => Promise<number>;
  /** Test time the storm scenario needs (a quota pauses the sync for a minute). */
  stormTimeoutMs: number;
}

const SECRET_ID = 'genesys-guest-sync/local/crm-credentials';
const crmSecret = async (): Promise<Record<string, unknown>> => (await readSecretsFile('local/secrets.sample.json'))[SECRET_ID] ?? {};

const control = async (at: StackEndpoints, method: string, path: string, body?: unknown): Promise<void> => {
  const response = await fetch(`${at.crmUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
};

const PROFILES: Profile[] = [
  {
    provider: 'hubspot',
    sourceField: 'guest_sync_source_updated_at',
    attrField: (key) => `guest_sync_attr_${key}`,
    upsert: 'batchUpsertContacts',
    read: 'batchReadContacts',
    permanentCode: 'INVALID_OPTION',
    permanentDlqCode: 'INVALID_OPTION',
    transientCode: 'INTERNAL_ERROR',
    // HubSpot's rolling 10-second window, filled for real by another client of the same
    // account (empty batch calls, which HubSpot answers 200 and which write nothing):
    // every upsert the worker sends meanwhile is refused 429 TEN_SECONDLY_ROLLING. The
    // window is kept full until the worker met it twice, then drains within 10 s.
    storm: async (at, jobs) => {
      const token = String((await crmSecret())['accessToken']);
      let own = 0;
      const fillWindow = async (): Promise<void> => {
        for (let sent = 0; sent < 200; sent += 1) {
          const response = await fetch(`${at.crmUrl}/crm/v3/objects/contacts/batch/upsert`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: '{}',
          });
          await response.arrayBuffer();
          if (response.status === 429) own += 1;
          if (response.status === 429 || Number(response.headers.get('x-hubspot-ratelimit-remaining') ?? 0) <= 0) return;
        }
      };
      const refused = async (): Promise<number> => upsertsAnswered(await providerState(at), 'batchUpsertContacts', 429) - own;
      await fillWindow();
      await enqueue(jobs, at);
      await until(
        async () => {
          if ((await refused()) >= 2) return true;
          await fillWindow();
          return false;
        },
        40_000,
        'the worker to meet the full HubSpot window twice',
      );
      return refused();
    },
    stormTimeoutMs: 60_000,
  },
  {
    provider: 'salesforce',
    sourceField: 'GS_Source_Updated_At__c',
    attrField: (key) => `GS_Attr_${key}__c`,
    upsert: 'upsertCollection',
    read: 'query',
    permanentCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
    permanentDlqCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
    transientCode: 'UNABLE_TO_LOCK_ROW',
    // Salesforce does not throttle with 429: its refusal is the org's rolling 24-hour
    // quota, 403 REQUEST_LIMIT_EXCEEDED without Retry-After. The quota is used up for real
    // (the sandbox's limit lowered to what was used), then freed once the worker met it.
    storm: async (at, jobs) => {
      const usage = await fetch(`${at.crmUrl}/__sandbox/state`).then(async (r) => ((await r.json()) as { config: { apiUsage: number } }).config.apiUsage);
      await control(at, 'POST', '/__sandbox/config', { dailyApiLimit: usage });
      await enqueue(jobs, at);
      await until(async () => upsertsAnswered(await providerState(at), 'upsertCollection', 403) >= 1, 40_000, 'the worker to meet the used-up Salesforce quota');
      await control(at, 'POST', '/__sandbox/config', { dailyApiLimit: 100_000 });
      return upsertsAnswered(await providerState(at), 'upsertCollection', 403);
    },
    stormTimeoutMs: 150_000,
  },
  {
    provider: 'dynamics',
    sourceField: 'gs_sourceupdatedat',
    attrField: (key) => `gs_attr_${key}`,
    upsert: 'upsertMultiple',
    read: 'queryContacts',
    permanentCode: '0x80040265',
    // UpsertMultiple is all or nothing: the worker halves the call until the record stands alone.
    permanentDlqCode: 'CRM_HTTP_400',
    // Dataverse's service protection refusal, as it answers it: 429, Retry-After, 0x80072322.
    storm: async (at, jobs) => {
      await addFaults(
        'crm',
        [
          {
            operation: 'upsertMultiple',
            status: 429,
            retryAfterSeconds: 2,
            times: 4,
            body: { error: { code: '0x80072322', message: 'Number of requests exceeded the limit of 6000 over time window of 300 seconds.' } },
          },
        ],
        at,
      );
      await enqueue(jobs, at);
      await until(async () => upsertsAnswered(await providerState(at), 'upsertMultiple', 429) >= 4, 40_000, 'the worker to meet the Dataverse refusals');
      return upsertsAnswered(await providerState(at), 'upsertMultiple', 429);
    },
    stormTimeoutMs: 60_000,
  },
];

/** Requests of `operation` the sandbox answered with `status`. */
const upsertsAnswered = (state: ProviderStateView, operation: string, status: number): number => state.requests.filter((r) => r.operation === operation && r.status === status).length;

let runId = 0;
/** Ids unique to one scenario. */
const ids = (count: number, prefix: string): string[] => {
  runId += 1;
  return Array.from({ length: count }, (_, i) => `${prefix}-${runId}-${String(i).padStart(3, '0')}`);
};

/** Version `version` of record `externalId` (a later version has a later sourceUpdatedAt). */
const jobFor = (externalId: string, version = 1): CrmSyncJob => jobVersion(externalId, version, { emailHash: 'c'.repeat(64) });

/** A deterministic shuffle, the same on every run. */
function shuffle<T>(items: T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = (): number => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}


/** Waits until the worker has settled every message (none visible, in flight or delayed). */
const settled = (at: StackEndpoints, timeoutMs = 45_000): Promise<void> => until(async () => (await depthAt(at, 'queue')) === 0, timeoutMs, 'the CRM sync queue to drain');

/**
 * The queue's visibility timeout: the worker's local timeout (6 s), the least AWS accepts
 * for a mapping. A shorter one (the shared stack's 2 s) redelivers a batch while the worker
 * still waits out a provider's Retry-After or halves a refused call, which Lambda refuses
 * to set up, and which ends with jobs the CRM took in the DLQ as well.
 */
const VISIBILITY_SECONDS = 6;

/** The local stack of one provider, as the integration setup starts the shared one. */
async function startProviderStack(provider: Provider): Promise<LocalStack> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The provider's sandbox, not a server an exported variable may name.
  for (const name of ['CRM_BASE_URL', 'CRM_TOKEN_URL', 'DYNAMICS_URL', 'HUBSPOT_ID_PROPERTY', 'SALESFORCE_EXTERNAL_ID_FIELD', 'DYNAMICS_ALTERNATE_KEY', 'CRM_SYNC_QUEUE_URL', 'CRM_SYNC_DLQ_URL', 'LOCAL_SECRETS_FILE']) {
    delete env[name];
  }
  const ports = await freeStackPorts();
  const stack = await startLocalStack({
    ...ports,
    visibilityTimeoutSeconds: VISIBILITY_SECONDS,
    offlineOutput: `.local/integration-offline-${provider}.log`,
    metricsFile: `.local/integration-metrics/emf-${provider}-${ports.port}.jsonl`,
    writeStackFile: false,
    env: {
      ...env,
      CRM_PROVIDER: provider,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      CRM_SYNC_PROBE_INTERVAL_SECONDS: '2',
      LOCAL_SCHEDULE_INTERVALS: 'crmSyncControl=1',
    },
  });
  // Warm the worker: its first batch then runs like every other.
  for (const source of stack.spec.sqsEventSources) await invokeLocalFunction(stack.endpoints.lambdaEndpoint, source.functionName, { Records: [] });
  return stack;
}

describe.each(PROFILES)('the CRM scenarios with CRM_PROVIDER=$provider', (profile) => {
  let stack: LocalStack | undefined;
  const at = (): StackEndpoints => {
    if (!stack) throw new Error('the provider stack did not start');
    return stack.endpoints;
  };
  const failRecords = (rules: Array<Record<string, unknown>>): Promise<void> => control(at(), 'POST', '/__sandbox/record-failures', { rules });

  beforeAll(async () => {
    stack = await startProviderStack(profile.provider);
  });

  afterAll(async () => {
    await stack?.stop();
    stack = undefined;
  });

  beforeEach(async () => {
    // Every scenario settles its queue and uses records of its own; the DLQ starts empty and
    // no fault is left. The sandbox is not reset: that would also revoke the worker's token.
    await purge('dlq', at());
    await control(at(), 'DELETE', '/__sandbox/faults');
    await control(at(), 'DELETE', '/__sandbox/record-failures');
  });

  it('the stack runs the provider sandbox the worker writes to', async () => {
    // Act
    const served = (await (await fetch(`${at().controlUrl}/__local/stack`)).json()) as StackEndpoints;

    // Assess
    expect(served).toMatchObject({ crmProvider: profile.provider, sandboxCrm: true, crmUrl: at().crmUrl });
  });

  it('ends duplicates and out-of-order versions as the newest version of each record, each version written once', async () => {
    // Prepare: 30 records with 1 to 4 versions each, shuffled, 20 of them sent twice
    const records = ids(30, `${profile.provider}-order`);
    const versions = records.flatMap((id, i) => Array.from({ length: 1 + (i % 4) }, (_, v) => jobFor(id, v + 1)));
    const jobs = shuffle([...versions, ...shuffle(versions, 7).slice(0, 20)], 11);

    // Act
    await enqueue(jobs, at());
    await settled(at());

    // Assess
    expect(await expectProviderInvariants(at(), jobs, profile.sourceField)).toEqual([]);
    const state = await providerState(at());
    expect(records.map((id) => String(state.records[id]?.fields[profile.attrField('version')]))).toEqual(records.map((_id, i) => String(1 + (i % 4))));
  });

  it(
    "loses nothing to a storm of the provider's own rate-limit refusals, and dead-letters nothing",
    async () => {
      // Prepare
      const jobs = ids(20, `${profile.provider}-storm`).map((id) => jobFor(id));

      // Act
      const refused = await profile.storm(at(), jobs);
      await settled(at(), profile.stormTimeoutMs - 20_000);

      // Assess
      expect(refused).toBeGreaterThan(0);
      expect(await expectProviderInvariants(at(), jobs, profile.sourceField)).toEqual([]);
    },
    profile.stormTimeoutMs,
  );

  it('loses nothing to a burst of 500 and 503 answers, and dead-letters nothing', async () => {
    // Prepare
    await addFaults('crm', [{ operation: profile.upsert, status: 503, times: 2 }, { operation: profile.upsert, status: 500, times: 1 }], at());
    const jobs = ids(20, `${profile.provider}-5xx`).map((id) => jobFor(id));

    // Act
    await enqueue(jobs, at());
    await settled(at());

    // Assess
    const state = await providerState(at());
    expect(state.faults.map((fault) => fault.applied)).toEqual([2, 1]);
    expect(await expectProviderInvariants(at(), jobs, profile.sourceField)).toEqual([]);
  });

  it('loses nothing to a request that times out unanswered, and dead-letters nothing', async () => {
    // Prepare: the CRM holds the first upsert past the worker's deadline, then drops it unprocessed
    await addFaults('crm', [{ operation: profile.upsert, delayMs: 7_000, dropConnection: true, times: 1 }], at());
    const jobs = ids(10, `${profile.provider}-timeout`).map((id) => jobFor(id));

    // Act
    await enqueue(jobs, at());
    await settled(at());

    // Assess
    expect((await providerState(at())).faults.map((fault) => fault.applied)).toEqual([1]);
    expect(await expectProviderInvariants(at(), jobs, profile.sourceField)).toEqual([]);
  });

  it('writes a chunk once when the CRM applied it but answered after the function timeout: the redelivery reads the records instead of writing them again', async () => {
    // Prepare: the first upsert commits at once and answers 6.5 s later (the worker times out at 6 s)
    await addFaults('crm', [{ operation: profile.upsert, delayAfterCommitMs: 6_500, times: 1 }], at());
    const jobs = ids(10, `${profile.provider}-late`).map((id) => jobFor(id));
    const readsBefore = (await providerState(at())).requests.filter((r) => r.operation === profile.read).length;

    // Act
    await enqueue(jobs, at());
    await settled(at());

    // Assess: the late answer's records were read, not written again; each written once
    const state = await providerState(at());
    expect(state.faults.map((fault) => fault.applied)).toEqual([1]);
    expect(jobs.map((job) => state.records[job.record.externalId]?.writes)).toEqual(jobs.map(() => 1));
    expect(await expectProviderInvariants(at(), jobs, profile.sourceField)).toEqual([]);
    expect(state.requests.filter((r) => r.operation === profile.read).length).toBeGreaterThan(readsBefore);
  });

  it('dead-letters the records the CRM refuses for good with their reasons, retries the ones it fails for a moment, and redrives the DLQ once the cause is fixed without overwriting a newer version', async () => {
    // Prepare: two records the CRM refuses for good, two it fails once (not Dynamics, see Profile)
    const records = ids(24, `${profile.provider}-partial`);
    const [changed, unchanged] = [records[3], records[17]] as [string, string];
    const { transientCode } = profile;
    const flaky = transientCode ? ([records[8], records[20]] as string[]) : [];
    await failRecords([
      ...[changed, unchanged].map((externalId) => ({ externalId, code: profile.permanentCode, message: 'the record breaks a validation rule' })),
      ...flaky.map((externalId) => ({ externalId, code: transientCode, message: 'the row is locked by another request', times: 1 })),
    ]);
    const first = records.map((id) => jobFor(id));
    const jobOf = (externalId: string): string | undefined => first.find((job) => job.record.externalId === externalId)?.jobId;

    // Act 1
    await enqueue(first, at());
    await settled(at());

    // Assess 1: exactly the refused records in the DLQ, with their reasons; the others in the CRM
    const dlq = await expectProviderInvariants(at(), first, profile.sourceField);
    expect(dlq.map((m) => [attributeOf(m, 'jobId'), attributeOf(m, 'failureCode')]).sort()).toEqual([changed, unchanged].map((id) => [jobOf(id), profile.permanentDlqCode]).sort());
    expect(dlq.every((m) => attributeOf(m, 'failureReason')?.includes('the record breaks a validation rule'))).toBe(true);
    const state = await providerState(at());
    expect(Object.keys(state.records).filter((key) => records.includes(key)).sort()).toEqual(records.filter((id) => id !== changed && id !== unchanged));
    expect(state.recordFailureRules.filter((rule) => flaky.includes(rule.externalId ?? '')).map((rule) => rule.applied)).toEqual(flaky.map(() => 1));

    // Act 2: the cause is fixed, a newer version of one refused record is synced, then the DLQ is redriven
    await control(at(), 'DELETE', '/__sandbox/record-failures');
    const newer = jobFor(changed, 2);
    await enqueue([newer], at());
    await settled(at());
    const client = localSqsClient(at().sqsEndpoint);
    let moved: number;
    try {
      moved = (await redriveDlq(client, { queueUrl: at().queueUrl, dlqUrl: at().dlqUrl })).moved;
    } finally {
      client.destroy();
    }
    await settled(at());

    // Assess 2: the DLQ is empty, the redriven older version was never sent over the newer one
    expect(moved).toBe(2);
    expect(await expectProviderInvariants(at(), [...first, newer], profile.sourceField)).toEqual([]);
    const after = await providerState(at());
    expect(after.records[changed]?.history).toEqual([newer.record.sourceUpdatedAt]);
    expect(after.records[unchanged]?.history).toEqual([jobFor(unchanged, 1).record.sourceUpdatedAt]);
  });
});
