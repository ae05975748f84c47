/**
 * Benchmark: the CRM sync worker against each real CRM's stand-in (HubSpot, Salesforce,
 * Dynamics 365), through a local stack of its own per provider (embedded SQS, the event
 * source mapping, the worker in serverless-offline with `CRM_PROVIDER` set, the state
 * table, the provider sandbox of local/sandbox/crm-providers):
 *
 * 1. at the provider's documented limit, under a backlog: N jobs (distinct records, plus
 *    older versions of some of them enqueued after the newest) are queued while the event
 *    source is paused, then the worker drains them. Records per second against what the
 *    limit allows at the provider's batch maximum, the share of answers that were
 *    rate-limit refusals, jobs lost, records applied twice and records moved back in time,
 *    all counted from the sandbox's state view (its request log and each record's write
 *    history) and the DLQ;
 * 2. at a steady 50 % of that rate: the time from an accepted change (SendMessageBatch
 *    answered, what the intake routes wait for before their 202) to its record in the
 *    sandbox (the record's `updatedAt`), p50 / p99.
 *
 * The local stack starts the sandbox `CRM_PROVIDER` names (local/crm-sandbox.ts) on a
 * thread of this process, so its clock is this process's clock; its state is read over HTTP.
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { buildJob, deterministicJobId, sendMessages, toMessageBody, type CrmRecord, type CrmSyncJob } from '#lib/jobs';
import { PROVIDER_BATCH_LIMITS, PROVIDER_REQUESTS_PER_SECOND } from '#lib/crm/adapter.ts';
import type { ProviderStoredRecord } from '#local/sandbox/crm-providers/index.ts';
import type { RequestLogEntry } from '#local/sandbox/server.ts';
import { freeStackPorts, startLocalStack, type LocalStack } from '#local/stack.ts';
import { localSqsClient } from '#local/sqs.ts';
import { serverThreadLoads } from '#local/threads.ts';
import { deadLetteredJobIds } from './support/dead-letters.ts';
import { table } from './support/markdown.ts';
import { percentile } from './support/stats.ts';
import type { Benchmark, BenchContext } from './support/types.ts';

/** The event source's maximumConcurrency (serverless.yml): containers that may call the CRM at once. */
const MAX_CONCURRENCY = 2;
const WARM_UP_JOBS = 300;
/** Records of the backlog that also get two older versions, enqueued after their newest one. */
const OUT_OF_ORDER_RECORDS = 150;
/**
 * Per provider: several seconds of work at the limit even at the worker's full pace, so the
 * rate while the backlog lasts is measured over dozens of upserts, and each run (stack start
 * and warm-up included) stays near a minute. `BENCH_BACKLOG_RECORDS` sets one size for all.
 */
const BACKLOG_RECORDS: Readonly<Record<ProviderName, number>> = process.env.BENCH_BACKLOG_RECORDS
  ? { hubspot: Number(process.env.BENCH_BACKLOG_RECORDS), salesforce: Number(process.env.BENCH_BACKLOG_RECORDS), dynamics: Number(process.env.BENCH_BACKLOG_RECORDS) }
  : { hubspot: 8_000, salesforce: 12_000, dynamics: 10_000 };
const STEADY_JOBS = 1_500;
const DRAIN_TIMEOUT_MS = 90_000;
/** The steady phase enqueues once per tick. */
const TICK_MS = 100;

type ProviderName = 'hubspot' | 'salesforce' | 'dynamics';

/** What every provider sandbox's `GET /__sandbox/state` shows that this benchmark reads. */
interface SandboxView {
  records: Record<string, ProviderStoredRecord>;
  requests: RequestLogEntry[];
}

/** One provider as this benchmark drives it. */
interface ProviderCase {
  provider: ProviderName;
  title: string;
  /** The documented (or, for Salesforce, configured) limit in words. */
  limit: string;
  /** Requests per second the limit allows across the whole worker. */
  limitRequestsPerSecond: number;
  /** The sandbox's log name of the upsert call. */
  upsertOperation: string;
  /** Whether an answer is a rate-limit or quota refusal. */
  refused(entry: RequestLogEntry): boolean;
  /** Where the sandbox keeps `sourceUpdatedAt` and `attributes.tier` of a record. */
  sourceField: string;
  tierField: string;
  /** Jobs in the backlog (distinct records) and in the steady phase. */
  backlogRecords: number;
  steadyJobs: number;
}

