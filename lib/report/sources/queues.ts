/**
 * The CRM sync queue and its DLQ, now: `GetQueueAttributes` on both (the only SQS action
 * the report's role has). Shared by the CloudWatch and local sources.
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueSnapshot } from '../types.ts';

const COUNT_ATTRIBUTES = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;

/** The queue counts of one queue. */
async function countsOf(client: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number; delayed: number }> {
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...COUNT_ATTRIBUTES] }));
  const read = (name: (typeof COUNT_ATTRIBUTES)[number]): number => Number(Attributes?.[name] ?? 0) || 0;
  return { visible: read('ApproximateNumberOfMessages'), inFlight: read('ApproximateNumberOfMessagesNotVisible'), delayed: read('ApproximateNumberOfMessagesDelayed') };
}

/** The last path segment of a queue URL: the queue's name (CloudWatch's QueueName dimension). */
export function queueNameOf(queueUrl: string): string {
  return new URL(queueUrl).pathname.split('/').filter(Boolean).pop() ?? '';
}

/**
 * Backlog, in-flight and DLQ depth, or nothing when the main queue cannot be read (the
 * report then goes out without queue figures); a DLQ that cannot be read is a warning.
 */
export async function readQueueCounts(client: SQSClient, queueUrl: string, dlqUrl: string | undefined): Promise<QueueSnapshot | undefined> {
  const warnings: string[] = [];
  const [queue, dlq] = await Promise.all([
    countsOf(client, queueUrl).catch(() => undefined),
    dlqUrl
      ? countsOf(client, dlqUrl).catch((error: unknown) => {
          warnings.push(`The DLQ could not be read (${error instanceof Error ? error.name || error.message : String(error)}).`);
          return undefined;
        })
      : Promise.resolve(undefined),
  ]);
  if (!queue) return undefined;
  if (!dlqUrl) warnings.push('No DLQ is configured (CRM_SYNC_DLQ_URL): DLQ depth is unknown.');
  return {
    backlog: queue.visible,
    inFlight: queue.inFlight,
    delayed: queue.delayed,
    oldestAgeSeconds: null,
    dlqDepth: dlq ? dlq.visible + dlq.inFlight + dlq.delayed : null,
    warnings,
  };
}
