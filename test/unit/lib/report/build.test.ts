import { describe, expect, it } from 'vitest';
import { MetricNames } from '#lib/observability';
import { buildReport, healthScore } from '#lib/report/build.ts';
import type { FetchedSeries, QueueSnapshot } from '#lib/report/types.ts';
import { busyDay, byReason, queue, series, sum, WINDOW, windowSeries } from './fixtures.ts';

/** Builds a report; `null` stands for queues that could not be read. */
const build = (series: FetchedSeries[], snapshot: QueueSnapshot | null = queue(), warnings: string[] = []) =>
  buildReport({ window: WINDOW, stage: 'prod', source: 'fixture', generatedAt: WINDOW.end, fetch: { series, warnings }, queue: snapshot ?? undefined });

describe('the report builder on a busy day', () => {
  const report = build(busyDay());

  it('counts prefill attempts, successes and failures by reason over the window and the last hour', () => {
    // Assess
    expect(report.prefill.window).toMatchObject({ attempts: 100, successes: 97, failures: 3, failuresByReason: { not_found: 2, throttled: 1 } });
    expect(report.prefill.lastHour).toMatchObject({ attempts: 30, successes: 29, failures: 1, failuresByReason: { throttled: 1 } });
  });

  it('computes the session start rate and the health score', () => {
    expect(report.prefill.window.startRate).toBe(0.97);
    expect(report.prefill.window.health).toBe('healthy');
    expect(report.prefill.lastHour.startRate).toBe(0.9667);
    expect(report.prefill.lastHour.health).toBe('healthy');
    expect(report.health).toBe('healthy');
  });

  it('weights the average latency by samples and takes window percentiles from the window series', () => {
    // (200*40 + 300*30 + 400*30) / 100 = 290
    expect(report.prefill.window.latencyMs).toEqual({ avg: 290, p50: 260, p95: 700, p99: 1100, samples: 100 });
    expect(report.prefill.lastHour.latencyMs).toEqual({ avg: 400, p50: 380, p95: 900, p99: 1200, samples: 30 });
  });

  it('reads webhooks, CRM statuses, coalescing, failures by code and engagement', () => {
    expect(report.webhook.window).toEqual({ accepted: 15, ignored: 4, rejected: 2, rejectedByReason: { signature: 2 } });
    expect(report.webhook.lastHour).toEqual({ accepted: 3, ignored: 0, rejected: 0, rejectedByReason: {} });
    expect(report.crm.window).toMatchObject({
      received: 90,
      upserted: 83,
      upsertedByStatus: { created: 50, updated: 33 },
      coalesced: 5,
      superseded: 5,
      chunksReplayed: 1,
      failedPermanently: 2,
      failedByCode: { VALIDATION_ERROR: 2 },
      chunks: 2,
    });
    expect(report.engagement?.window).toEqual({ sessions: 4, avgDurationMinutes: 10, conversions: 1, conversionRate: 0.25 });
    expect(report.coldStarts).toBe(4);
  });

  it('fills one value per hourly bucket for the charts', () => {
    expect(report.series.buckets).toHaveLength(24);
    expect(report.series.buckets[0]).toBe('2025-01-14T12:00:00.000Z');
    expect(report.series.prefillAttempts[10]).toBe(30);
    expect(report.series.prefillStartRate[10]).toBe(0.9333);
    expect(report.series.prefillStartRate[0]).toBeNull();
    expect(report.series.crmUpserted[3]).toBe(45);
    expect(report.series.crmFailed[11]).toBe(2);
  });

  it('is a versioned document', () => {
    expect(report).toMatchObject({ schema: 'genesys-guest-sync/metrics-report', schemaVersion: 1, stage: 'prod', window: { hours: 24, bucketSeconds: 3600 } });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });
});

describe('the health score', () => {
  describe.each([
    { successes: 95, attempts: 100, expected: 'healthy' },
    { successes: 19, attempts: 20, expected: 'healthy' },
    { successes: 94, attempts: 100, expected: 'degraded' },
    { successes: 949, attempts: 1000, expected: 'degraded' },
    { successes: 100, attempts: 100, expected: 'healthy' },
    { successes: 0, attempts: 0, expected: 'no-traffic' },
  ])('$successes of $attempts', ({ successes, attempts, expected }) => {
    it(`is ${expected} (threshold: a start rate of at least 0.95)`, () => {
      // Prepare
      const failures = attempts - successes;
      const fixture = [
        sum(MetricNames.PrefillAttempts, attempts ? { 5: attempts } : {}),
        sum(MetricNames.PrefillSuccesses, successes ? { 5: successes } : {}),
        ...(failures ? [byReason(MetricNames.PrefillFailures, 'upstream', { 5: failures })] : []),
      ];

      // Act
      const report = build(fixture);

      // Assess
      expect(report.prefill.window.health).toBe(expected);
      expect(report.health).toBe(expected);
      expect(healthScore(attempts, attempts ? successes / attempts : null)).toBe(expected);
      expect(report.findings.some((f) => f.code === 'prefill-degraded')).toBe(expected === 'degraded');
    });
  });
});

