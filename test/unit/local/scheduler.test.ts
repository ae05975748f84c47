import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseScheduleIntervals, rateToMs, scheduledEvent, startScheduler } from '#local/scheduler.ts';
import type { LocalScheduler } from '#local/scheduler.ts';
import type { ScheduleSpec } from '#local/serverless-config.ts';

/** A schedule as serverless.yml declares it. */
const schedule = (overrides: Partial<ScheduleSpec> = {}): ScheduleSpec => ({
  functionKey: 'metricsReport',
  functionName: 'genesys-guest-sync-local-metricsReport',
  expression: 'rate(1 hour)',
  enabled: true,
  ...overrides,
});

describe('rateToMs', () => {
  it.each<[string, number | undefined]>([
    ['rate(1 minute)', 60_000],
    ['rate(5 minutes)', 300_000],
    ['rate(1 hour)', 3_600_000],
    ['rate(12 hours)', 43_200_000],
    ['rate(1 day)', 86_400_000],
    ['rate(7 days)', 604_800_000],
    ['  rate(15 minutes)  ', 900_000],
    ['cron(0 6 * * ? *)', undefined],
    ['cron(0/5 * * * ? *)', undefined],
    ['rate(5 seconds)', undefined],
    ['rate(1.5 hours)', undefined],
    ['rate(-5 minutes)', undefined],
    ['rate(five minutes)', undefined],
    ['rate(5minutes)', undefined],
    ['RATE(5 minutes)', undefined],
    ['rate(5 minutes', undefined],
    ['', undefined],
  ])('%j -> %s', (expression, expected) => {
    // Act
    const interval = rateToMs(expression);

    // Assess
    expect(interval).toBe(expected);
  });

  it('refuses a zero rate, which EventBridge rejects and which would fire without pause', () => {
    // Act
    const interval = rateToMs('rate(0 minutes)');

    // Assess
    expect(interval).toBeUndefined();
  });
});

describe('scheduledEvent', () => {
  it('is shaped like the event EventBridge delivers', () => {
    // Prepare
    const now = new Date('2025-01-15T06:00:00.000Z');

    // Act
    const event = scheduledEvent(schedule(), now);

    // Assess
    expect(event).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: '2025-01-15T06:00:00.000Z',
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:000000000000:rule/genesys-guest-sync-local-metricsReport'],
      detail: {},
    });
  });

  it('gives every event its own id', () => {
    // Act
    const first = scheduledEvent(schedule());
    const second = scheduledEvent(schedule());

    // Assess
    expect(first['id']).not.toBe(second['id']);
  });

  it('is the schedule input, as is, when serverless.yml sets one', () => {
    // Prepare
    const input = { period: 'daily', dryRun: true };

    // Act
    const event = scheduledEvent(schedule({ input }));

    // Assess
    expect(event).toEqual({ period: 'daily', dryRun: true });
  });
});

