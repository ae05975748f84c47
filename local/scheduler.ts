/**
 * The local stand-in for EventBridge schedules: `rate(...)` schedules fire on their
 * interval by themselves, and any schedule can be fired on demand. Cron expressions fire
 * on demand only. `LOCAL_SCHEDULE_INTERVALS` (`crmSyncControl=2,outboxSweep=5`, seconds)
 * runs named functions' schedules faster than their rate, so tests need not wait minutes.
 */
import type { ScheduleSpec } from './serverless-config.ts';

const UNIT_MS: Record<string, number> = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 };

/** The interval of a `rate(N unit)` expression, or undefined for cron or malformed ones. */
export function rateToMs(expression: string): number | undefined {
  const match = /^rate\(([1-9]\d*)\s+(minutes?|hours?|days?)\)$/.exec(expression.trim());
  if (!match) return undefined;
  const unit = UNIT_MS[match[2] ?? ''];
  return unit === undefined ? undefined : Number(match[1]) * unit;
}

/** The event EventBridge delivers to a scheduled function. */
export function scheduledEvent(spec: ScheduleSpec, now = new Date()): Record<string, unknown> {
  if (spec.input !== undefined) return spec.input as Record<string, unknown>;
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: now.toISOString(),
    region: 'us-east-1',
    resources: [`arn:aws:events:us-east-1:000000000000:rule/${spec.functionName}`],
    detail: {},
  };
}

/**
 * Reads `LOCAL_SCHEDULE_INTERVALS` (`functionKey=seconds` pairs, comma-separated) as ms
 * per function key; throws naming the first malformed pair.
 */
export function parseScheduleIntervals(value: string | undefined): Record<string, number> {
  const intervals: Record<string, number> = {};
  for (const pair of (value ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const match = /^([A-Za-z0-9_-]+)=(\d+(?:\.\d+)?)$/.exec(pair);
    const seconds = Number(match?.[2]);
    if (!match?.[1] || !(seconds > 0)) throw new Error(`LOCAL_SCHEDULE_INTERVALS: "${pair}" is not functionKey=seconds (seconds > 0)`);
    intervals[match[1]] = seconds * 1000;
  }
  return intervals;
}

/** Running local schedules. */
export interface LocalScheduler {
  /** Fires the named function's schedule now; resolves with its result. */
  fire(functionKey: string): Promise<unknown>;
  stop(): void;
}

/** Starts timers for the enabled rate schedules; `invoke` runs the function. */
export function startScheduler(
  schedules: ScheduleSpec[],
  invoke: (spec: ScheduleSpec, event: Record<string, unknown>) => Promise<unknown>,
  onError: (spec: ScheduleSpec, error: unknown) => void = () => undefined,
  options: { intervalsMs?: Record<string, number> } = {},
): LocalScheduler {
  const timers = schedules
    .filter((spec) => spec.enabled)
    .flatMap((spec) => {
      const rate = rateToMs(spec.expression);
      const interval = rate === undefined ? undefined : (options.intervalsMs?.[spec.functionKey] ?? rate);
      if (interval === undefined) return [];
      const timer = setInterval(() => {
        invoke(spec, scheduledEvent(spec)).catch((error: unknown) => onError(spec, error));
      }, interval);
      timer.unref();
      return [timer];
    });
  return {
    fire: async (functionKey) => {
      const spec = schedules.find((s) => s.functionKey === functionKey);
      if (!spec) throw new Error(`No scheduled function named "${functionKey}" in serverless.yml`);
      return invoke(spec, scheduledEvent(spec));
    },
    stop: () => timers.forEach((timer) => clearInterval(timer)),
  };
}
