import { describe, expect, it } from 'vitest';
import { buildReport } from '#lib/report/build.ts';
import { renderChart } from '#lib/report/render/charts.ts';
import { CHART_COLORS, renderHtml } from '#lib/report/render/html.ts';
import { renderMarkdown } from '#lib/report/render/markdown.ts';
import { renderSlack } from '#lib/report/render/slack.ts';
import { busyDay, queue, WINDOW } from './fixtures.ts';

const report = buildReport({ window: WINDOW, stage: 'prod', source: 'fixture', generatedAt: WINDOW.end, fetch: { series: busyDay(), warnings: [] }, queue: queue({ dlqDepth: 2, dlqFailureCodes: { VALIDATION_ERROR: 2 } }) });
const empty = buildReport({ window: WINDOW, stage: 'prod', source: 'fixture', generatedAt: WINDOW.end, fetch: { series: [], warnings: [] }, queue: queue() });

describe('the Markdown summary', () => {
  it('leads with the health and the findings, then the figures', () => {
    // Act
    const markdown = renderMarkdown(report);

    // Assess
    expect(markdown).toContain('**Prefill: HEALTHY** · last 24 hours, 2025-01-14 12:00 UTC to 2025-01-15 12:00 UTC');
    expect(markdown).toContain('- **critical**: DLQ holds 2 record(s), 2 with VALIDATION_ERROR: inspect with npm run dlq:inspect');
    expect(markdown).toContain('| attempts | 100 | 30 |');
    expect(markdown).toContain('| session start rate | 97.0% | 96.7% |');
    expect(markdown).toContain('| latency | 290 ms avg, 260 ms p50, 700 ms p95, 1.1 s p99 | 400 ms avg, 380 ms p50, 900 ms p95, 1.2 s p99 |');
    expect(markdown).toContain('Failures by reason: not_found (2), throttled (1).');
    expect(markdown).toContain('Upserted by status: created (50), updated (33).');
    expect(markdown).toContain("| superseded (older than the CRM's version, not sent) | 5 | 0 |");
    expect(markdown).toContain('| chunks already applied (not sent again) | 1 | 0 |');
    expect(markdown).toContain('sessions measured: 4; average duration: 10 min; conversion rate: 25.0%');
    expect(markdown.indexOf('## Findings')).toBeLessThan(markdown.indexOf('## Prefill'));
  });

  it('says so when there was no traffic', () => {
    expect(renderMarkdown(empty)).toContain('No traffic in this window: the report is valid and every figure below is zero.');
  });
});

describe('the HTML page', () => {
  const html = renderHtml(report);

  it('is self-contained and phone-friendly: no script, no external asset, a viewport', () => {
    expect(html).not.toMatch(/<script|<link|src=|url\(/i);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
  });

  it('holds the four charts, each with its data drawn in its own colours', () => {
    // Assess
    for (const id of ['prefill-start-rate', 'prefill-latency', 'crm-throughput', 'queue-backlog']) {
      expect(html).toContain(`data-chart="${id}" data-has-data="true"`);
    }
    for (const color of Object.values(CHART_COLORS)) expect(html).toContain(`fill="${color}"`);
    expect(html.match(/class="bar"/g)).toHaveLength(3); // upserted in two hours, failed in one
  });

  it('escapes what it prints', () => {
    const hostile = { ...report, stage: '<img src=x onerror=alert(1)>' };
    expect(renderHtml(hostile)).not.toContain('<img');
  });

  it('draws empty charts with a note when there is no data', () => {
    expect(renderHtml(empty).match(/No data in this window/g)).toHaveLength(3);
  });
});

describe('a chart', () => {
  it('breaks a line at a gap and marks a lone point with a dot', () => {
    // Act
    const svg = renderChart({ id: 't', title: 'T', buckets: ['2025-01-15T00:00:00.000Z', '2025-01-15T01:00:00.000Z', '2025-01-15T02:00:00.000Z', '2025-01-15T03:00:00.000Z'], series: [{ name: 's', values: [1, 2, null, 3], color: '#123456', kind: 'line' }], formatY: String });

    // Assess
    expect(svg.match(/<polyline/g)).toHaveLength(1);
    expect(svg.match(/<circle/g)).toHaveLength(3);
  });
});

describe('the webhook summary', () => {
  it('is Slack-compatible JSON with the headline, findings and where the report is', () => {
    // Act
    const body = renderSlack(report, ['s3://reports/metrics-reports/2025-01-15T12-00-00Z.html']);

    // Assess
    expect(Object.keys(body)).toEqual(['text']);
    expect(body.text.split('\n')[0]).toBe('*Genesys guest sync (prod)*: prefill *HEALTHY*, 97.0% of 100 attempts in the last 24 hours; CRM 83 upserted, 2 failed; DLQ 2.');
    expect(body.text).toContain('• [critical] DLQ holds 2 record(s)');
    expect(body.text).toContain('Full report: s3://reports/metrics-reports/2025-01-15T12-00-00Z.html');
  });
});
