/**
 * The nothing-lost invariant and the no-duplicate check shared by the worker, reliability
 * and soak suites: every accepted job is in the sandbox CRM at its record's newest version,
 * or in the DLQ with a failure code and a reason; no idempotency key was applied twice.
 */
import { ChangeMessageVisibilityBatchCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { expect } from 'vitest';
import { canonicalJson, type CrmRecord, type CrmSyncJob } from '#lib/jobs';
import { localSqsClient } from '#local/sqs.ts';
import { crmState, stack } from './stack.ts';

/** Records as the CRM sandbox's state view shows them. */
export type StoredRecords = Record<string, { record: CrmRecord }>;

/** A string message attribute (the worker's `jobId`, `failureCode`, `failureReason`, ...). */
export const attribute = (message: Message, name: string): string | undefined => message.MessageAttributes?.[name]?.StringValue;

/** Every DLQ message with its attributes; they are made visible again afterwards. */
export async function dlqMessages(): Promise<Message[]> {
  const client = localSqsClient(stack().sqsEndpoint);
  const all: Message[] = [];
  try {
    for (;;) {
      const { Messages } = await client.send(
        new ReceiveMessageCommand({ QueueUrl: stack().dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
      );
      if (!Messages?.length) break;
      all.push(...Messages);
    }
    for (let i = 0; i < all.length; i += 10) {
      await client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: stack().dlqUrl,
          Entries: all.slice(i, i + 10).map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
        }),
      );
    }
    return all;
  } finally {
    client.destroy();
  }
}

const deadLetteredWithReason = (letter: Message | undefined): boolean =>
  letter !== undefined && Boolean(attribute(letter, 'failureCode')) && Boolean(attribute(letter, 'failureReason'));

/**
 * The invariant for jobs the test built itself: each is in the CRM at its record's newest
 * version, or in the DLQ with a reason; and no key applied twice. Returns the DLQ messages.
 */
export async function expectNothingLost(accepted: CrmSyncJob[]): Promise<Message[]> {
  const state = await crmState<{ records: StoredRecords; duplicateApplications: string[] }>();
  const dlq = await dlqMessages();
  const newest = new Map<string, CrmSyncJob>();
  for (const job of accepted) {
    const current = newest.get(job.record.externalId);
    if (!current || Date.parse(job.record.sourceUpdatedAt) > Date.parse(current.record.sourceUpdatedAt)) newest.set(job.record.externalId, job);
  }
  const deadLettered = new Map(dlq.map((m) => [attribute(m, 'jobId'), m]));
  const missing = accepted.filter((job) => {
    const stored = state.records[job.record.externalId]?.record;
    const inCrmAtNewest = stored !== undefined && canonicalJson(stored) === canonicalJson(newest.get(job.record.externalId)?.record);
    return !inCrmAtNewest && !deadLetteredWithReason(deadLettered.get(job.jobId));
  });
  expect(missing.map((job) => job.jobId)).toEqual([]);
  expect(state.duplicateApplications).toEqual([]);
  return dlq;
}

/** A job a route accepted: the jobId it answered, the record it is about, and when that record changed. */
export interface AcceptedJob {
  jobId: string;
  externalId: string;
  /** The newest change the caller made to this record (absent: the record has one version). */
  sourceUpdatedAt?: string;
}

/**
 * The invariant for jobs accepted over HTTP (the test knows the answered jobId, not the
 * whole job): each one's record is in the CRM, at the newest `sourceUpdatedAt` the caller
 * sent for it when given, or the job is in the DLQ with a reason; and no key applied twice.
 */
export async function expectAcceptedJobsSettled(accepted: AcceptedJob[]): Promise<Message[]> {
  const state = await crmState<{ records: StoredRecords; duplicateApplications: string[] }>();
  const dlq = await dlqMessages();
  const deadLettered = new Map(dlq.map((m) => [attribute(m, 'jobId'), m]));
  const newest = new Map<string, string | undefined>();
  for (const job of accepted) {
    const current = newest.get(job.externalId);
    if (current === undefined || (job.sourceUpdatedAt !== undefined && Date.parse(job.sourceUpdatedAt) > Date.parse(current))) newest.set(job.externalId, job.sourceUpdatedAt);
  }
  const missing = accepted.filter((job) => {
    const stored = state.records[job.externalId]?.record;
    const wanted = newest.get(job.externalId);
    const inCrmAtNewest = stored !== undefined && (wanted === undefined || stored.sourceUpdatedAt === wanted);
    return !inCrmAtNewest && !deadLetteredWithReason(deadLettered.get(job.jobId));
  });
  expect(missing.map((job) => job.jobId)).toEqual([]);
  expect(state.duplicateApplications).toEqual([]);
  return dlq;
}
