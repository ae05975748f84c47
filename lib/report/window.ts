/**
 * The report's time window: the last N hours up to now (rounded up to the minute) in
 * equal buckets, and where a timestamp falls in it. Pure.
 */
import { MAX_REPORT_WINDOW_HOURS } from '#lib/config';
import type { ReportWindow } from './types.ts';

const MINUTE_MS = 60_000;

/** What a caller may choose about a window; everything has a default (24 h, hourly). */
export interface WindowOptions {
  /** The window's end; defaults to now. Rounded up to the next whole minute. */
  end?: Date | number;
  hours?: number;
  bucketSeconds?: number;
}

/** Builds a window, refusing sizes that do not cut into whole buckets of whole minutes. */
export function reportWindow(options: WindowOptions = {}): ReportWindow {
  const hours = options.hours ?? 24;
  const bucketSeconds = options.bucketSeconds ?? 3600;
  if (!Number.isInteger(hours) || hours < 1 || hours > MAX_REPORT_WINDOW_HOURS) {
    throw new RangeError(`The report window must be a whole number of hours from 1 to ${MAX_REPORT_WINDOW_HOURS}`);
  }
  if (!Number.isInteger(bucketSeconds) || bucketSeconds < 60 || bucketSeconds % 60 !== 0 || (hours * 3600) % bucketSeconds !== 0) {
    throw new RangeError('The bucket size must be a whole number of minutes that divides the window');
  }
  const endInput = options.end === undefined ? Date.now() : typeof options.end === 'number' ? options.end : options.end.getTime();
  const end = Math.ceil(endInput / MINUTE_MS) * MINUTE_MS;
  return { start: end - hours * 3_600_000, end, bucketSeconds };
}

/** How many buckets the window has. */
export function bucketCount(window: ReportWindow): number {
  return Math.round((window.end - window.start) / (window.bucketSeconds * 1000));
}

/** The start of each bucket, epoch milliseconds. */
export function bucketStarts(window: ReportWindow): number[] {
  return Array.from({ length: bucketCount(window) }, (_, i) => window.start + i * window.bucketSeconds * 1000);
}

/** The bucket a timestamp falls in, or -1 outside the window. */
export function bucketIndex(window: ReportWindow, timestamp: number): number {
  if (!Number.isFinite(timestamp) || timestamp < window.start || timestamp >= window.end) return -1;
  return Math.floor((timestamp - window.start) / (window.bucketSeconds * 1000));
}

/** How many trailing buckets make up the last hour (at least one). */
export function lastHourBucketCount(window: ReportWindow): number {
  return Math.max(1, Math.min(bucketCount(window), Math.ceil(3600 / window.bucketSeconds)));
}