describe('an empty window', () => {
  it('is a valid report that says there was no traffic', () => {
    // Act
    const report = build([]);

    // Assess
    expect(report.noTraffic).toBe(true);
    expect(report.health).toBe('no-traffic');
    expect(report.prefill.window).toMatchObject({ attempts: 0, startRate: null, latencyMs: { avg: null, p95: null, samples: 0 } });
    expect(report.engagement).toBeNull();
    expect(report.series.prefillAttempts).toEqual(new Array(24).fill(0));
    expect(report.findings.map((f) => f.code)).toEqual(['no-traffic']);
    expect(report.findings[0]?.message).toMatch(/^No traffic in the last 24 hours/);
  });

  it('ignores data points outside the window', () => {
    // Prepare
    const outside: FetchedSeries = { queryId: 'prefillAttempts_sum_bucket', points: [{ timestamp: WINDOW.end, value: 5 }, { timestamp: WINDOW.start - 1, value: 7 }] };

    // Act
    const report = build([outside]);

    // Assess
    expect(report.prefill.window.attempts).toBe(0);
    expect(report.noTraffic).toBe(true);
  });
});

describe('missing series', () => {
  it('counts attempts as successes plus failures when the attempts series is missing, and says so', () => {
    // Act
    const report = build([sum(MetricNames.PrefillSuccesses, { 4: 8 }), byReason(MetricNames.PrefillFailures, 'validation', { 4: 2 })]);

    // Assess
    expect(report.prefill.window).toMatchObject({ attempts: 10, successes: 8, failures: 2, startRate: 0.8, health: 'degraded' });
    expect(report.warnings).toContain('The PrefillAttempts series is missing: attempts are counted as successes plus failures.');
  });

  it('has no latency figures without latency series, and no window percentiles without window series', () => {
    // Act
    const report = build([sum(MetricNames.PrefillAttempts, { 1: 3 }), sum(MetricNames.PrefillSuccesses, { 1: 3 }), series(MetricNames.PrefillLatency, 'Average', { 1: 120 }), series(MetricNames.PrefillLatency, 'SampleCount', { 1: 3 })]);

    // Assess
    expect(report.prefill.window.latencyMs).toEqual({ avg: 120, p50: null, p95: null, p99: null, samples: 3 });
  });

  it('reports the queues as unreadable when there is no snapshot', () => {
    // Act
    const report = build(busyDay(), null);

    // Assess
    expect(report.queue).toBeNull();
    expect(report.warnings).toContain('The queues could not be read: backlog and DLQ figures are missing.');
    expect(report.findings.some((f) => f.code === 'partial-data')).toBe(true);
  });

  it('passes the source warnings through', () => {
    const report = build(busyDay(), queue(), ['CloudWatch returned incomplete data for prefillAttempts_sum_bucket: PartialData.']);
    expect(report.warnings).toEqual(['CloudWatch returned incomplete data for prefillAttempts_sum_bucket: PartialData.']);
  });
});

describe('counters with a breakdown', () => {
  describe.each([
    { emitted: 'plain total and breakdown', fixture: [sum(MetricNames.CrmRecordsFailedPermanently, { 2: 3 }), byReason(MetricNames.CrmRecordsFailedPermanently, 'VALIDATION_ERROR', { 2: 2 }), byReason(MetricNames.CrmRecordsFailedPermanently, 'CONFLICT', { 2: 1 })] },
    { emitted: 'breakdown only', fixture: [byReason(MetricNames.CrmRecordsFailedPermanently, 'VALIDATION_ERROR', { 2: 2 }), byReason(MetricNames.CrmRecordsFailedPermanently, 'CONFLICT', { 2: 1 })] },
  ])('emitted as $emitted', ({ fixture }) => {
    it('total once, never twice', () => {
      const report = build(fixture);
      expect(report.crm.window.failedPermanently).toBe(3);
      expect(report.crm.window.failedByCode).toEqual({ VALIDATION_ERROR: 2, CONFLICT: 1 });
    });
  });

  it('adds up a label reported by several functions', () => {
    const report = build([byReason(MetricNames.WebhookRejected, 'stale', { 1: 1 }), byReason(MetricNames.WebhookRejected, 'stale', { 1: 2 })]);
    expect(report.webhook.window.rejectedByReason).toEqual({ stale: 3 });
  });
});

