/**
 * Helpers for integration tests against the shared local stack: sandbox state and
 * resets, tokens, the worker's event source, and the queues.
 */
import { GetQueueAttributesCommand, PurgeQueueCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { enqueueJobs, type CrmSyncJob } from '#lib/jobs';
import { DynamoStateTable, PreparedSessions } from '#lib/state';
import { localDynamoDbClient } from '#local/dynamodb.ts';
import { localSqsClient } from '#local/sqs.ts';
import type { StackEndpoints } from '#local/stack.ts';
import { mintLocalToken, type MintOptions } from '#local/tokens.ts';

/** The running stack's endpoints (provided by test/integration/global-setup.ts). */
export const stack = () => inject('stack');

/**
 * The CRM the stack's worker writes to (`CRM_PROVIDER`), so a test can branch on it; the
 * helpers below take a stack of the test's own (`at`) and default to the shared one.
 */
export const crmProvider = (at: StackEndpoints = stack()): StackEndpoints['crmProvider'] => at.crmProvider;

const json = async <T>(response: Response): Promise<T> => (await response.json()) as T;

/** The Genesys sandbox's state view. */
export const genesysState = async <T = Record<string, any>>(): Promise<T> => json<T>(await fetch(`${stack().genesysUrl}/__sandbox/state`));

/** The CRM sandbox's state view. */
export const crmState = async <T = Record<string, any>>(at: StackEndpoints = stack()): Promise<T> => json<T>(await fetch(`${at.crmUrl}/__sandbox/state`));

/** Resets both sandboxes (state, faults, limits) to their start-up settings. */
export async function resetSandboxes(): Promise<void> {
  await fetch(`${stack().genesysUrl}/__sandbox/reset`, { method: 'POST' });
  await fetch(`${stack().crmUrl}/__sandbox/reset`, { method: 'POST' });
}

/** Adds fault rules to the Genesys or CRM sandbox. */
export async function addFaults(target: 'genesys' | 'crm', rules: Array<Record<string, unknown>>, at: StackEndpoints = stack()): Promise<void> {
  const base = target === 'genesys' ? at.genesysUrl : at.crmUrl;
  const response = await fetch(`${base}/__sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rules }),
  });
  if (!response.ok) throw new Error(`fault rules refused: ${response.status} ${await response.text()}`);
}

/** A machine token with the given scopes, for the stack's issuer and audience. */
export const machineToken = (scope = 'guest-sync/read guest-sync/write', extra: Partial<MintOptions> = {}): Promise<string> =>
  mintLocalToken({ sub: 'integration-test', scope, audience: 'machine', ...extra });

/** Stops or restarts the worker's event source (the queue keeps what is sent meanwhile). */
export async function setWorkerPaused(paused: boolean, at: StackEndpoints = stack()): Promise<void> {
  await fetch(`${at.controlUrl}/__local/event-sources/${paused ? 'pause' : 'resume'}`, { method: 'POST' });
}

/** Polls until `check` holds, or fails after `timeoutMs`. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const sqs = (at: StackEndpoints = stack()) => localSqsClient(at.sqsEndpoint);

/** Visible plus in-flight messages of a queue. */
export async function queueDepth(which: 'queue' | 'dlq', at: StackEndpoints = stack()): Promise<number> {
  const client = sqs(at);
  try {
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: which === 'queue' ? at.queueUrl : at.dlqUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return Number(Attributes?.['ApproximateNumberOfMessages'] ?? 0) + Number(Attributes?.['ApproximateNumberOfMessagesNotVisible'] ?? 0);
  } finally {
    client.destroy();
  }
}

/**
 * Reads up to `max` visible messages without consuming them (they stay visible), for
 * tests that pause the worker and look at what a route enqueued.
 */
export async function peekMessages(which: 'queue' | 'dlq', max = 10): Promise<Message[]> {
  const client = sqs();
  try {
    const { Messages } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: which === 'queue' ? stack().queueUrl : stack().dlqUrl,
        MaxNumberOfMessages: Math.min(10, max),
        VisibilityTimeout: 0,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    return Messages ?? [];
  } finally {
    client.destroy();
  }
}

/** Sends jobs to the stack's CRM sync queue the way the producers do (batches of ten). */
export async function enqueue(jobs: CrmSyncJob[], at: StackEndpoints = stack()): Promise<void> {
  const client = localSqsClient(at.sqsEndpoint);
  try {
    await enqueueJobs(jobs, { queueUrl: at.queueUrl, client });
  } finally {
    client.destroy();
  }
}

/** Empties a queue. */
export async function purge(which: 'queue' | 'dlq', at: StackEndpoints = stack()): Promise<void> {
  const client = sqs(at);
  try {
    await client.send(new PurgeQueueCommand({ QueueUrl: which === 'queue' ? at.queueUrl : at.dlqUrl }));
  } finally {
    client.destroy();
  }
}

/** Makes every SQS call of the stack's functions hang unanswered (`stall`), or pass again. */
export async function setFunctionsSqs(mode: 'stall' | 'pass'): Promise<void> {
  const response = await fetch(`${stack().controlUrl}/__local/faults/sqs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode }),
  });
  if (!response.ok) throw new Error(`SQS fault refused: ${response.status}`);
}

