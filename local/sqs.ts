/**
 * The embedded SQS-compatible server of the local stack (fauxqs), bound to 127.0.0.1,
 * with the CRM sync queue and its DLQ created with the same redrive settings as
 * serverless.yml. It runs on a worker thread of its own (local/sqs-thread.ts,
 * local/threads.ts), so its work does not compete with the rest of the stack's main
 * thread (the event source that polls it, the other emulators).
 */
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startServerThread } from './threads.ts';

/** Queue settings mirrored from serverless.yml. */
export interface QueueSettings {
  queueName: string;
  dlqName: string;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  dlqRetentionSeconds: number;
}

/** A running embedded SQS with the suite's two queues. */
export interface EmbeddedSqs {
  endpoint: string;
  queueUrl: string;
  dlqUrl: string;
  client: SQSClient;
  close(): Promise<void>;
}

/** An SQS client for a local endpoint: explicit endpoint, queue URLs never used as endpoints. */
export function localSqsClient(endpoint: string, region = 'us-east-1'): SQSClient {
  return new SQSClient({
    endpoint,
    region,
    useQueueUrlAsEndpoint: false,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** Starts fauxqs on its own thread, on 127.0.0.1, and creates the queue and DLQ with a redrive policy. */
export async function startEmbeddedSqs(settings: QueueSettings, port = 0): Promise<EmbeddedSqs> {
  const thread = await startServerThread(new URL('./sqs-thread.ts', import.meta.url), 'embedded SQS', port);
  const endpoint = `http://127.0.0.1:${thread.port}`;
  const client = localSqsClient(endpoint);
  const close = async (): Promise<void> => {
    client.destroy();
    await thread.close();
  };
  try {
    const dlq = await client.send(
      new CreateQueueCommand({
        QueueName: settings.dlqName,
        Attributes: { MessageRetentionPeriod: String(settings.dlqRetentionSeconds) },
      }),
    );
    const dlqUrl = dlq.QueueUrl ?? '';
    const dlqAttributes = await client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
    const queue = await client.send(
      new CreateQueueCommand({
        QueueName: settings.queueName,
        Attributes: {
          VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: dlqAttributes.Attributes?.['QueueArn'],
            maxReceiveCount: settings.maxReceiveCount,
          }),
        },
      }),
    );
    return { endpoint, queueUrl: queue.QueueUrl ?? '', dlqUrl, client, close };
  } catch (error) {
    await close();
    throw error;
  }
}
