/**
 * Benchmark: Genesys conversation events through the local event bus (docs/api.md sections
 * 3 and 9), on a local stack of its own. Each conversation is the story of
 * test/integration/events.test.ts: a prefill (machine JWT), then the guest's first message
 * through the sandbox Genesys Messenger simulator with the attributes the page holds,
 * either as prepared or with one prepared attribute altered in the browser ("tampered").
 * The sandbox publishes the conversation's events to the local event bus, which invokes
 * the events function as serverless.yml's EventBridge rule would; it re-asserts the prepared
 * attributes with a participant PATCH and queues the CRM job.
 *
 * Every time is read from what the sandboxes recorded, on this machine's clock (the stack's
 * sandboxes run in this process): the Genesys request log (`at` of the function's
 * `getConversation` and of its successful `patchConversationParticipantAttributes`), the
 * Genesys event list, and the CRM record's `updatedAt`. The state views are read once, after
 * everything has settled.
 */
import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { CrmSandboxState, GenesysSandboxState, RequestLogEntry } from '#local/sandbox/index.ts';
import { freeStackPorts, startLocalStack, type LocalStack } from '#local/stack.ts';
import { localSqsClient } from '#local/sqs.ts';
import { mintLocalToken } from '#local/tokens.ts';
import { table } from './support/markdown.ts';
import { percentile } from './support/stats.ts';
import type { Benchmark, BenchContext } from './support/types.ts';

/** Conversations per kind (`BENCH_EVENTS_CONVERSATIONS` sets another count, for a quick look). */
const PER_KIND = positiveInteger(process.env['BENCH_EVENTS_CONVERSATIONS'], 200);
/** Unmeasured conversations first: the functions' containers start, the Genesys token is fetched. */
const WARM_UP = 16;
/** A new first message every PACE_MS (open loop: the pace does not wait for the events path). */
const PACE_MS = 125;
/** Prefill requests in flight at once. */
const PREFILL_CONCURRENCY = 8;
/** Quiet time after the last event, so a loop (an event or PATCH answering the echo) has time to show. */
const LOOP_WATCH_MS = 3_000;
const SETTLE_TIMEOUT_MS = 120_000;
const PATCH = 'patchConversationParticipantAttributes';
const GET_CONVERSATION = 'getConversation';

function positiveInteger(raw: string | undefined, fallback: number): number {
  const value = Number(raw);
  return Number.isInteger(value) && value > 0 && value <= 10_000 ? value : fallback;
}

/** What the guest's browser does with the prepared attributes. */
type Kind = 'untampered' | 'tampered';

/** One conversation of the run. */
interface Plan {
  kind: Kind;
  /** Whether Genesys also publishes an `attributes` event for the first message's custom attributes. */
  attributesEvent: boolean;
  sessionId: string;
  prepared: Record<string, string>;
  /** What the page passes to `Database.set` (the prefill's `customAttributes`, maybe altered). */
  sent?: Record<string, string>;
  /** Which prepared attribute the browser altered. */
  altered?: string;
  conversationId?: string;
  /** When the simulator answered the first message (epoch ms). */
  startedAt?: number;
}

/** The plans in interleaved order: untampered, tampered, each with and without the start's `attributes` event. */
function plans(count: number, offset: number): Plan[] {
  const variants: Array<Pick<Plan, 'kind' | 'attributesEvent'>> = [
    { kind: 'untampered', attributesEvent: false },
    { kind: 'tampered', attributesEvent: false },
    { kind: 'untampered', attributesEvent: true },
    { kind: 'tampered', attributesEvent: true },
  ];
  return Array.from({ length: count }, (_, i) => ({
    ...(variants[i % variants.length] as Pick<Plan, 'kind' | 'attributesEvent'>),
    sessionId: randomUUID(),
    prepared: { customerId: `C-${String(offset + i).padStart(5, '0')}`, loyaltyTier: ['standard', 'gold', 'platinum'][i % 3] as string },
  }));
}

/** The prepared attributes, one of them altered in the browser (loyalty tier or customer id, in turn). */
function tamper(plan: Plan, customAttributes: Record<string, string>, i: number): Record<string, string> {
  const key = i % 4 < 2 ? 'loyaltyTier' : 'customerId';
  plan.altered = key;
  return { ...customAttributes, [key]: key === 'loyaltyTier' ? `${customAttributes[key]}-upgraded` : 'C-99999' };
}