describe('findings', () => {
  it('names the DLQ depth and its top failure code with what to do', () => {
    // Act
    const report = build(busyDay(), queue({ dlqDepth: 12, dlqFailureCodes: { VALIDATION_ERROR: 10, unknown: 2 } }));

    // Assess
    expect(report.queue?.topFailureCodes).toEqual([{ code: 'VALIDATION_ERROR', count: 10 }, { code: 'unknown', count: 2 }]);
    expect(report.queue?.failureCodesFrom).toBe('dlq-messages');
    expect(report.findings[0]).toEqual({
      severity: 'critical',
      code: 'dlq-not-empty',
      message: 'DLQ holds 12 record(s), 10 with VALIDATION_ERROR: inspect with npm run dlq:inspect, fix the cause, then redrive with npm run dlq:redrive.',
    });
  });

  it('falls back to the worker metrics for failure codes when the DLQ messages cannot be read', () => {
    const report = build(busyDay(), queue({ dlqDepth: 2 }));
    expect(report.queue?.failureCodesFrom).toBe('metrics');
    expect(report.findings.find((f) => f.code === 'dlq-not-empty')?.message).toContain('recent permanent failures: VALIDATION_ERROR 2');
  });

  describe.each([
    { code: 'prefill-degraded', severity: 'critical', fixture: [sum(MetricNames.PrefillAttempts, { 1: 10 }), sum(MetricNames.PrefillSuccesses, { 1: 8 }), byReason(MetricNames.PrefillFailures, 'not_found', { 1: 2 })], snapshot: queue(), expected: 'Prefill start rate is 80.0% (8 of 10 attempts) over the last 24 hours, below the 95% target. Most failures: not_found (2); sessions were unknown or expired when prefilled' },
    { code: 'prefill-degraded-last-hour', severity: 'warning', fixture: [sum(MetricNames.PrefillAttempts, { 1: 100, 23: 10 }), sum(MetricNames.PrefillSuccesses, { 1: 100, 23: 8 }), byReason(MetricNames.PrefillFailures, 'throttled', { 23: 2 })], snapshot: queue(), expected: 'Prefill start rate dropped to 80.0% in the last hour (8 of 10). Most failures: throttled (2); Genesys rate-limited' },
    { code: 'prefill-slow', severity: 'warning', fixture: [sum(MetricNames.PrefillAttempts, { 1: 2 }), sum(MetricNames.PrefillSuccesses, { 1: 2 }), series(MetricNames.PrefillLatency, 'Average', { 1: 2000 }), series(MetricNames.PrefillLatency, 'SampleCount', { 1: 2 }), windowSeries(MetricNames.PrefillLatency, 'p95', 2500)], snapshot: queue(), expected: 'Prefill is slow: p95 2.5 s (target under 2.0 s)' },
    { code: 'webhook-rejected', severity: 'warning', fixture: [byReason(MetricNames.WebhookRejected, 'signature', { 1: 3 })], snapshot: queue(), expected: '3 webhook event(s) were rejected in the last 24 hours: signature (3); the signature did not match' },
    { code: 'queue-behind', severity: 'warning', fixture: [], snapshot: queue({ backlog: 340, oldestAgeSeconds: 1500 }), expected: 'The oldest CRM sync job has waited 25 min (backlog 340): the worker is behind or stopped.' },
    { code: 'crm-breaker-opened', severity: 'warning', fixture: [sum(MetricNames.CrmBreakerOpened, { 1: 2 })], snapshot: queue(), expected: 'The CRM circuit breaker opened 2 time(s) in the last 24 hours' },
    { code: 'outbox-used', severity: 'warning', fixture: [sum(MetricNames.JobsKeptInOutbox, { 1: 5 }), sum(MetricNames.OutboxSent, { 2: 3 })], snapshot: queue(), expected: '5 CRM sync job(s) were kept in the outbox in the last 24 hours because SQS did not take them in time; the sweep sent 3, so about 2 may still be waiting' },
    { code: 'outbox-used', severity: 'info', fixture: [sum(MetricNames.JobsKeptInOutbox, { 1: 4 }), sum(MetricNames.OutboxSent, { 2: 4 })], snapshot: queue(), expected: 'the sweep sent 4.' },
    { code: 'crm-permanent-failures', severity: 'warning', fixture: [byReason(MetricNames.CrmRecordsFailedPermanently, 'VALIDATION_ERROR', { 1: 1 })], snapshot: queue({ dlqDepth: 0 }), expected: '1 CRM record(s) failed permanently in the last 24 hours (VALIDATION_ERROR (1)); the DLQ is empty now' },
  ])('$code', ({ code, severity, fixture, snapshot, expected }) => {
    it('is reported in plain words', () => {
      // Act
      const report = build(fixture, snapshot);

      // Assess
      const finding = report.findings.find((f) => f.code === code);
      expect(finding?.severity).toBe(severity);
      expect(finding?.message).toContain(expected);
      expect(report.findings.some((f) => f.code === 'all-clear')).toBe(false);
    });
  });

  it('says all is clear on a healthy day, most severe findings first otherwise', () => {
    // Act
    const healthy = build(busyDay().filter((s) => !s.queryId.startsWith('webhookRejected') && !s.queryId.startsWith('crmRecordsFailedPermanently')));
    const troubled = build(busyDay(), queue({ dlqDepth: 1, dlqFailureCodes: { CONFLICT: 1 } }));

    // Assess
    expect(healthy.findings.map((f) => f.code)).toEqual(['all-clear']);
    expect(healthy.findings[0]?.message).toBe('Prefill is healthy (97.0% of 100 attempts); the CRM is in sync (backlog 0, DLQ 0). Nothing to do.');
    expect(troubled.findings.map((f) => f.severity)).toEqual(['critical', 'warning']);
  });
});
