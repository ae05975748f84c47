/**
 * What the CRM sync benchmarks read from the DLQ: the job ids dead-lettered with a failure
 * code. Messages are received without being deleted (each benchmark's stack is discarded).
 */
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** Job ids in the DLQ that carry a failure code. */
export async function deadLetteredJobIds(client: SQSClient, dlqUrl: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for (;;) {
    const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 300, MessageAttributeNames: ['All'] }));
    if (!Messages?.length) return ids;
    for (const message of Messages) {
      const jobId = message.MessageAttributes?.['jobId']?.StringValue;
      if (jobId && message.MessageAttributes?.['failureCode']) ids.add(jobId);
    }
  }
}
