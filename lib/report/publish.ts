/**
 * Where a report goes in AWS: its three files to `REPORT_BUCKET` under the prefix, and a
 * Slack-compatible summary to `REPORT_WEBHOOK_URL`. Each delivery is tried; failures are
 * collected and named, never swallowed.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { reportStamp, type ReportOutput } from './produce.ts';
import { renderSlack } from './render/slack.ts';

/** Where to deliver. */
export interface DeliveryTargets {
  bucket?: string | undefined;
  /** Key prefix, ending with `/` (or empty). */
  prefix: string;
  webhookUrl?: string | undefined;
}

/** What was delivered, and what failed. */
export interface DeliveryResult {
  keys: string[];
  posted: boolean;
  errors: string[];
}

const CONTENT_TYPES = { json: 'application/json', md: 'text/markdown; charset=utf-8', html: 'text/html; charset=utf-8' } as const;

/** Writes the files, then posts the summary (naming the stored HTML). */
export async function deliverReport(
  output: ReportOutput,
  targets: DeliveryTargets,
  clients: { s3?: () => S3Client; fetch?: typeof fetch; timeoutMs?: number },
): Promise<DeliveryResult> {
  const result: DeliveryResult = { keys: [], posted: false, errors: [] };
  if (targets.bucket && clients.s3) {
    const base = `${targets.prefix}${reportStamp(output.report)}`;
    const files = [
      [`${base}.json`, output.json, CONTENT_TYPES.json],
      [`${base}.md`, output.markdown, CONTENT_TYPES.md],
      [`${base}.html`, output.html, CONTENT_TYPES.html],
    ] as const;
    const s3 = clients.s3();
    const settled = await Promise.allSettled(
      files.map(([key, body, contentType]) => s3.send(new PutObjectCommand({ Bucket: targets.bucket, Key: key, Body: body, ContentType: contentType }))),
    );
    settled.forEach((outcome, i) => {
      const key = files[i]![0];
      if (outcome.status === 'fulfilled') result.keys.push(key);
      else result.errors.push(`s3://${targets.bucket}/${key}: ${outcome.reason instanceof Error ? outcome.reason.name || outcome.reason.message : String(outcome.reason)}`);
    });
  }
  if (targets.webhookUrl) {
    const links = result.keys.filter((k) => k.endsWith('.html')).map((k) => `s3://${targets.bucket}/${k}`);
    try {
      const response = await (clients.fetch ?? fetch)(targets.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(renderSlack(output.report, links)),
        signal: AbortSignal.timeout(clients.timeoutMs ?? 5_000),
      });
      if (response.ok) result.posted = true;
      else result.errors.push(`webhook answered ${response.status}`);
    } catch (error) {
      result.errors.push(`webhook failed: ${error instanceof Error ? error.name : String(error)}`);
    }
  }
  return result;
}
