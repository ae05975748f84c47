/**
 * The invariants of the CRM scenarios against a provider sandbox (HubSpot, Salesforce,
 * Dynamics 365), read from the sandbox's state view, which keeps every write's
 * `sourceUpdatedAt` per record, and from the stack's DLQ:
 * - nothing lost: every accepted job's record is in the CRM at (or past) the job's version,
 *   or the job is in the DLQ with a failure code and a reason;
 * - never twice: no version of a record was written to it twice;
 * - never back in time: each record's writes only move forward, and it holds the newest
 *   version accepted for it that did not fail for good.
 */
import { ChangeMessageVisibilityBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { expect } from 'vitest';
import type { CrmSyncJob } from '#lib/jobs';
import type { StackEndpoints } from '#local/stack.ts';
import { localSqsClient } from '#local/sqs.ts';
import { versionOrder } from '#lib/sync/versions.ts';

/** One record as a provider sandbox's state view shows it. */
export interface ProviderRecordView {
  id: string;
  externalId?: string;
  fields: Record<string, unknown>;
  writes: number;
  history: string[];
}

/** The parts of a provider sandbox's state view the scenarios read. */
export interface ProviderStateView {
  records: Record<string, ProviderRecordView>;
  requestsByStatus: Record<string, number>;
  faults: Array<{ id: string; applied: number; times?: number }>;
  recordFailureRules: Array<{ externalId?: string; applied: number; times?: number }>;
  requests: Array<{ operation: string; status: number; faultId?: string; dropped?: boolean }>;
}

/** The provider sandbox's state view of the stack `at`. */
export async function providerState(at: StackEndpoints): Promise<ProviderStateView> {
  const response = await fetch(`${at.crmUrl}/__sandbox/state`);
  if (!response.ok) throw new Error(`the CRM sandbox state answered ${response.status}`);
  return (await response.json()) as ProviderStateView;
}

/** A string message attribute (`jobId`, `failureCode`, `failureReason`, ...). */
export const attributeOf = (message: Message, name: string): string | undefined => message.MessageAttributes?.[name]?.StringValue;

/** Visible, in-flight and delayed messages of the stack's queue or DLQ (a message re-sent with a delay counts). */
export async function depthAt(at: StackEndpoints, which: 'queue' | 'dlq'): Promise<number> {
  const client = localSqsClient(at.sqsEndpoint);
  try {
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: which === 'queue' ? at.queueUrl : at.dlqUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesDelayed ?? 0);
  } finally {
    client.destroy();
  }
}

/** Every DLQ message of the stack `at` with its attributes; they are made visible again afterwards. */
export async function dlqMessagesAt(at: StackEndpoints): Promise<Message[]> {
  const client = localSqsClient(at.sqsEndpoint);
  const all: Message[] = [];
  try {
    for (;;) {
      const { Messages } = await client.send(
        new ReceiveMessageCommand({ QueueUrl: at.dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
      );
      if (!Messages?.length) break;
      all.push(...Messages);
    }
    for (let i = 0; i < all.length; i += 10) {
      await client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: at.dlqUrl,
          Entries: all.slice(i, i + 10).map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
        }),
      );
    }
    return all;
  } finally {
    client.destroy();
  }
}

const versionOf = (job: CrmSyncJob): string => versionOrder(job.record.sourceUpdatedAt, job.jobId);

/**
 * Checks the three invariants for the jobs a scenario accepted (see the file comment);
 * `sourceField` is the provider field that carries `sourceUpdatedAt`. Returns the DLQ.
 */
export async function expectProviderInvariants(at: StackEndpoints, accepted: CrmSyncJob[], sourceField: string): Promise<Message[]> {
  const state = await providerState(at);
  const dlq = await dlqMessagesAt(at);
  const deadLettered = new Set(dlq.filter((m) => Boolean(attributeOf(m, 'failureCode')) && Boolean(attributeOf(m, 'failureReason'))).map((m) => attributeOf(m, 'jobId')));
  const at_ = (iso: unknown): number => (typeof iso === 'string' ? Date.parse(iso) : Number.NaN);

  // Nothing lost: in the CRM at or past the job's version, or in the DLQ with a reason.
  const lost = accepted.filter((job) => {
    const stored = state.records[job.record.externalId];
    const inCrm = stored !== undefined && at_(stored.fields[sourceField]) >= Date.parse(job.record.sourceUpdatedAt);
    return !inCrm && !deadLettered.has(job.jobId);
  });
  expect(lost.map((job) => job.jobId), 'jobs neither in the CRM nor in the DLQ with a reason').toEqual([]);

  const byRecord = new Map<string, CrmSyncJob[]>();
  for (const job of accepted) byRecord.set(job.record.externalId, [...(byRecord.get(job.record.externalId) ?? []), job]);
  const twice: string[] = [];
  const backwards: string[] = [];
  const behind: string[] = [];
  for (const [externalId, jobs] of byRecord) {
    const stored = state.records[externalId];
    if (!stored) continue;
    // Never twice: each version written once.
    if (new Set(stored.history).size !== stored.history.length) twice.push(`${externalId}: ${stored.history.join(', ')}`);
    // Never back in time: every write newer than the one before, and the record holds the last one.
    const moments = stored.history.map(at_);
    if (moments.some((moment, i) => i > 0 && !(moment > (moments[i - 1] as number))) || stored.fields[sourceField] !== stored.history.at(-1)) {
      backwards.push(`${externalId}: ${stored.history.join(', ')}`);
    }
    // The newest accepted version that did not fail for good is the one the CRM holds.
    const live = jobs.filter((job) => !deadLettered.has(job.jobId)).sort((a, b) => (versionOf(a) < versionOf(b) ? -1 : 1));
    const newest = live.at(-1);
    if (newest && stored.fields[sourceField] !== newest.record.sourceUpdatedAt) behind.push(`${externalId}: holds ${String(stored.fields[sourceField])}, newest ${newest.record.sourceUpdatedAt}`);
  }
  expect(twice, 'records with a version written twice').toEqual([]);
  expect(backwards, 'records moved back in time').toEqual([]);
  expect(behind, 'records older than their newest accepted version').toEqual([]);
  return dlq;
}
