/**
 * The demo's core, separate from starting a stack so tests run it against theirs: tells
 * the real story on a running local stack with the sample events in `events/`: prefill
 * prepares a session's attributes, the guest's first message (the sandbox's Messenger
 * simulator) carries them into a conversation, the inbound flow's Data Action enriches
 * it, a guest is created and updated while another writer changes it, the widget gets its
 * configuration; then it makes the CRM refuse one record, waits until the CRM sync
 * settles, reads the sandbox CRM and the DLQ, builds a fresh metrics report, and judges
 * everything against the README.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { localEmfSource, produceReport, reportStamp, reportWindow } from '#lib/report';
import { signPayload } from '#lib/webhook/signature.ts';
import { localSqsClient } from '#local/sqs.ts';
import type { StackEndpoints } from '#local/stack.ts';
import { mintLocalToken } from '#local/tokens.ts';
import { readDeadLetters, type DeadLetter } from './dlq.ts';
import { control, failStep, getJson, send, type DemoRequest, type DemoStep } from './requests.ts';

/** The code the CRM sandbox is told to refuse the demo's doomed record with. */
export const DEMO_REJECTION_CODE = 'VALIDATION_ERROR';

/** The customer the pre-chat sample finds in the CRM (its email is the sample's). */
export const DEMO_CUSTOMER = { id: 'cust-1001', email: 'john.doe@example.com', firstName: 'John', lastName: 'Doe', loyaltyTier: 'platinum' };

/**
 * What another writer (an agent, another integration) changes on the guest's external
 * contact between the demo's create and its update: the campaign custom field.
 */
const OTHER_WRITER_CAMPAIGN = 'AGENT-SET';
const OTHER_WRITER_CHANGE = { customFields: { campaignId_identifier: OTHER_WRITER_CAMPAIGN } };

/** What the guest types over one prepared attribute in the browser before the first message. */
const TAMPERED_VALUE = 'edited-in-devtools';

/** What the Messenger simulator answers when a guest's first message starts a conversation. */
interface StartedConversation {
  conversationId: string;
  customerParticipantId: string;
  conversation: { participants?: Array<{ id: string; purpose?: string; attributes?: Record<string, string> }> };
}

/** Options of `runDemo`. */
export interface DemoOptions {
  /** Where `events/` is and relative paths start (default: the current directory). */
  cwd?: string;
  /** Folder for the fresh metrics report (default `reports/`). */
  reportDir?: string;
  /** Upper bound for the CRM sync to settle (default 60 s). */
  settleTimeoutMs?: number;
  /** Progress lines while the demo runs. */
  log?: (line: string) => void;
  /**
   * Whether to call `GET /widget/config` (default true). A successful call makes the warm
   * widget function trust the deployment as Active for 5 minutes, so tests sharing a stack
   * with tests that pause the deployment leave it out.
   */
  widget?: boolean;
}

/** A record in the sandbox CRM the demo expected (or found). */
export interface CrmRow {
  externalId: string;
  /** What put it there (prefill + webhook, guest, prechat). */
  from: string;
  found: boolean;
  versions?: number;
  emailHash?: string;
  phoneHash?: string;
  sourceUpdatedAt?: string;
  /** Attribute names the record carries (never values). */
  attributeKeys?: string[];
  ok: boolean;
  note?: string;
}

/** A DLQ message and how the demo judged it. */
export interface DlqRow extends DeadLetter {
  /** `expected`: the record the demo made the CRM refuse; `earlier`: in the DLQ before this run; `unexpected`: a new one. */
  verdict: 'expected' | 'earlier' | 'unexpected';
}

/** Everything the demo did and found. */
export interface DemoResult {
  ok: boolean;
  steps: DemoStep[];
  settled: boolean;
  settleMs: number;
  records: CrmRow[];
  duplicateApplications: string[];
  dlq: DlqRow[];
  /** The job id the CRM was told to refuse, and whether it reached the DLQ with the reason. */
  rejectedJobId?: string;
  report?: { markdown: string; html: string; json: string; health?: string };
  problems: string[];
}

interface ApiGatewaySample {
  rawPath: string;
  body?: string | null;
  headers?: Record<string, string>;
  requestContext?: { authorizer?: { jwt?: { claims?: Record<string, unknown> } } };
}

