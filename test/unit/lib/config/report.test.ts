/** The metrics report's section (`report`): where to deliver, how long a window, and which EMF file to read locally. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '#lib/config';

type Env = Record<string, string | undefined>;

/** The report function's own settings, as its cold start reads them. */
const loadReportSettings = (env: Env) => loadConfig(['report'], env).report;

describe('the report settings', () => {
  describe.each([
    { env: {}, expected: { bucket: undefined, prefix: 'metrics-reports/', webhookUrl: undefined, windowHours: 24, metricsFile: undefined } },
    { env: { REPORT_BUCKET: 'acme-reports', REPORT_PREFIX: 'ops/reports', REPORT_WINDOW_HOURS: '6', REPORT_WEBHOOK_URL: 'https://hooks.example.com/x', REPORT_METRICS_FILE: '/tmp/emf.jsonl' }, expected: { bucket: 'acme-reports', prefix: 'ops/reports/', webhookUrl: 'https://hooks.example.com/x', windowHours: 6, metricsFile: '/tmp/emf.jsonl' } },
    { env: { REPORT_BUCKET: '', REPORT_WEBHOOK_URL: '' }, expected: { bucket: undefined, prefix: 'metrics-reports/', webhookUrl: undefined, windowHours: 24, metricsFile: undefined } },
  ])('from $env', ({ env, expected }) => {
    it('are read with their defaults', () => {
      expect(loadReportSettings(env)).toEqual(expected);
    });
  });

  describe.each([
    { env: { REPORT_BUCKET: 'Not_A_Bucket' }, variable: 'REPORT_BUCKET' },
    { env: { REPORT_WEBHOOK_URL: 'http://hooks.example.com/x' }, variable: 'REPORT_WEBHOOK_URL' },
    { env: { REPORT_WINDOW_HOURS: '0' }, variable: 'REPORT_WINDOW_HOURS' },
    { env: { REPORT_WINDOW_HOURS: '1.5' }, variable: 'REPORT_WINDOW_HOURS' },
    { env: { REPORT_PREFIX: '/abs' }, variable: 'REPORT_PREFIX' },
  ])('from $env', ({ env, variable }) => {
    it(`fail naming ${variable}`, () => {
      expect(() => loadReportSettings(env)).toThrow(expect.objectContaining({ variables: [variable] }));
    });
  });
});