const PROVIDERS: readonly ProviderCase[] = [
  {
    provider: 'hubspot',
    title: 'HubSpot',
    limit: '100 requests per rolling 10 s (Free/Starter)',
    limitRequestsPerSecond: 10,
    upsertOperation: 'batchUpsertContacts',
    refused: (entry) => entry.status === 429,
    sourceField: 'guest_sync_source_updated_at',
    tierField: 'guest_sync_attr_tier',
    backlogRecords: BACKLOG_RECORDS.hubspot,
    steadyJobs: STEADY_JOBS,
  },
  {
    provider: 'salesforce',
    title: 'Salesforce',
    limit: `no short window (24-hour quota); the worker's configured ${PROVIDER_REQUESTS_PER_SECOND.salesforce} requests/s x ${MAX_CONCURRENCY} containers`,
    limitRequestsPerSecond: PROVIDER_REQUESTS_PER_SECOND.salesforce * MAX_CONCURRENCY,
    upsertOperation: 'upsertCollection',
    refused: (entry) => entry.status === 429 || entry.status === 403,
    sourceField: 'GS_Source_Updated_At__c',
    tierField: 'GS_Attr_tier__c',
    backlogRecords: BACKLOG_RECORDS.salesforce,
    steadyJobs: STEADY_JOBS,
  },
  {
    provider: 'dynamics',
    title: 'Dynamics 365',
    limit: '6,000 requests per 5-minute sliding window (per user)',
    limitRequestsPerSecond: 6_000 / 300,
    upsertOperation: 'upsertMultiple',
    refused: (entry) => entry.status === 429,
    sourceField: 'gs_sourceupdatedat',
    tierField: 'gs_attr_tier',
    backlogRecords: BACKLOG_RECORDS.dynamics,
    steadyJobs: STEADY_JOBS,
  },
];

/** A small seeded PRNG (mulberry32): the same backlog order on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const TIERS = ['standard', 'gold', 'platinum'] as const;

/** A job for record `externalId` at `sourceUpdatedAt`, as the intake routes would enqueue it. */
function job(externalId: string, at: Date, tier: string, i: number): CrmSyncJob {
  const iso = at.toISOString();
  const record: CrmRecord = {
    externalId,
    emailHash: 'c'.repeat(64),
    consentFlags: { marketing: i % 3 === 0, dataProcessing: true },
    attributes: { tier, visits: i % 17 },
    channelContext: { originPage: 'https://www.example.com/support' },
    lastInteraction: iso,
    sourceUpdatedAt: iso,
  };
  return buildJob('guest', deterministicJobId('guest', record), record);
}

/** `count` jobs for distinct records named by `prefix`, one version each. */
function distinctJobs(prefix: string, count: number): CrmSyncJob[] {
  const base = Date.parse('2026-01-01T00:00:00.000Z');
  return Array.from({ length: count }, (_, i) => job(`${prefix}-${String(i).padStart(5, '0')}`, new Date(base + i * 1_000), TIERS[i % 3] as string, i));
}

/**
 * The backlog: one newest version per record, and for the first OUT_OF_ORDER_RECORDS
 * records two older versions (another tier each) placed after the newest, some within
 * the same receive batch (coalesced), most in later ones (superseded by the state table).
 */
function backlogJobs(prefix: string, records: number): CrmSyncJob[] {
  const newest = distinctJobs(prefix, records);
  const next = random(13);
  const slots: Array<CrmSyncJob[]> = newest.map((j) => [j]);
  for (let r = 0; r < Math.min(OUT_OF_ORDER_RECORDS, records); r += 1) {
    const latest = newest[r] as CrmSyncJob;
    const at = Date.parse(latest.record.sourceUpdatedAt);
    for (const [k, olderBy] of [
      [1, 300],
      [2, 600],
    ] as const) {
      const older = job(latest.record.externalId, new Date(at - olderBy), TIERS[(r + k) % 3] as string, r + k);
      const position = Math.min(records - 1, r + 1 + Math.floor(next() * records));
      (slots[position] as CrmSyncJob[]).push(older);
    }
  }
  return slots.flat();
}