const readEvent = async (cwd: string, name: string): Promise<ApiGatewaySample> =>
  JSON.parse(await readFile(join(cwd, 'events', name), 'utf8')) as ApiGatewaySample;

const bodyOf = (sample: ApiGatewaySample): unknown => (sample.body ? (JSON.parse(sample.body) as unknown) : undefined);

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** The webhook secret the stack verifies with now (its Secrets Manager), else the sample file's. */
async function webhookSecret(endpoints: StackEndpoints, cwd: string): Promise<string> {
  const client = new SecretsManagerClient({
    endpoint: endpoints.secretsEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: endpoints.secretIds.webhook }));
    const value = (JSON.parse(SecretString ?? '{}') as { signingSecret?: unknown }).signingSecret;
    if (typeof value === 'string' && value !== '') return value;
  } catch {
    // fall back to the sample file below
  } finally {
    client.destroy();
  }
  const sample = JSON.parse(await readFile(join(cwd, 'local', 'secrets.sample.json'), 'utf8')) as Record<string, { signingSecret?: string }>;
  return sample[endpoints.secretIds.webhook]?.signingSecret ?? '';
}

async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return (
    Number(Attributes?.['ApproximateNumberOfMessages'] ?? 0) +
    Number(Attributes?.['ApproximateNumberOfMessagesNotVisible'] ?? 0) +
    Number(Attributes?.['ApproximateNumberOfMessagesDelayed'] ?? 0)
  );
}

interface SourceStats {
  received: number;
  deleted: number;
  failed: number;
}

/**
 * Waits until the queue is empty (visible, in flight, delayed) and every event source has
 * answered for every message it took, twice in a row; false when `timeoutMs` runs out.
 */
async function waitForSettle(endpoints: StackEndpoints, sqs: SQSClient, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let quietChecks = 0;
  while (Date.now() < deadline) {
    const depth = await queueDepth(sqs, endpoints.queueUrl);
    const stats = await getJson<Record<string, SourceStats>>(`${endpoints.controlUrl}/__local/event-sources`).catch(() => ({}));
    const inFlight = Object.values(stats).reduce((sum, s) => sum + (s.received - s.deleted - s.failed), 0);
    quietChecks = depth === 0 && inFlight === 0 ? quietChecks + 1 : 0;
    if (quietChecks >= 2) return true;
    await sleep(500);
  }
  return false;
}

/** `GET /widget/config` with a user token minted from the sample event's claims. */
async function widgetStep(endpoints: StackEndpoints, cwd: string, step: (request: DemoRequest) => Promise<DemoStep>): Promise<void> {
  const api = endpoints.apiUrl;
  const widgetSample = await readEvent(cwd, 'widget-config.json');
  const claims = widgetSample.requestContext?.authorizer?.jwt?.claims ?? {};
  const claim = (name: string): string | undefined => (typeof claims[name] === 'string' ? claims[name] : undefined);
  const userToken = await mintLocalToken({
    sub: claim('sub') ?? 'usr_demo',
    audience: 'widget',
    issuer: endpoints.jwtIssuer,
    widgetAudience: endpoints.widgetJwtAudience,
    ...(claim('tier') ? { tier: claim('tier') } : {}),
    ...(claim('name') ? { name: claim('name') } : {}),
    ...(claim('email') ? { email: claim('email') } : {}),
    ...(claim('phone_number') ? { phoneNumber: claim('phone_number') } : {}),
    ...(claim('last_order_date') ? { lastOrderDate: claim('last_order_date') } : {}),
  });
  const widget = await step({ title: 'widget configuration (minted user token)', method: 'GET', base: api, path: widgetSample.rawPath, expected: 200, headers: { authorization: `Bearer ${userToken}` } });
  if (widget.ok && (widget.body as { guestAttributes?: { userId?: string } }).guestAttributes?.userId !== claim('sub')) failStep(widget, 'guestAttributes.userId is not the token subject');
}

