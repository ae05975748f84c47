/**
 * Which queues the DLQ tools work on, and an SQS client for them: the local stack's
 * (from `.local/stack.json`) by default, or a stage's in AWS from `--queue-url` /
 * `--dlq-url` (or CRM_SYNC_QUEUE_URL / CRM_SYNC_DLQ_URL). The tools do not read the
 * CloudFormation outputs themselves (the CloudFormation client is not a dependency of
 * this project); `--stage` prints the AWS CLI command that does.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { noStackFound, readStackEndpoints } from '../stack-endpoints.ts';

/** Where the tools point. */
export interface QueueTarget {
  client: SQSClient;
  /** The main CRM sync queue (needed by the redrive only). */
  queueUrl: string | undefined;
  dlqUrl: string;
  where: 'local stack' | 'AWS';
}

/** Options the tools share. */
export interface TargetOptions {
  queueUrl?: string | undefined;
  dlqUrl?: string | undefined;
  region?: string | undefined;
  stage?: string | undefined;
  /** Which local stack, when several run (`--api-url`). */
  apiUrl?: string | undefined;
  cwd?: string;
}

/** A usage problem: the CLI prints it and exits 2. */
export class UsageError extends Error {}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The AWS CLI command that prints a stage's queue URLs (the stack outputs CrmSyncQueueUrl / CrmSyncDlqUrl). */
export const stackOutputsCommand = (stage: string, region = '<region>'): string =>
  `aws cloudformation describe-stacks --region ${region} --stack-name genesys-guest-sync-${stage} ` +
  `--query "Stacks[0].Outputs[?OutputKey=='CrmSyncQueueUrl'||OutputKey=='CrmSyncDlqUrl'].[OutputKey,OutputValue]" --output text`;

const regionOf = (url: string): string | undefined => /^sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(new URL(url).host)?.[1];

/** Resolves the queues: flags, then the environment, then the local stack's file. */
export async function resolveQueues(options: TargetOptions, env: NodeJS.ProcessEnv = process.env): Promise<QueueTarget> {
  const queueUrl = options.queueUrl ?? env['CRM_SYNC_QUEUE_URL'] ?? undefined;
  const dlqUrl = options.dlqUrl ?? env['CRM_SYNC_DLQ_URL'] ?? undefined;
  if (!dlqUrl) {
    if (options.stage) {
      throw new UsageError(
        `Pass the ${options.stage} stage's queue URLs with --queue-url and --dlq-url. They are the stack outputs ` +
          `CrmSyncQueueUrl and CrmSyncDlqUrl:\n  ${stackOutputsCommand(options.stage, options.region ?? env['AWS_REGION'])}`,
      );
    }
    const stack = await readStackEndpoints(options.cwd, { apiUrl: options.apiUrl }, env);
    if (!stack) {
      throw new UsageError(
        `No queue given and ${noStackFound({ apiUrl: options.apiUrl })}. Start one with \`npm start\`, or pass --dlq-url ` +
          '(and --queue-url) for a stage in AWS; `--stage <name>` prints how to find them.',
      );
    }
    return {
      client: localClient(stack.sqsEndpoint),
      queueUrl: stack.queueUrl,
      dlqUrl: stack.dlqUrl,
      where: 'local stack',
    };
  }
  for (const [flag, url] of [['--dlq-url', dlqUrl], ['--queue-url', queueUrl]] as const) {
    if (url === undefined) continue;
    try {
      new URL(url);
    } catch {
      throw new UsageError(`${flag} must be a queue URL`);
    }
  }
  const parsed = new URL(dlqUrl);
  if (LOCAL_HOSTS.has(parsed.hostname) || parsed.hostname.endsWith('.localhost')) {
    // The embedded SQS names its queues http://sqs.<region>.localhost:<port>/...; it listens on 127.0.0.1.
    const endpoint = env['AWS_ENDPOINT_URL_SQS'] ?? `http://127.0.0.1:${parsed.port || '80'}`;
    return { client: localClient(endpoint), queueUrl, dlqUrl, where: 'local stack' };
  }
  const region = options.region ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? regionOf(dlqUrl);
  return {
    client: new SQSClient({ useQueueUrlAsEndpoint: false, ...(region ? { region } : {}) }),
    queueUrl,
    dlqUrl,
    where: 'AWS',
  };
}

/**
 * A client for a local SQS-compatible endpoint (no AWS credentials needed). Same as
 * local/sqs.ts `localSqsClient`, without importing the embedded server into a CLI.
 */
export function localClient(endpoint: string): SQSClient {
  return new SQSClient({
    endpoint,
    region: 'us-east-1',
    useQueueUrlAsEndpoint: false,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}
