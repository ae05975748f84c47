import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildReport } from '#lib/report/build.ts';
import { deliverReport } from '#lib/report/publish.ts';
import { renderHtml } from '#lib/report/render/html.ts';
import { renderMarkdown } from '#lib/report/render/markdown.ts';
import { startScriptedServer, type ScriptedServer } from '#test/support/scripted-server.ts';
import { busyDay, queue, WINDOW } from './fixtures.ts';

const s3 = mockClient(S3Client);
const report = buildReport({ window: WINDOW, stage: 'prod', source: 'fixture', generatedAt: Date.parse('2025-01-15T12:00:05.123Z'), fetch: { series: busyDay(), warnings: [] }, queue: queue() });
const output = { report, json: JSON.stringify(report), markdown: renderMarkdown(report), html: renderHtml(report) };

let server: ScriptedServer;
let url: string;
/** What the webhook answers (set per test). */
let answer = 200;
/** The webhook's requests: body and media type. */
const received = (): Array<{ body: string; type: string | undefined }> => server.requests.map((request) => ({ body: request.body, type: request.headers['content-type'] }));

beforeAll(async () => {
  server = await startScriptedServer([], { after: () => ({ status: answer, headers: { 'content-type': 'text/plain' }, body: 'ok' }) });
  url = `${server.url}/hook`;
});
afterAll(() => server.close());
beforeEach(() => {
  s3.reset();
  server.requests.length = 0;
  answer = 200;
});

describe('delivering a report', () => {
  it('writes the three files under the prefix, then posts the summary naming the HTML', async () => {
    // Prepare
    s3.on(PutObjectCommand).resolves({});

    // Act
    const result = await deliverReport(output, { bucket: 'acme-reports', prefix: 'metrics-reports/', webhookUrl: url }, { s3: () => new S3Client({ region: 'eu-west-1' }) });

    // Assess
    expect(result).toEqual({
      keys: ['metrics-reports/2025-01-15T12-00-05Z.json', 'metrics-reports/2025-01-15T12-00-05Z.md', 'metrics-reports/2025-01-15T12-00-05Z.html'],
      posted: true,
      errors: [],
    });
    expect(s3.commandCalls(PutObjectCommand).map((c) => [c.args[0].input.Bucket, c.args[0].input.ContentType])).toEqual([
      ['acme-reports', 'application/json'],
      ['acme-reports', 'text/markdown; charset=utf-8'],
      ['acme-reports', 'text/html; charset=utf-8'],
    ]);
    expect(received()).toHaveLength(1);
    expect(received()[0]?.type).toBe('application/json');
    expect(JSON.parse(received()[0]!.body).text).toContain('Full report: s3://acme-reports/metrics-reports/2025-01-15T12-00-05Z.html');
  });

  it('does nothing without a bucket or a webhook', async () => {
    const result = await deliverReport(output, { prefix: 'metrics-reports/' }, { s3: () => new S3Client({ region: 'eu-west-1' }) });
    expect(result).toEqual({ keys: [], posted: false, errors: [] });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('names every delivery that failed', async () => {
    // Prepare
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    answer = 500;

    // Act
    const result = await deliverReport(output, { bucket: 'acme-reports', prefix: '', webhookUrl: url }, { s3: () => new S3Client({ region: 'eu-west-1' }) });

    // Assess
    expect(result.keys).toEqual([]);
    expect(result.errors).toEqual([
      's3://acme-reports/2025-01-15T12-00-05Z.json: AccessDenied',
      's3://acme-reports/2025-01-15T12-00-05Z.md: AccessDenied',
      's3://acme-reports/2025-01-15T12-00-05Z.html: AccessDenied',
      'webhook answered 500',
    ]);
  });
});