/** Sends jobs in parallel streams of SendMessageBatch calls; resolves when SQS took all of them. */
async function enqueue(client: SQSClient, queueUrl: string, jobs: readonly CrmSyncJob[], streams = 8): Promise<void> {
  const size = Math.ceil(jobs.length / streams);
  const results = await Promise.all(
    Array.from({ length: streams }, (_, s) =>
      sendMessages(
        jobs.slice(s * size, (s + 1) * size).map((j) => ({ jobId: j.jobId, source: j.source, body: toMessageBody(j) })),
        { queueUrl, client, budgetMs: 60_000 },
      ),
    ),
  );
  const unsent = results.reduce((sum, result) => sum + result.unsent.length, 0);
  if (unsent > 0) throw new Error(`SQS did not take ${unsent} of ${jobs.length} jobs (${results.find((r) => r.reason)?.reason ?? 'no reason'})`);
}

async function depth(client: SQSClient, queueUrl: string): Promise<number> {
  const names = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...names] }));
  return names.reduce((sum, name) => sum + Number(Attributes?.[name] ?? 0), 0);
}

/** Waits until the queue is empty; false when it is not within DRAIN_TIMEOUT_MS. */
async function drained(client: SQSClient, queueUrl: string): Promise<boolean> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while ((await depth(client, queueUrl)) > 0) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** What the sandbox's state says about a set of jobs: lost, applied twice, moved back in time. */
interface Verdict {
  lost: number;
  deadLettered: number;
  appliedTwice: number;
  backInTime: number;
  writes: number;
  records: number;
}

function judge(provider: ProviderCase, view: SandboxView, jobs: readonly CrmSyncJob[], dlq: ReadonlySet<string>): Verdict {
  const newest = new Map<string, CrmSyncJob>();
  for (const j of jobs) {
    const held = newest.get(j.record.externalId);
    if (!held || held.record.sourceUpdatedAt < j.record.sourceUpdatedAt) newest.set(j.record.externalId, j);
  }
  let lost = 0;
  for (const j of jobs) {
    if (dlq.has(j.jobId)) continue;
    const stored = view.records[j.record.externalId];
    const at = stored?.fields[provider.sourceField];
    // Every job must be applied or superseded by a newer one that was: the record is at least as new.
    if (typeof at !== 'string' || at < j.record.sourceUpdatedAt) {
      lost += 1;
      continue;
    }
    // The newest job of a record must be what the record shows (its tier, not an older one's).
    if (newest.get(j.record.externalId) === j && (at !== j.record.sourceUpdatedAt || String(stored?.fields[provider.tierField]) !== String(j.record.attributes?.['tier']))) lost += 1;
  }
  let appliedTwice = 0;
  let backInTime = 0;
  let writes = 0;
  for (const externalId of newest.keys()) {
    const history = view.records[externalId]?.history ?? [];
    writes += history.length;
    if (new Set(history).size !== history.length) appliedTwice += 1;
    if (history.some((at, i) => i > 0 && at < (history[i - 1] as string))) backInTime += 1;
  }
  return { lost, deadLettered: jobs.filter((j) => dlq.has(j.jobId)).length, appliedTwice, backInTime, writes, records: newest.size };
}

/** The backlog run of one provider. */
interface BacklogRun extends Verdict {
  jobs: number;
  drainMs: number;
  drainedInTime: boolean;
  requests: number;
  accepted: number;
  refusals: number;
  /** Records the CRM wrote per second between its first and last upsert. */
  crmRecordsPerSecond: number;
  /** Records per second while the backlog lasted: 80 % of its records over the time from 10 % to 90 % of them written. */
  backlogRecordsPerSecond: number;
  /** Most upserts the CRM logged within any 10-second span. */
  fullestTenSeconds: number;
  /** When 10 %, half, 90 %, 99 % and all of the backlog's records were last written, from the resume (ms). */
  writtenMs: { p10: number; p50: number; p90: number; p99: number; all: number };
  /** Share of the drain the stack's main thread was busy (event source, control endpoint, SQS, sandbox): near 1, the stack and not the worker sets the pace. */
  mainThreadBusy: number;
  /** The same for each emulator's own thread (local/threads.ts). */
  threadsBusy: Array<{ what: string; utilization: number }>;
  /** Requests the state table (embedded DynamoDB) served during the drain, by operation. */
  stateTableRequests: Record<string, number>;
  /** CPU the stack's process (main thread and emulator threads; not serverless-offline) used during the drain, in cores. */
  stackCores: number;
}

