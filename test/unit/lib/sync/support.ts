/** Factories the CRM sync tests share: jobs, their SQS records, and a scripted fake CRM port. */
import type { SQSRecord } from 'aws-lambda';
import { buildJob, deterministicJobId, toMessageBody, type CrmRecord, type CrmSyncJob, type JobSource } from '#lib/jobs';
import { sqsRecord } from '#test/support/lambda.ts';

/** What a test says about a job; everything else gets a realistic default. */
export interface JobOptions {
  externalId?: string;
  /** `sourceUpdatedAt` (and `lastInteraction`). */
  at?: string;
  source?: JobSource;
  attributes?: CrmRecord['attributes'];
  /** Identity hash and consent; `null` leaves the field out (a job that does not carry it). */
  emailHash?: string | null;
  consentFlags?: CrmRecord['consentFlags'] | null;
  enqueuedAt?: string;
}

/** A valid job whose id is derived from its content, as producers do. */
export function jobFactory(options: JobOptions = {}): CrmSyncJob {
  const at = options.at ?? '2025-03-01T10:00:00.000Z';
  const source = options.source ?? 'guest';
  const record: CrmRecord = {
    externalId: options.externalId ?? 'guest-1',
    ...(options.emailHash === null ? {} : { emailHash: options.emailHash ?? 'a'.repeat(64) }),
    ...(options.consentFlags === null ? {} : { consentFlags: options.consentFlags ?? { marketing: false, dataProcessing: true } }),
    attributes: options.attributes ?? { tier: 'gold' },
    lastInteraction: at,
    sourceUpdatedAt: at,
  };
  return buildJob(source, deterministicJobId(source, record), record, new Date(options.enqueuedAt ?? at));
}

/** The SQS record a job arrives in (`receiveCount` is SQS's ApproximateReceiveCount). */
export function jobRecord(job: CrmSyncJob, messageId = `m-${job.jobId}`, receiveCount = 1): SQSRecord {
  const record = sqsRecord(toMessageBody(job), messageId);
  record.attributes.ApproximateReceiveCount = String(receiveCount);
  record.messageAttributes = {
    jobId: { dataType: 'String', stringValue: job.jobId, stringListValues: [], binaryListValues: [] },
    source: { dataType: 'String', stringValue: job.source, stringListValues: [], binaryListValues: [] },
  };
  return record;
}