describe('startScheduler', () => {
  let scheduler: LocalScheduler | undefined;
  afterEach(() => {
    scheduler?.stop();
    scheduler = undefined;
    vi.useRealTimers();
  });

  it('fires a schedule on demand with an EventBridge event and resolves with the function result', async () => {
    // Prepare
    const invoke = vi.fn(async () => ({ reportId: 'report-1' }));
    scheduler = startScheduler([schedule({ expression: 'cron(0 6 * * ? *)' })], invoke);

    // Act
    const result = await scheduler.fire('metricsReport');

    // Assess
    expect(result).toEqual({ reportId: 'report-1' });
    expect(invoke).toHaveBeenCalledTimes(1);
    expect(invoke).toHaveBeenCalledWith(
      expect.objectContaining({ functionKey: 'metricsReport' }),
      expect.objectContaining({ 'detail-type': 'Scheduled Event', source: 'aws.events' }),
    );
  });

  it('fires a disabled schedule on demand too', async () => {
    // Prepare
    const invoke = vi.fn(async () => 'ran');
    scheduler = startScheduler([schedule({ enabled: false })], invoke);

    // Act
    const result = await scheduler.fire('metricsReport');

    // Assess
    expect(result).toBe('ran');
  });

  it('refuses an unknown function, naming it', async () => {
    // Prepare
    const invoke = vi.fn(async () => undefined);
    scheduler = startScheduler([schedule()], invoke);

    // Act
    const result = scheduler.fire('nightlyCleanup');

    // Assess
    await expect(result).rejects.toThrow('No scheduled function named "nightlyCleanup" in serverless.yml');
    expect(invoke).not.toHaveBeenCalled();
  });

  it('passes on the function failure when fired on demand', async () => {
    // Prepare
    scheduler = startScheduler([schedule()], async () => {
      throw new Error('report failed');
    });

    // Act
    const result = scheduler.fire('metricsReport');

    // Assess
    await expect(result).rejects.toThrow('report failed');
  });

  it('fires enabled rate schedules on their interval, and not cron or disabled ones', async () => {
    // Prepare
    vi.useFakeTimers();
    const fired: string[] = [];
    scheduler = startScheduler(
      [
        schedule({ functionKey: 'everyFive', expression: 'rate(5 minutes)' }),
        schedule({ functionKey: 'hourly', expression: 'rate(1 hour)' }),
        schedule({ functionKey: 'cron', expression: 'cron(0/5 * * * ? *)' }),
        schedule({ functionKey: 'disabled', expression: 'rate(1 minute)', enabled: false }),
      ],
      async (spec) => {
        fired.push(spec.functionKey);
      },
    );

    // Act
    await vi.advanceTimersByTimeAsync(60 * 60_000);

    // Assess
    expect(fired.filter((key) => key === 'everyFive')).toHaveLength(12);
    expect(fired.filter((key) => key === 'hourly')).toHaveLength(1);
    expect(fired).not.toContain('cron');
    expect(fired).not.toContain('disabled');
  });

  it('runs a schedule at the interval LOCAL_SCHEDULE_INTERVALS names for its function, on its own', async () => {
    // Prepare
    vi.useFakeTimers();
    const fired: string[] = [];
    scheduler = startScheduler(
      [schedule({ functionKey: 'crmSyncControl', expression: 'rate(1 minute)' }), schedule({ functionKey: 'other', expression: 'rate(1 minute)' })],
      async (spec) => {
        fired.push(spec.functionKey);
      },
      undefined,
      { intervalsMs: parseScheduleIntervals('crmSyncControl=2') },
    );

    // Act
    await vi.advanceTimersByTimeAsync(60_000);

    // Assess
    expect(fired.filter((key) => key === 'crmSyncControl')).toHaveLength(30);
    expect(fired.filter((key) => key === 'other')).toHaveLength(1);
  });

  it.each(['crmSyncControl', 'crmSyncControl=0', 'crmSyncControl=fast', '=2'])('refuses LOCAL_SCHEDULE_INTERVALS "%s", naming it', (value) => {
    expect(() => parseScheduleIntervals(value)).toThrow(value);
  });

  it('hands a timed run its own EventBridge event', async () => {
    // Prepare
    vi.useFakeTimers();
    const events: Record<string, unknown>[] = [];
    scheduler = startScheduler([schedule({ expression: 'rate(1 minute)' })], async (_spec, event) => {
      events.push(event);
    });

    // Act
    await vi.advanceTimersByTimeAsync(2 * 60_000);

    // Assess
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ 'detail-type': 'Scheduled Event', source: 'aws.events' });
    expect(events[0]?.['id']).not.toBe(events[1]?.['id']);
  });

  it('reports a failed timed run to onError and keeps the schedule running', async () => {
    // Prepare
    vi.useFakeTimers();
    const errors: string[] = [];
    let runs = 0;
    scheduler = startScheduler(
      [schedule({ expression: 'rate(1 minute)' })],
      async () => {
        runs += 1;
        throw new Error(`run ${runs} failed`);
      },
      (spec, error) => errors.push(`${spec.functionKey}: ${(error as Error).message}`),
    );

    // Act
    await vi.advanceTimersByTimeAsync(2 * 60_000);

    // Assess
    expect(errors).toEqual(['metricsReport: run 1 failed', 'metricsReport: run 2 failed']);
  });

  it('fires nothing more once stopped', async () => {
    // Prepare
    vi.useFakeTimers();
    const invoke = vi.fn(async () => undefined);
    scheduler = startScheduler([schedule({ expression: 'rate(1 minute)' })], invoke);
    await vi.advanceTimersByTimeAsync(60_000);

    // Act
    scheduler.stop();
    await vi.advanceTimersByTimeAsync(10 * 60_000);

    // Assess
    expect(invoke).toHaveBeenCalledTimes(1);
  });
});