/** The steady run of one provider. */
interface SteadyRun {
  offeredPerSecond: number;
  jobs: number;
  enqueueMs: number;
  latenciesMs: number[];
  lost: number;
  deadLettered: number;
  drainedInTime: boolean;
}

/** The upserts the sandbox logged since `sinceMs` (the log outlives each phase; nothing is reset, so tokens stay valid). */
/** The sandbox's state view (`GET /__sandbox/state` on the stack's CRM). */
async function sandboxState(stack: LocalStack): Promise<SandboxView> {
  const response = await fetch(`${stack.endpoints.crmUrl}/__sandbox/state`);
  if (response.status !== 200) throw new Error(`GET /__sandbox/state answered ${response.status}`);
  return (await response.json()) as SandboxView;
}

function upserts(provider: ProviderCase, view: SandboxView, sinceMs: number): RequestLogEntry[] {
  return view.requests.filter((entry) => entry.operation === provider.upsertOperation && Date.parse(entry.at) >= sinceMs);
}

async function runBacklog(provider: ProviderCase, stack: LocalStack, client: SQSClient, context: BenchContext): Promise<BacklogRun> {
  const jobs = backlogJobs(`${provider.provider}-backlog`, provider.backlogRecords);
  stack.setEventSourcesPaused(true);
  await enqueue(client, stack.endpoints.queueUrl, jobs);
  context.progress(`${provider.provider}: backlog of ${jobs.length} jobs queued; the worker drains it`);
  const started = performance.now();
  const since = Date.now();
  const loopBefore = performance.eventLoopUtilization();
  const threadsBefore = serverThreadLoads();
  const dynamoBefore = stack.dynamodb.operations();
  const cpuBefore = process.cpuUsage();
  stack.setEventSourcesPaused(false);
  const drainedInTime = await drained(client, stack.endpoints.queueUrl);
  const drainMs = performance.now() - started;
  const mainThreadBusy = performance.eventLoopUtilization(loopBefore).utilization;
  const threadsBusy = serverThreadLoads(threadsBefore).map(({ what, utilization }) => ({ what, utilization }));
  const dynamoAfter = stack.dynamodb.operations();
  const stateTableRequests = Object.fromEntries(
    Object.entries(dynamoAfter)
      .map(([operation, count]) => [operation, count - (dynamoBefore[operation] ?? 0)] as const)
      .filter(([, count]) => count > 0),
  );
  const cpu = process.cpuUsage(cpuBefore);
  const stackCores = (cpu.user + cpu.system) / 1000 / drainMs;
  const view = await sandboxState(stack);
  const verdict = judge(provider, view, jobs, await deadLetteredJobIds(client, stack.endpoints.dlqUrl));
  const calls = upserts(provider, view, since);
  const accepted = calls.filter((entry) => entry.status >= 200 && entry.status < 300);
  const times = accepted.map((entry) => Date.parse(entry.at)).sort((a, b) => a - b);
  const spanMs = (times.at(-1) ?? 0) - (times[0] ?? 0);
  // n accepted requests span n - 1 intervals: count the records of all but one of them.
  const crmRecordsPerSecond = spanMs > 0 && accepted.length > 1 ? (verdict.writes * ((accepted.length - 1) / accepted.length)) / (spanMs / 1000) : 0;
  const allTimes = calls.map((entry) => Date.parse(entry.at)).sort((a, b) => a - b);
  let fullestTenSeconds = 0;
  for (let i = 0, j = 0; i < allTimes.length; i += 1) {
    while ((allTimes[i] as number) - (allTimes[j] as number) >= 10_000) j += 1;
    fullestTenSeconds = Math.max(fullestTenSeconds, i - j + 1);
  }
  const writtenAt = [...new Set(jobs.map((j) => j.record.externalId))].map((id) => view.records[id]?.updatedAt).filter((at): at is string => at !== undefined).map((at) => Date.parse(at) - since);
  const writtenMs = { p10: percentile(writtenAt, 10), p50: percentile(writtenAt, 50), p90: percentile(writtenAt, 90), p99: percentile(writtenAt, 99), all: Math.max(0, ...writtenAt) };
  const central = writtenMs.p90 - writtenMs.p10;
  const backlogRecordsPerSecond = central > 0 ? (0.8 * writtenAt.length) / (central / 1000) : 0;
  context.progress(`${provider.provider}: drained in ${(drainMs / 1000).toFixed(1)} s, ${calls.length} upserts, ${verdict.lost} lost`);
  return {
    ...verdict,
    jobs: jobs.length,
    drainMs,
    drainedInTime,
    requests: calls.length,
    accepted: accepted.length,
    refusals: calls.filter(provider.refused).length,
    crmRecordsPerSecond,
    backlogRecordsPerSecond,
    fullestTenSeconds,
    writtenMs,
    mainThreadBusy,
    threadsBusy,
    stateTableRequests,
    stackCores,
  };
}

