/**
 * The metrics report's own settings, from the environment: where to deliver, how long a
 * window, and (locally) which EMF file to read instead of CloudWatch.
 */
import { ConfigError } from '#lib/errors';
import { MAX_WINDOW_HOURS } from './window.ts';

/** The report's settings. */
export interface ReportSettings {
  bucket: string | undefined;
  prefix: string;
  webhookUrl: string | undefined;
  windowHours: number;
  /** Set by the local stack: read this EMF file instead of CloudWatch. */
  metricsFile: string | undefined;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Reads and checks the settings; one ConfigError names every bad variable. */
export function loadReportSettings(env: Record<string, string | undefined> = process.env): ReportSettings {
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === '' ? undefined : raw;
  };
  const bucket = value('REPORT_BUCKET');
  if (bucket !== undefined && !BUCKET.test(bucket)) problems.push('REPORT_BUCKET must be an S3 bucket name');
  let prefix = value('REPORT_PREFIX') ?? 'metrics-reports/';
  if (prefix.startsWith('/') || prefix.includes('*')) problems.push('REPORT_PREFIX must be a key prefix without a leading / or *');
  if (prefix !== '' && !prefix.endsWith('/')) prefix = `${prefix}/`;
  const webhookUrl = value('REPORT_WEBHOOK_URL');
  if (webhookUrl !== undefined) {
    try {
      const url = new URL(webhookUrl);
      if (!(url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname)))) throw new Error('protocol');
    } catch {
      problems.push('REPORT_WEBHOOK_URL must be an https URL');
    }
  }
  const hoursRaw = value('REPORT_WINDOW_HOURS');
  const windowHours = hoursRaw === undefined ? 24 : Number(hoursRaw);
  if (!/^\d+$/.test(hoursRaw ?? '24') || windowHours < 1 || windowHours > MAX_WINDOW_HOURS) {
    problems.push(`REPORT_WINDOW_HOURS must be an integer from 1 to ${MAX_WINDOW_HOURS}`);
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`, problems.map((p) => p.split(' ')[0] ?? p));
  }
  return { bucket, prefix, webhookUrl, windowHours, metricsFile: value('REPORT_METRICS_FILE') };
}