/** Runs the demo against a running local stack; never throws for a misbehaving stack (that is a failed result). */
export async function runDemo(endpoints: StackEndpoints, options: DemoOptions = {}): Promise<DemoResult> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const log = options.log ?? (() => undefined);
  const api = endpoints.apiUrl;
  const steps: DemoStep[] = [];
  const problems: string[] = [];
  const result: DemoResult = { ok: false, steps, settled: false, settleMs: 0, records: [], duplicateApplications: [], dlq: [], problems };
  const sqs = localSqsClient(endpoints.sqsEndpoint);
  try {
    const dlqBefore = new Set((await readDeadLetters(sqs, endpoints.dlqUrl)).map((letter) => letter.messageId));
    const token = await mintLocalToken({
      sub: 'demo-client',
      scope: 'guest-sync/read guest-sync/write',
      audience: 'machine',
      issuer: endpoints.jwtIssuer,
      machineAudience: endpoints.jwtAudience,
    });
    const auth = { authorization: `Bearer ${token}` };
    const step = async (request: DemoRequest): Promise<DemoStep> => {
      const done = await send(request);
      steps.push(done);
      log(`${done.ok ? '✓' : '✗'} ${done.method} ${done.path} ${done.actual}`);
      return done;
    };

    // Health.
    const health = await step({ title: 'health', method: 'GET', base: api, path: '/health', expected: 200 });
    if (health.ok && (health.body as { status?: string } | undefined)?.status !== 'ok') failStep(health, 'status is not "ok"');

    // Prefill the sample session.
    const prefillSample = await readEvent(cwd, 'prefill.json');
    const prefill = await step({ title: 'prefill the sample session', method: 'POST', base: api, path: prefillSample.rawPath, expected: 200, headers: auth, body: bodyOf(prefillSample) });
    const sessionId = prefillSample.rawPath.split('/')[2] ?? '';
    const prepared = prefill.body as { syncJobId?: unknown; applied?: unknown; customAttributes?: Record<string, unknown> } | undefined;
    if (prefill.ok && typeof prepared?.syncJobId !== 'string') failStep(prefill, 'no syncJobId');
    if (prefill.ok && typeof prepared?.customAttributes?.['gsRef'] !== 'string') failStep(prefill, 'no customAttributes.gsRef');
    // "pending": no conversation yet. "conversation": an earlier run's conversation of the
    // sample session is still live (a run that was stopped before it ended it).
    if (prefill.ok && prepared?.applied !== 'pending' && prepared?.applied !== 'conversation') failStep(prefill, `applied is ${String(prepared?.applied)}`);
    const customAttributes = (prefill.ok ? prepared?.customAttributes : undefined) as Record<string, string> | undefined;

    // The page hands customAttributes to Database.set; the guest's first message carries them
    // into a new conversation (played by the sandbox's Messenger simulator). The guest has
    // edited one value in the browser first: the events function puts the prepared one back.
    let conversation: StartedConversation | undefined;
    if (customAttributes) {
      const tamperedKey = Object.keys(customAttributes).find((key) => key !== 'gsRef') ?? 'gsRef';
      const sent = { ...customAttributes, [tamperedKey]: TAMPERED_VALUE };
      const first = await step({
        title: `the guest's first message (Messenger simulator, Database.set; ${tamperedKey} edited in the browser)`,
        method: 'POST',
        base: endpoints.genesysUrl,
        path: '/__sandbox/messenger/conversations',
        expected: 201,
        body: { customAttributes: sent },
      });
      conversation = first.ok ? (first.body as StartedConversation) : undefined;
      const guest = conversation?.conversation.participants?.find((p) => p.id === conversation?.customerParticipantId);
      const missing = Object.keys(sent).filter((key) => guest?.attributes?.[key] !== sent[key]);
      if (first.ok && missing.length > 0) failStep(first, `the guest participant lacks ${missing.join(', ')}`);
      if (first.ok) first.note ??= `conversation ${conversation?.conversationId ?? '?'}: the guest participant carries what the browser sent`;

      // Genesys publishes the conversation's events to EventBridge; the events function links
      // the session through gsRef and re-asserts the prepared values.
      if (conversation) {
        const conversationId = conversation.conversationId;
        const participantId = conversation.customerParticipantId;
        const attributesNow = async (): Promise<Record<string, string>> => {
          const state = await getJson<{ conversations: Record<string, { customer?: { attributes?: Record<string, string> } }> }>(`${endpoints.genesysUrl}/__sandbox/state`);
          return state.conversations[conversationId]?.customer?.attributes ?? {};
        };
        const reasserted = Date.now() + 15_000;
        while (Date.now() < reasserted && (await attributesNow())[tamperedKey] !== customAttributes[tamperedKey]) await sleep(250);
        const check = await step({
          title: `the events function re-asserted the prepared ${tamperedKey} on the participant`,
          method: 'GET',
          base: endpoints.genesysUrl,
          path: `/__sandbox/state`,
          expected: 200,
        });
        const now = await attributesNow();
        const wrong = Object.keys(customAttributes).filter((key) => now[key] !== customAttributes[key]);
        if (wrong.length > 0) failStep(check, `the participant still differs from the prepared session on ${wrong.join(', ')}`);
        else {
          const state = await getJson<{ requests: Array<{ operation?: string; path?: string }> }>(`${endpoints.genesysUrl}/__sandbox/state`);
          const patches = state.requests.filter((r) => r.operation === 'patchConversationParticipantAttributes' && r.path?.includes(participantId)).length;
          if (patches !== 1) failStep(check, `${patches} PATCHes of the participant, expected exactly 1 (no loop)`);
          else check.note = `${tamperedKey} is "${customAttributes[tamperedKey] ?? ''}" again, after 1 PATCH (its echo caused none)`;
        }
      }
    }

    // The sample webhook delivery with a fresh timestamp, signed with the stack's secret.
    const webhookSample = await readEvent(cwd, 'webhook.json');
    const webhookBody = JSON.stringify({ ...(bodyOf(webhookSample) as object), timestamp: new Date().toISOString() });
    const webhook = await step({
      title: 'signed Genesys webhook',
      method: 'POST',
      base: api,
      path: webhookSample.rawPath,
      expected: 202,
      headers: { 'x-hub-signature-256': signPayload(await webhookSecret(endpoints, cwd), webhookBody), 'x-crm-integration': 'true' },
      body: webhookBody,
    });
    if (webhook.ok && typeof (webhook.body as { jobId?: unknown }).jobId !== 'string') failStep(webhook, 'no jobId');

    // Create a guest, let another writer change it, then update it with the stale ETag.
    const created = await step({ title: 'create a guest', method: 'POST', base: api, path: '/guests', expected: 201, headers: auth, body: bodyOf(await readEvent(cwd, 'create-guest.json')) });
    const guestId = (created.body as { id?: string } | undefined)?.id;
    const createdEtag = created.headers?.get('etag') ?? '"1"';
    if (created.ok && !guestId) failStep(created, 'no guest id');
    if (guestId) {
      await control(`${endpoints.genesysUrl}/__sandbox/externalcontacts/contacts/${guestId}/touch`, OTHER_WRITER_CHANGE);
      log(`  (another writer changed the campaign on external contact ${guestId}: its ETag moved past ${createdEtag})`);
      const updateBody = bodyOf(await readEvent(cwd, 'update-guest.json')) as { attributes?: Record<string, unknown> };
      const updated = await step({
        title: 'update it with the stale ETag (re-read, merged, written under the lease)',
        method: 'PATCH',
        base: api,
        path: `/guests/${guestId}`,
        expected: 200,
        headers: { ...auth, 'if-match': createdEtag },
        body: updateBody,
      });
      if (updated.ok) {
        const guest = updated.body as { conflictsResolved?: number; attributes?: Record<string, unknown>; channelContext?: { campaignId?: string } };
        if (!guest.conflictsResolved || guest.conflictsResolved < 1) failStep(updated, `conflictsResolved is ${String(guest.conflictsResolved)}, expected at least 1`);
        for (const [key, value] of Object.entries(updateBody.attributes ?? {})) {
          if (guest.attributes?.[key] !== value) failStep(updated, `attributes.${key} lost in the merge`);
        }
        if (guest.channelContext?.campaignId !== OTHER_WRITER_CAMPAIGN) failStep(updated, "the other writer's campaign was lost in the merge");
        updated.note ??= `conflictsResolved: ${String(guest.conflictsResolved)}`;
      }
      const read = await step({ title: 'read the guest', method: 'GET', base: api, path: `/guests/${guestId}`, expected: 200, headers: auth });
      if (read.ok && (read.body as { id?: string }).id !== guestId) failStep(read, 'another guest answered');
      const engagement = await step({ title: 'its engagement metrics', method: 'GET', base: api, path: `/guests/${guestId}/metrics`, expected: 200, headers: auth });
      if (engagement.ok && (engagement.body as { guestId?: string }).guestId !== guestId) failStep(engagement, 'another guest answered');
    }

    // The inbound message flow's Data Action: pre-chat enrichment of the conversation the
    // first message started, for a customer the CRM knows.
    await control(`${endpoints.crmUrl}/__sandbox/customers`, { customers: [DEMO_CUSTOMER] });
    const prechatSample = await readEvent(cwd, 'prechat-enrich.json');
    if (conversation) {
      const prechatBody = {
        ...(bodyOf(prechatSample) as Record<string, unknown>),
        conversationId: conversation.conversationId,
        participantId: conversation.customerParticipantId,
      };
      const prechat = await step({ title: 'Data Action: pre-chat enrichment (CRM customer seeded)', method: 'POST', base: api, path: prechatSample.rawPath, expected: 200, headers: auth, body: prechatBody });
      const enriched = prechat.body as { enriched?: unknown; loyaltyTier?: unknown; routingQueueId?: unknown } | undefined;
      if (prechat.ok && enriched?.enriched !== true) failStep(prechat, 'not enriched');
      if (prechat.ok && typeof enriched?.routingQueueId !== 'string') failStep(prechat, 'no routingQueueId for the transfer');
      if (prechat.ok) {
        const state = await getJson<{ conversations: Record<string, { customer?: { attributes?: Record<string, string> } }> }>(`${endpoints.genesysUrl}/__sandbox/state`);
        const attributes = state.conversations[conversation.conversationId]?.customer?.attributes ?? {};
        if (attributes['prechat:loyaltyTier'] !== enriched?.loyaltyTier) failStep(prechat, 'the guest participant does not carry prechat:loyaltyTier');
        else if (customAttributes && Object.keys(customAttributes).some((key) => attributes[key] !== customAttributes[key])) failStep(prechat, "the prepared attributes did not survive the enrichment's PATCH");
        else prechat.note ??= `routed to ${String((prechat.body as { routingQueue?: unknown }).routingQueue)}; the guest participant carries prechat:* next to the prepared attributes`;
      }
    } else {
      problems.push('pre-chat enrichment skipped: no conversation was started (the prefill or the first message failed)');
    }

    // The widget configuration for the signed-in user of the sample event.
    if (options.widget ?? true) await widgetStep(endpoints, cwd, step);

    // One record the CRM refuses for good: a prefill for a fresh session.
    const doomedSession = randomUUID();
    await control(`${endpoints.crmUrl}/__sandbox/record-failures`, {
      rules: [{ externalId: doomedSession, code: DEMO_REJECTION_CODE, message: 'demo: the CRM refuses this record (injected)' }],
    });
    const doomed = await step({
      title: 'prefill a session the CRM will refuse',
      method: 'POST',
      base: api,
      path: `/sessions/${doomedSession}/prefill`,
      expected: 200,
      headers: auth,
      body: { attributes: { first_name: 'Demo', account_tier: 'trial' } },
    });
    const rejectedJobId = (doomed.body as { syncJobId?: string } | undefined)?.syncJobId;
    if (rejectedJobId) result.rejectedJobId = rejectedJobId;

    // The guest closes the conversation: its customer.end event becomes the session's
    // lastInteraction in the CRM, and the next prefill of the session prepares a new one.
    if (conversation) {
      const end = await step({ title: 'the guest ends the conversation (Messenger simulator)', method: 'POST', base: endpoints.genesysUrl, path: `/__sandbox/messenger/conversations/${conversation.conversationId}/end`, expected: 200 });
      if (end.ok) end.note ??= 'customer.end: the events function queues the lastInteraction job';
    }

    // Let the CRM sync settle.
    log('  waiting for the CRM sync to settle...');
    const settleStarted = Date.now();
    result.settled = await waitForSettle(endpoints, sqs, options.settleTimeoutMs ?? 60_000);
    result.settleMs = Date.now() - settleStarted;
    if (!result.settled) problems.push(`the CRM sync queue did not settle within ${Math.round((options.settleTimeoutMs ?? 60_000) / 1000)} s`);

    // The sandbox CRM.
    const crm = await getJson<{ records: Record<string, { record: Record<string, unknown>; versions: number }>; duplicateApplications: string[] }>(`${endpoints.crmUrl}/__sandbox/state`);
    result.duplicateApplications = crm.duplicateApplications;
    if (crm.duplicateApplications.length > 0) problems.push(`the CRM applied ${crm.duplicateApplications.length} idempotency key(s) twice`);
    const expectRecord = (externalId: string, from: string, check?: (record: Record<string, unknown>) => string | undefined): void => {
      const stored = crm.records[externalId];
      const row: CrmRow = { externalId, from, found: Boolean(stored), ok: Boolean(stored) };
      if (stored) {
        const record = stored.record;
        row.versions = stored.versions;
        if (typeof record['emailHash'] === 'string') row.emailHash = record['emailHash'];
        if (typeof record['phoneHash'] === 'string') row.phoneHash = record['phoneHash'];
        if (typeof record['sourceUpdatedAt'] === 'string') row.sourceUpdatedAt = record['sourceUpdatedAt'];
        row.attributeKeys = Object.keys((record['attributes'] as object | undefined) ?? {}).sort();
        const wrong = check?.(record);
        if (wrong) {
          row.ok = false;
          row.note = wrong;
        }
      } else {
        row.note = 'missing from the CRM';
      }
      if (!row.ok) problems.push(`CRM record ${externalId} (${from}): ${row.note ?? 'wrong'}`);
      result.records.push(row);
    };
    const linkedConversation = conversation?.conversationId;
    expectRecord(sessionId, 'prefill + webhook + events', (record) => {
      const channel = (record['channelContext'] ?? {}) as Record<string, unknown>;
      if (linkedConversation && channel['conversationId'] !== linkedConversation) return 'not linked to the conversation (no event job applied)';
      return typeof record['emailHash'] === 'string' ? undefined : "the prefill's identity hash is missing";
    });
    if (guestId) {
      expectRecord(guestId, 'guest create + update', (record) => {
        const attributes = (record['attributes'] ?? {}) as Record<string, unknown>;
        const channel = (record['channelContext'] ?? {}) as Record<string, unknown>;
        return channel['campaignId'] === OTHER_WRITER_CAMPAIGN && attributes['loyaltyTier'] === 'platinum' ? undefined : 'not at the newest version (merged update missing)';
      });
    }
    expectRecord(DEMO_CUSTOMER.id, 'pre-chat');
    if (crm.records[doomedSession]) problems.push(`CRM record ${doomedSession} exists although the CRM was told to refuse it`);

    // The DLQ.
    const letters = await readDeadLetters(sqs, endpoints.dlqUrl);
    result.dlq = letters.map((letter) => ({
      ...letter,
      verdict: dlqBefore.has(letter.messageId) ? 'earlier' : letter.jobId === rejectedJobId && letter.failureCode === DEMO_REJECTION_CODE ? 'expected' : 'unexpected',
    }));
    if (!rejectedJobId) problems.push('no job id for the record the CRM refuses (its prefill failed)');
    else if (!result.dlq.some((row) => row.verdict === 'expected')) problems.push(`job ${rejectedJobId} is not in the DLQ with ${DEMO_REJECTION_CODE}`);
    for (const row of result.dlq.filter((r) => r.verdict === 'unexpected')) problems.push(`unexpected DLQ message ${row.jobId}: ${row.failureCode} ${row.failureReason}`);

    // A fresh metrics report, as `npm run report` builds it.
    const output = await produceReport({
      source: localEmfSource({
        metricsFile: endpoints.metricsFile,
        stage: 'local',
        sqs,
        sqsEndpoint: endpoints.sqsEndpoint,
        queueUrl: endpoints.queueUrl,
        dlqUrl: endpoints.dlqUrl,
      }),
      stage: 'local',
      window: reportWindow({ hours: 24 }),
    });
    const folder = resolve(cwd, options.reportDir ?? 'reports');
    await mkdir(folder, { recursive: true });
    const base = join(folder, reportStamp(output.report));
    await writeFile(`${base}.json`, output.json);
    await writeFile(`${base}.md`, output.markdown);
    await writeFile(`${base}.html`, output.html);
    result.report = { markdown: `${base}.md`, html: `${base}.html`, json: `${base}.json`, health: output.report.health };
  } catch (error) {
    problems.push(`the demo could not finish: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    sqs.destroy();
  }
  for (const failed of steps.filter((s) => !s.ok)) problems.unshift(`${failed.method} ${failed.path}: expected ${failed.expected}, got ${failed.actual}${failed.note ? ` (${failed.note})` : ''}`);
  result.ok = problems.length === 0;
  return result;
}

/** The process exit code for a demo result: 0 only when everything behaved as documented. */
export function demoExitCode(result: DemoResult): number {
  return result.ok ? 0 : 1;
}