/** Runs a scheduled function now, through the stack's control endpoint. */
export async function fireSchedule<T = unknown>(functionKey: string): Promise<T> {
  const response = await fetch(`${stack().controlUrl}/__local/schedules/${functionKey}`, { method: 'POST' });
  const body = (await response.json()) as { result?: T; error?: string };
  if (!response.ok) throw new Error(`schedule ${functionKey} failed: ${body.error ?? response.status}`);
  return body.result as T;
}

/** What the local event bus has done so far (events received, deliveries in flight, ...). */
export const eventBusStats = async (): Promise<{ received: number; inFlight: number; delivered: number; deadLettered: number }> =>
  json(await fetch(`${stack().eventBusUrl}/__local/stats`));

/**
 * Waits until the local event bus has received `atLeast` events more than `before` showed
 * and has delivered (or dead-lettered) every one: the events function has then handled the
 * conversation events the test caused, and will not act on them later.
 */
export async function eventBusSettled(before: { received: number }, atLeast = 1, timeoutMs = 20_000): Promise<void> {
  await until(
    async () => {
      const now = await eventBusStats();
      return now.received >= before.received + atLeast && now.inFlight === 0;
    },
    timeoutMs,
    'the local event bus to deliver the conversation events',
  );
}

/**
 * Plays a guest's first message for a prepared session through the sandbox's Messenger
 * simulator (carrying the `customAttributes` its prefill answered) and records the link the
 * events function records: from then on a prefill of the session PATCHes that conversation.
 */
export async function startLinkedConversation(
  sessionId: string,
  customAttributes: Record<string, string>,
): Promise<{ conversationId: string; participantId: string }> {
  const before = await eventBusStats();
  const response = await fetch(`${stack().genesysUrl}/__sandbox/messenger/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customAttributes }),
  });
  if (response.status !== 201) throw new Error(`the Messenger simulator answered ${response.status}: ${await response.text()}`);
  const started = (await response.json()) as { conversationId: string; customerParticipantId: string };
  const link = { conversationId: started.conversationId, participantId: started.customerParticipantId };
  // The events function handles the conversation's customer.start (through the local event
  // bus) on its own: let it finish, so it does not act on this conversation later in the test.
  await eventBusSettled(before);
  const client = localDynamoDbClient(stack().dynamodbEndpoint);
  try {
    const linked = await new PreparedSessions(new DynamoStateTable({ tableName: stack().stateTableName, client })).link(sessionId, link, new Date().toISOString());
    if (!linked) throw new Error(`session ${sessionId} is not prepared`);
  } finally {
    client.destroy();
  }
  return link;
}