async function runSteady(provider: ProviderCase, stack: LocalStack, client: SQSClient, context: BenchContext): Promise<SteadyRun> {
  const offeredPerSecond = (provider.limitRequestsPerSecond * PROVIDER_BATCH_LIMITS[provider.provider]) / 2;
  const jobs = distinctJobs(`${provider.provider}-steady`, provider.steadyJobs);
  const perTick = Math.max(1, Math.round((offeredPerSecond * TICK_MS) / 1000));
  const acceptedAt = new Map<string, number>();
  const sends: Array<Promise<void>> = [];
  const started = performance.now();
  const startedAt = Date.now();
  for (let tick = 0; tick * perTick < jobs.length; tick += 1) {
    const wait = startedAt + tick * TICK_MS - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const group = jobs.slice(tick * perTick, (tick + 1) * perTick);
    // One stream per ten jobs: each SendMessageBatch call stamps its own jobs when SQS answers.
    for (let g = 0; g < group.length; g += 10) {
      const ten = group.slice(g, g + 10);
      sends.push(
        enqueue(client, stack.endpoints.queueUrl, ten, 1).then(() => {
          const now = Date.now();
          for (const j of ten) acceptedAt.set(j.jobId, now);
        }),
      );
    }
  }
  await Promise.all(sends);
  const enqueueMs = performance.now() - started;
  context.progress(`${provider.provider}: ${jobs.length} jobs at ${offeredPerSecond} records/s queued in ${(enqueueMs / 1000).toFixed(1)} s`);
  const drainedInTime = await drained(client, stack.endpoints.queueUrl);
  const view = await sandboxState(stack);
  const dlq = await deadLetteredJobIds(client, stack.endpoints.dlqUrl);
  const verdict = judge(provider, view, jobs, dlq);
  const latenciesMs: number[] = [];
  for (const j of jobs) {
    const stored = view.records[j.record.externalId];
    const at = acceptedAt.get(j.jobId);
    if (stored && at !== undefined && stored.fields[provider.sourceField] === j.record.sourceUpdatedAt) latenciesMs.push(Date.parse(stored.updatedAt) - at);
  }
  return { offeredPerSecond, jobs: jobs.length, enqueueMs, latenciesMs, lost: verdict.lost, deadLettered: verdict.deadLettered, drainedInTime };
}

interface ProviderResult {
  provider: ProviderCase;
  backlog: BacklogRun;
  steady: SteadyRun;
  totalMs: number;
}

async function runProvider(provider: ProviderCase, context: BenchContext): Promise<ProviderResult> {
  const began = performance.now();
  context.progress(`${provider.provider}: starting a local stack (CRM_PROVIDER=${provider.provider})`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    LOG_LEVEL: 'WARN',
    CRM_PROVIDER: provider.provider,
    // The provider's batch maximum, stated (the local stack's own CRM defaults are the rest sandbox's).
    CRM_BATCH_SIZE: String(PROVIDER_BATCH_LIMITS[provider.provider]),
  };
  // Nothing may point the adapter away from the stack's sandbox. CRM_MAX_REQUESTS_PER_SECOND
  // stays unset, as deployed: the worker runs at the provider's default rate
  // (PROVIDER_REQUESTS_PER_SECOND, e.g. HubSpot's 4.75/s, which the variable, an integer, cannot state).
  for (const name of ['CRM_BASE_URL', 'CRM_TOKEN_URL', 'DYNAMICS_URL', 'LOCAL_SECRETS_FILE', 'CRM_MAX_REQUESTS_PER_SECOND']) delete env[name];
  const stack = await startLocalStack({
    ...(await freeStackPorts()),
    writeStackFile: false,
    offlineOutput: `.local/bench-crm-providers-${provider.provider}-offline.log`,
    env,
  });
  try {
    if (!stack.endpoints.sandboxCrm || stack.endpoints.crmProvider !== provider.provider) throw new Error(`${provider.provider}: the local stack did not start the ${provider.provider} sandbox`);
    const client = localSqsClient(stack.endpoints.sqsEndpoint);
    try {
      // Both worker containers started (bundle, secret, token) before anything is measured.
      await enqueue(client, stack.endpoints.queueUrl, distinctJobs(`${provider.provider}-warm-up`, WARM_UP_JOBS));
      if (!(await drained(client, stack.endpoints.queueUrl))) throw new Error(`${provider.provider}: the warm-up did not drain`);
      const backlog = await runBacklog(provider, stack, client, context);
      const steady = await runSteady(provider, stack, client, context);
      return { provider, backlog, steady, totalMs: performance.now() - began };
    } finally {
      client.destroy();
    }
  } finally {
    await stack.stop();
  }
}

