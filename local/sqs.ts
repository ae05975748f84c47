/**
 * The embedded SQS-compatible server of the local stack (fauxqs), bound to 127.0.0.1,
 * with the CRM sync queue and its DLQ created with the same redrive settings as
 * serverless.yml.
 */
import type { AddressInfo } from 'node:net';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { buildApp } from 'fauxqs';
import { PortInUseError } from './ports.ts';

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

/** Starts fauxqs on 127.0.0.1 and creates the queue and DLQ with a redrive policy. */
export async function startEmbeddedSqs(settings: QueueSettings, port = 0): Promise<EmbeddedSqs> {
  // `host` only names the queue URLs (http://sqs.<region>.localhost:<port>/...), which
  // clients never connect to (they use the endpoint). It must not be an IP address: a URL
  // host ending in a number is parsed as IPv4, so "sqs.us-east-1.127.0.0.1" is not a valid
  // URL and CRM_SYNC_QUEUE_URL would fail the configuration check.
  const app = buildApp({ logger: false, host: 'localhost' });
  try {
    await app.listen({ port, host: '127.0.0.1' });
  } catch (error) {
    await app.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw code === 'EADDRINUSE' || code === 'EACCES' ? new PortInUseError(port, 'embedded SQS') : error;
  }
  const { port: actualPort } = app.server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${actualPort}`;
  const client = localSqsClient(endpoint);

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

  return {
    endpoint,
    queueUrl: queue.QueueUrl ?? '',
    dlqUrl,
    client,
    close: async () => {
      client.destroy();
      await app.close();
    },
  };
}
