/**
 * Reads the CRM sync DLQ message by message (attributes only, never bodies) for the demo,
 * which needs each message's job id, failure code and reason: `inspectDlq` (scripts/dlq)
 * only keeps one example per code. Received messages are made visible again at once.
 */
import { ChangeMessageVisibilityBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { NO_FAILURE_CODE } from '../dlq/tools.ts';

/** One dead letter, as the demo shows it. */
export interface DeadLetter {
  messageId: string;
  jobId: string;
  failureCode: string;
  failureReason: string;
  failedAt?: string;
}

const attribute = (message: Message, name: string): string | undefined => message.MessageAttributes?.[name]?.StringValue;

/** Every DLQ message (up to `max`), then releases them so other tools see them unchanged. */
export async function readDeadLetters(client: SQSClient, dlqUrl: string, max = 200): Promise<DeadLetter[]> {
  const seen: Message[] = [];
  try {
    while (seen.length < max) {
      const { Messages } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MaxNumberOfMessages: Math.min(10, max - seen.length),
          VisibilityTimeout: 60,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ['All'],
        }),
      );
      if (!Messages || Messages.length === 0) break;
      seen.push(...Messages);
    }
  } finally {
    for (let start = 0; start < seen.length; start += 10) {
      const group = seen.slice(start, start + 10);
      await client
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: dlqUrl,
            Entries: group.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 })),
          }),
        )
        .catch(() => undefined); // they come back by themselves after the hold
    }
  }
  return seen.map((message) => {
    const failedAt = attribute(message, 'failedAt');
    return {
      messageId: message.MessageId ?? '?',
      jobId: attribute(message, 'jobId') ?? `message:${message.MessageId ?? '?'}`,
      failureCode: attribute(message, 'failureCode') ?? NO_FAILURE_CODE,
      failureReason: attribute(message, 'failureReason') ?? '',
      ...(failedAt ? { failedAt } : {}),
    };
  });
}