const percent = (value: number): string => `${(value * 100).toFixed(1)}%`;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const count = (value: number): string => value.toLocaleString('en-US');
const met = (ok: boolean): string => (ok ? 'met' : '**not met**');

/** The CRM providers benchmark, registered in bench/list.ts. */
export const crmProvidersBenchmark: Benchmark = {
  name: 'crm-providers',
  async run(context) {
    // BENCH_CRM_PROVIDERS=hubspot,dynamics runs only those (a quick look; commit only full runs).
    const only = process.env['BENCH_CRM_PROVIDERS']?.split(',').map((name) => name.trim()).filter(Boolean);
    const results: ProviderResult[] = [];
    for (const provider of PROVIDERS.filter((p) => !only?.length || only.includes(p.provider))) results.push(await runProvider(provider, context));

    const limitOf = (p: ProviderCase): number => p.limitRequestsPerSecond * PROVIDER_BATCH_LIMITS[p.provider];
    const lines = [
      '## CRM providers: HubSpot, Salesforce and Dynamics 365 at their limits',
      '',
      `Per provider, a local stack of its own with \`CRM_PROVIDER\` set and that provider's sandbox (local/sandbox/crm-providers), the worker as serverless.yml declares it (event source batch size per provider from \`custom.crmSync.batchSizes\`: HubSpot 400, Salesforce 800, Dynamics 365 400, four chunks each; batching window 1 s; maximumConcurrency ${MAX_CONCURRENCY}) with the provider's defaults: \`CRM_BATCH_SIZE\` = its batch maximum, \`CRM_MAX_REQUESTS_PER_SECOND\` = its default per container (lib/crm/adapter.ts). After a warm-up of ${WARM_UP_JOBS} jobs (both containers started, tokens fetched), each phase writes records of its own and reads only its own upserts from the log:`,
      '',
      `1. **Backlog at the limit.** The event source is paused, the backlog is queued (one job per record, plus two older versions of the first ${OUT_OF_ORDER_RECORDS} records, each placed after the newest one: some in the same receive batch, most later), the event source resumes and the clock runs until the queue is empty. Counted from the sandbox's state view: its request log (upsert answers, rate-limit refusals) and each record's write history (the \`sourceUpdatedAt\` of every write). **Records/s under the backlog** (the goal's figure) are 80 % of the backlog's records over the time from 10 % to 90 % of them having their last write: the pace while there is a backlog, without the start (containers taking their first batches) or the end (the last receive batch is partial and waits out the 1 s batching window, as Lambda's does); the limit is its requests per second x the provider's batch maximum. "First to last upsert" counts all the records the CRM wrote between its first and last accepted upsert (n requests span n - 1 intervals), start and end included. "Records written by" is when 10 %, half, 90 %, 99 % and all of the backlog's records had their last write, counted from the resume. A job is lost when neither it nor a newer version of its record is in the CRM (and it is not in the DLQ), or when the newest version's own values are not what the record shows; a record is applied twice when one version appears twice in its history, moved back in time when its history ever decreases. "Stack: main thread busy / CPU" says whether the local stack rather than the worker set the pace: the share of the drain the stack's main thread was busy (its event-loop utilization: the event source's receives and deletes, the control endpoint), and the CPU the stack's process used, in cores (the main thread and the emulators' own threads: embedded SQS, embedded DynamoDB, the CRM sandbox; the worker runs in serverless-offline, another process); "emulator threads busy" is the event-loop utilization of each of those threads; "state table requests" are the requests the embedded DynamoDB served during the drain, by operation.`,
      `2. **Steady at 50 %.** Distinct records enqueued every ${TICK_MS} ms at half the limit's records/s; latency is from the moment SQS answered the job's SendMessageBatch (what the intake routes wait for before answering 202) to the record's \`updatedAt\` in the sandbox (same clock).`,
      '',
      table(
        ['provider', 'limit', 'limit at batch max', 'jobs (records)', 'drain', 'records written by (10 % / 50 % / 90 % / 99 % / all)', 'upserts', 'records per upsert', 'most upserts in 10 s', 'records/s under the backlog', 'share of limit', 'records/s first to last upsert', 'refusals', 'share refused', 'lost', 'in DLQ', 'applied twice', 'back in time', 'stack: main thread busy / CPU', 'emulator threads busy', 'state table requests'],
        results.map(({ provider: p, backlog: b }) => [
          p.title,
          `${p.limit}: ${p.limitRequestsPerSecond} req/s`,
          `${count(limitOf(p))} records/s (${PROVIDER_BATCH_LIMITS[p.provider]} per call)`,
          `${count(b.jobs)} (${count(b.records)})`,
          `${seconds(b.drainMs)}${b.drainedInTime ? '' : ' (not drained)'}`,
          `${seconds(b.writtenMs.p10)} / ${seconds(b.writtenMs.p50)} / ${seconds(b.writtenMs.p90)} / ${seconds(b.writtenMs.p99)} / ${seconds(b.writtenMs.all)}`,
          count(b.requests),
          b.accepted > 0 ? (b.writes / b.accepted).toFixed(1) : 'n/a',
          count(b.fullestTenSeconds),
          b.backlogRecordsPerSecond.toFixed(0),
          percent(b.backlogRecordsPerSecond / limitOf(p)),
          `${b.crmRecordsPerSecond.toFixed(0)} (${percent(b.crmRecordsPerSecond / limitOf(p))})`,
          count(b.refusals),
          percent(b.requests > 0 ? b.refusals / b.requests : 0),
          count(b.lost),
          count(b.deadLettered),
          count(b.appliedTwice),
          count(b.backInTime),
          `${percent(b.mainThreadBusy)} / ${b.stackCores.toFixed(2)} cores`,
          b.threadsBusy.length > 0 ? b.threadsBusy.map(({ what, utilization }) => `${what} ${percent(utilization)}`).join(', ') : 'none (all on the main thread)',
          Object.entries(b.stateTableRequests).map(([operation, n]) => `${operation} ${count(n)}`).join(', '),
        ]),
        ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'l'],
      ),
      '',
      table(
        ['provider', 'offered (50 % of the limit)', 'jobs', 'queued in', 'p50 accepted -> in CRM', 'p99', 'max', 'lost', 'in DLQ'],
        results.map(({ provider: p, steady: s }) => [
          p.title,
          `${count(s.offeredPerSecond)} records/s`,
          count(s.jobs),
          seconds(s.enqueueMs),
          `${count(percentile(s.latenciesMs, 50))} ms`,
          `${count(percentile(s.latenciesMs, 99))} ms`,
          `${count(Math.max(0, ...s.latenciesMs))} ms${s.drainedInTime ? '' : ' (not drained)'}`,
          count(s.lost),
          count(s.deadLettered),
        ]),
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
      '',
      ...results.map(({ provider: p, backlog: b, steady: s, totalMs }) => {
        const share = b.backlogRecordsPerSecond / limitOf(p);
        const refused = b.requests > 0 ? b.refusals / b.requests : 0;
        return `- ${p.title} (${seconds(totalMs)} with the stack's start): share of the limit under the backlog at least 90%: ${met(share >= 0.9)}; under 1% rate-limit refusals: ${met(refused < 0.01)}; no job lost: ${met(b.lost === 0 && s.lost === 0)}; none applied twice: ${met(b.appliedTwice === 0)}; none moved back in time: ${met(b.backInTime === 0)}.`;
      }),
      '',
      `Records per upsert show what a chunk actually held: below the batch maximum when a receive batch ends mid-chunk or older versions coalesce into their newest.`,
    ];
    return lines.join('\n');
  },
};
