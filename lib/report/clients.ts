/** The report function's AWS clients, one per container (reused while warm). */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { S3Client } from '@aws-sdk/client-s3';
import { awsRequestHandler } from '#lib/net';

let cloudwatch: CloudWatchClient | undefined;
let s3: S3Client | undefined;

/** The container's CloudWatch client. */
export function sharedCloudWatchClient(): CloudWatchClient {
  cloudwatch ??= new CloudWatchClient({ requestHandler: awsRequestHandler(10_000) });
  return cloudwatch;
}

/** The container's S3 client. */
export function sharedS3Client(): S3Client {
  s3 ??= new S3Client({ requestHandler: awsRequestHandler(10_000) });
  return s3;
}

/** Drops the shared clients so a test can build them again. */
export function resetMetricsClientsForTests(): void {
  cloudwatch?.destroy();
  s3?.destroy();
  cloudwatch = undefined;
  s3 = undefined;
}