/** POST /sessions/{sessionId}/prefill; keeps the `customAttributes` the page would pass on. */
async function prefill(stack: LocalStack, token: string, plan: Plan, i: number): Promise<void> {
  const response = await fetch(`${stack.endpoints.apiUrl}/sessions/${plan.sessionId}/prefill`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ attributes: plan.prepared }),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`prefill answered ${response.status}: ${text.slice(0, 300)}`);
  const { customAttributes } = JSON.parse(text) as { customAttributes: Record<string, string> };
  plan.prepared = { ...customAttributes };
  plan.sent = plan.kind === 'tampered' ? tamper(plan, customAttributes, i) : { ...customAttributes };
}

/** The guest's first message through the Messenger simulator; stamps the simulator's answer. */
async function firstMessage(stack: LocalStack, plan: Plan): Promise<void> {
  const response = await fetch(`${stack.endpoints.genesysUrl}/__sandbox/messenger/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customAttributes: plan.sent, attributesEvent: plan.attributesEvent }),
  });
  const startedAt = Date.now();
  const text = await response.text();
  if (response.status !== 201) throw new Error(`the Messenger simulator answered ${response.status}: ${text.slice(0, 300)}`);
  plan.conversationId = (JSON.parse(text) as { conversationId: string }).conversationId;
  plan.startedAt = startedAt;
}

/** Runs `work` over `items` with at most `concurrency` at once. */
async function pool<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next;
        next += 1;
        await work(items[index] as T, index);
      }
    }),
  );
}

/** What this benchmark reads of the sandbox Genesys's state view. */
type GenesysView = Pick<GenesysSandboxState, 'conversations' | 'events' | 'requests'>;

/** What this benchmark reads of the sandbox CRM's state view. */
type CrmView = Pick<CrmSandboxState, 'records'>;

type ConversationEvent = GenesysView['events'][number];

/** The conversation a Genesys API path names (`/api/v2/conversations/{id}...`), if any. */
const conversationOfPath = (path: string): string | undefined => /^\/api\/v2\/conversations\/([^/]+)/.exec(path)?.[1];

async function view<T>(url: string): Promise<T> {
  const response = await fetch(`${url}/__sandbox/state`);
  if (response.status !== 200) throw new Error(`GET ${url}/__sandbox/state answered ${response.status}`);
  return (await response.json()) as T;
}

async function eventBusStats(stack: LocalStack): Promise<{ received: number; inFlight: number; delivered: number; retried: number; deadLettered: number }> {
  return (await (await fetch(`${stack.endpoints.eventBusUrl}/__local/stats`)).json()) as never;
}

async function depth(client: SQSClient, queueUrl: string): Promise<number> {
  const names = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...names] }));
  return names.reduce((sum, name) => sum + Number(Attributes?.[name] ?? 0), 0);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the event bus has delivered every event and the CRM sync queue is empty, and
 * both stay so for LOOP_WATCH_MS (nothing new arrives: no loop is still turning).
 */
async function settled(stack: LocalStack, sqs: SQSClient): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  let quietSince: number | undefined;
  let lastReceived = -1;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`the events path did not settle within ${SETTLE_TIMEOUT_MS / 1000} s`);
    const bus = await eventBusStats(stack);
    const idle = bus.inFlight === 0 && (await depth(sqs, stack.endpoints.queueUrl)) === 0;
    if (idle && bus.received === lastReceived) {
      quietSince ??= Date.now();
      if (Date.now() - quietSince >= LOOP_WATCH_MS) return;
    } else {
      quietSince = undefined;
    }
    lastReceived = bus.received;
    await sleep(200);
  }
}

/** What the sandboxes say about one conversation. */
interface Outcome {
  plan: Plan;
  /** First message -> the events function's `getConversation` answered (ms). */
  readMs?: number;
  /** First message -> the first successful PATCH answered (tampered; ms). */
  reassertedMs?: number;
  /** First message -> the CRM record linked to the conversation (its `updatedAt`; ms). */
  crmMs?: number;
  patches: number;
  /** PATCHes beyond one per event that brought the browser's values (echo-driven: a loop). */
  loopPatches: number;
  /** Events beyond customer.start, the start's `attributes` event and one echo per PATCH. */
  extraEvents: number;
  /** Whether the participant ends with every prepared value (and the prepared `gsRef`). */
  holdsPrepared: boolean;
}

function judge(plans: readonly Plan[], genesys: GenesysView, crm: CrmView): Outcome[] {
  const logOf = new Map<string, RequestLogEntry[]>();
  for (const entry of genesys.requests) {
    const id = conversationOfPath(entry.path);
    if (id) logOf.set(id, [...(logOf.get(id) ?? []), entry]);
  }
  const eventsOf = new Map<string, ConversationEvent[]>();
  for (const event of genesys.events) {
    const id = /conversation\.([^.]+)\./.exec(event.detail.topicName)?.[1];
    if (id) eventsOf.set(id, [...(eventsOf.get(id) ?? []), event]);
  }
  return plans.map((plan) => {
    const id = plan.conversationId as string;
    const t0 = plan.startedAt as number;
    const log = logOf.get(id) ?? [];
    const ok = (entry: RequestLogEntry): boolean => entry.status >= 200 && entry.status < 300;
    const patches = log.filter((entry) => entry.operation === PATCH);
    const firstOk = (operation: string): number | undefined => {
      const times = log.filter((entry) => entry.operation === operation && ok(entry)).map((entry) => Date.parse(entry.at));
      return times.length > 0 ? Math.min(...times) : undefined;
    };
    const read = firstOk(GET_CONVERSATION);
    const patched = firstOk(PATCH);
    const events = eventsOf.get(id) ?? [];
    // Events that carried the browser's values into the function: customer.start (it reads the participant) and the start's attributes event.
    const browserEvents = 1 + (plan.attributesEvent ? 1 : 0);
    const expectedEvents = browserEvents + patches.filter(ok).length;
    const record = crm.records[plan.sessionId];
    const linked = record?.record.channelContext?.['conversationId'] === id;
    const participant = genesys.conversations[id]?.customer.attributes ?? {};
    return {
      plan,
      ...(read === undefined ? {} : { readMs: read - t0 }),
      ...(patched === undefined ? {} : { reassertedMs: patched - t0 }),
      ...(linked ? { crmMs: Date.parse(record.updatedAt) - t0 } : {}),
      patches: patches.length,
      loopPatches: Math.max(0, patches.length - (plan.kind === 'tampered' ? browserEvents : 0)),
      extraEvents: Math.max(0, events.length - expectedEvents),
      holdsPrepared: Object.entries(plan.prepared).every(([key, value]) => participant[key] === value),
    };
  });
}

interface RunResult {
  outcomes: Outcome[];
  prefillSeconds: number;
  messagesSeconds: number;
  totalSeconds: number;
  bus: Awaited<ReturnType<typeof eventBusStats>>;
  crmDlq: number;
  genesysLogTruncated: boolean;
}

/** Prefills every plan and waits until the CRM holds each prefill's record (so the link's write is the record's last). */
async function prepare(stack: LocalStack, token: string, all: Plan[], context: BenchContext): Promise<void> {
  await pool(all, PREFILL_CONCURRENCY, (plan, i) => prefill(stack, token, plan, i));
  context.progress(`events: ${all.length} sessions prefilled; waiting until the CRM holds their records`);
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const { records } = await view<CrmView>(stack.endpoints.crmUrl);
    const missing = all.filter((plan) => records[plan.sessionId] === undefined).length;
    if (missing === 0) return;
    if (Date.now() > deadline) throw new Error(`${missing} prefill records did not reach the CRM`);
    await sleep(500);
  }
}

/** Sends the first messages one every PACE_MS (open loop). */
async function converse(stack: LocalStack, all: Plan[]): Promise<void> {
  const began = Date.now();
  const sends: Array<Promise<void>> = [];
  for (let i = 0; i < all.length; i += 1) {
    const wait = began + i * PACE_MS - Date.now();
    if (wait > 0) await sleep(wait);
    sends.push(firstMessage(stack, all[i] as Plan));
  }
  await Promise.all(sends);
}

async function run(context: BenchContext): Promise<RunResult> {
  const began = performance.now();
  context.progress('events: starting a local stack');
  const stack = await startLocalStack({
    ...(await freeStackPorts()),
    writeStackFile: false,
    offlineOutput: '.local/bench-events-offline.log',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', LOG_LEVEL: 'WARN' },
  });
  const sqs = localSqsClient(stack.endpoints.sqsEndpoint);
  try {
    if (!stack.endpoints.sandboxGenesys || !stack.endpoints.sandboxCrm) throw new Error('the local stack did not start its Genesys and CRM sandboxes');
    const token = await mintLocalToken({ sub: 'bench-events', scope: 'guest-sync/write', audience: 'machine', expiresInSeconds: 3_600 });

    context.progress(`events: warm-up, ${WARM_UP} conversations`);
    const warmUp = plans(WARM_UP, 90_000);
    await prepare(stack, token, warmUp, context);
    await converse(stack, warmUp);
    await settled(stack, sqs);

    const busBefore = await eventBusStats(stack);
    const measured = plans(PER_KIND * 2, 0);
    context.progress(`events: ${measured.length} prefills`);
    const prefillStart = performance.now();
    await prepare(stack, token, measured, context);
    const prefillSeconds = (performance.now() - prefillStart) / 1000;
    context.progress(`events: ${measured.length} first messages, one every ${PACE_MS} ms`);
    const messagesStart = performance.now();
    await converse(stack, measured);
    await settled(stack, sqs);
    const messagesSeconds = (performance.now() - messagesStart) / 1000;

    const [genesys, crm, busAfter] = await Promise.all([view<GenesysView>(stack.endpoints.genesysUrl), view<CrmView>(stack.endpoints.crmUrl), eventBusStats(stack)]);
    // What the bus did for the measured conversations (the warm-up's cold starts left out).
    const bus = { ...busAfter, received: busAfter.received - busBefore.received, delivered: busAfter.delivered - busBefore.delivered, retried: busAfter.retried - busBefore.retried, deadLettered: busAfter.deadLettered - busBefore.deadLettered };
    // The Genesys request log keeps only its newest lines: while it still holds a line of the
    // warm-up, it holds every line of the measured conversations.
    const warmUpIds = new Set(warmUp.map((plan) => plan.conversationId));
    const genesysLogTruncated = !genesys.requests.some((entry) => warmUpIds.has(conversationOfPath(entry.path)));
    return {
      outcomes: judge(measured, genesys, crm),
      prefillSeconds,
      messagesSeconds,
      totalSeconds: (performance.now() - began) / 1000,
      bus,
      crmDlq: await depth(sqs, stack.endpoints.dlqUrl),
      genesysLogTruncated,
    };
  } finally {
    sqs.destroy();
    await stack.stop();
  }
}

const count = (value: number): string => value.toLocaleString('en-US');
const millis = (value: number): string => (Number.isFinite(value) ? `${count(Math.round(value))} ms` : 'n/a');
const met = (ok: boolean): string => (ok ? 'met' : '**not met**');

/** `p50 / p99 / max` of the defined samples, with how many there are when some are missing. */
function spread(samples: ReadonlyArray<number | undefined>): string {
  const present = samples.filter((value): value is number => value !== undefined);
  if (present.length === 0) return 'none';
  const text = `${millis(percentile(present, 50))} / ${millis(percentile(present, 99))} / ${millis(Math.max(...present))}`;
  return present.length === samples.length ? text : `${text} (${present.length} of ${samples.length})`;
}

/** `n x k` for each PATCH count k, e.g. `0: 3, 1: 197`. */
function distribution(values: readonly number[]): string {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([value, n]) => `${value}: ${count(n)}`)
    .join(', ');
}

function section(result: RunResult): string {
  const groups: Array<{ label: string; kind: Kind; goal: number; of: Outcome[] }> = [];
  for (const kind of ['untampered', 'tampered'] as const) {
    const goal = kind === 'tampered' ? 2 : 1;
    const ofKind = result.outcomes.filter((o) => o.plan.kind === kind);
    groups.push({ label: `**${kind}** (all)`, kind, goal, of: ofKind });
    groups.push({ label: `${kind}, customer.start only`, kind, goal, of: ofKind.filter((o) => !o.plan.attributesEvent) });
    groups.push({ label: `${kind}, customer.start + attributes`, kind, goal, of: ofKind.filter((o) => o.plan.attributesEvent) });
  }
  const rows = groups.map(({ label, kind, goal, of }) => {
    const patches = of.map((o) => o.patches);
    const maxPatches = Math.max(0, ...patches);
    return [
      label,
      count(of.length),
      spread(of.map((o) => o.readMs)),
      kind === 'tampered' ? spread(of.map((o) => o.reassertedMs)) : 'held from the first message (no PATCH due)',
      spread(of.map((o) => o.crmMs)),
      `${maxPatches} (goal <= ${goal}: ${met(maxPatches <= goal)})`,
      distribution(patches),
      count(of.filter((o) => o.loopPatches > 0 || o.extraEvents > 0).length),
      count(of.filter((o) => !o.holdsPrepared).length),
      count(of.filter((o) => o.crmMs === undefined).length),
    ];
  });
  const all = result.outcomes;
  const untampered = all.filter((o) => o.plan.kind === 'untampered');
  const tampered = all.filter((o) => o.plan.kind === 'tampered');
  const loops = all.filter((o) => o.loopPatches > 0 || o.extraEvents > 0).length;
  const wrong = all.filter((o) => !o.holdsPrepared).length;
  const unlinked = all.filter((o) => o.crmMs === undefined).length;
  return [
    '## Genesys conversation events: first message to re-asserted attributes and to the CRM',
    '',
    `A local stack of its own (the sandbox Genesys publishing to the local event bus, which invokes the events function in serverless-offline as serverless.yml's EventBridge rule would; the state table; the embedded SQS queue and the CRM sync worker with its 1 s batching window; the sandbox CRM), all on 127.0.0.1. Each conversation is the story of test/integration/events.test.ts: \`POST /sessions/{sessionId}/prefill\` with a machine JWT (two prepared attributes, \`customerId\` and \`loyaltyTier\`), then the guest's first message through the Messenger simulator with the \`customAttributes\` the page holds: as prepared (**untampered**), or with one prepared attribute altered in the browser (**tampered**: the loyalty tier or the customer id, in turn). Half of each kind also has Genesys publish an \`attributes\` event for the first message's custom attributes next to \`customer.start\` (the function must not depend on it; when both arrive, each carries the browser's values and each may PATCH once, hence the goal of at most 2 PATCHes when something was tampered with). After ${WARM_UP} unmeasured conversations (containers started, Genesys token fetched), ${count(all.length)} sessions are prefilled (${PREFILL_CONCURRENCY} at a time, ${result.prefillSeconds.toFixed(1)} s) and the benchmark waits until the CRM holds each prefill's record, so the conversation's link is each record's last write; then the first messages go out interleaved (untampered, tampered, each with and without the \`attributes\` event), one every ${PACE_MS} ms whatever the events path is doing (open loop), and the run waits until the event bus has delivered everything, the CRM sync queue is empty and ${LOOP_WATCH_MS / 1000} s pass with no new event (${result.messagesSeconds.toFixed(1)} s). Every time is from the simulator's answer to the first message to a time the sandboxes recorded on the same clock, read once from their state views at the end: **participant read** is when the sandbox answered the events function's \`getConversation\` (its request log); **re-asserted** is when it answered the first successful participant PATCH (from then on the participant holds the prepared value again); **CRM** is the \`updatedAt\` of the session's CRM record once it names the conversation. PATCHes per conversation are counted in the Genesys request log (\`${PATCH}\`, any status). A **loop** is a conversation with a PATCH beyond one per event that brought the browser's values (\`customer.start\`, and the start's \`attributes\` event) or with an event beyond those and one echo per PATCH. Cells are p50 / p99 / max.`,
    '',
    table(
      ['conversations', 'n', 'participant read', 're-asserted', 'CRM record linked', 'max PATCHes', 'PATCHes per conversation (PATCHes: conversations)', 'loops', 'not ending with every prepared value', 'CRM record not linked'],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'l', 'r', 'r', 'r'],
    ),
    '',
    `- Events of the measured conversations through the bus: ${count(result.bus.received)} received, ${count(result.bus.delivered)} delivered, ${count(result.bus.retried)} retried, ${count(result.bus.deadLettered)} dead-lettered (a retry is a delivery the events function failed and EventBridge sent again); CRM sync DLQ: ${count(result.crmDlq)}.${result.genesysLogTruncated ? ' **The Genesys request log overflowed: PATCH counts are incomplete.**' : ''} ${result.totalSeconds.toFixed(1)} s with the stack's start.`,
    `- At most 1 PATCH per untampered conversation: ${met(Math.max(0, ...untampered.map((o) => o.patches)) <= 1)}; at most 2 per tampered conversation: ${met(Math.max(0, ...tampered.map((o) => o.patches)) <= 2)}; no loop: ${met(loops === 0)}; every participant ends with every prepared value: ${met(wrong === 0)}; every CRM record linked to its conversation: ${met(unlinked === 0)}.`,
  ].join('\n');
}

/** The conversation events benchmark, registered in bench/list.ts. */
export const eventsBenchmark: Benchmark = {
  name: 'events',
  async run(context) {
    return section(await run(context));
  },
};
