/** The control function's logic: keep the mapping off while paused, probe once an interval, resume. */
import { describe, expect, it } from 'vitest';
import { MemoryStateTable } from '#lib/state/table.ts';
import { probeResultOf, type ProbeResult } from '#lib/sync/outage.ts';
import { PAUSE_KEY, readPause, requestPause } from '#lib/sync/pause.ts';
import { mappingStateOf, type MappingState } from '#lib/sync/lambda.ts';
import { controlCrmSync } from '#lib/sync/control.ts';

const NOW = Date.UTC(2025, 2, 1, 12);
const INTERVAL = 60_000;

function harness(options: { mapping?: MappingState; probe?: ProbeResult; switchFails?: boolean } = {}) {
  const clock = { now: NOW };
  const store = new MemoryStateTable(() => clock.now);
  let state: MappingState = options.mapping ?? 'enabled';
  const switches: boolean[] = [];
  let probes = 0;
  const ports = {
    store,
    mapping: {
      state: async () => state,
      setEnabled: async (enabled: boolean) => {
        if (options.switchFails) throw new Error('ResourceInUseException');
        switches.push(enabled);
        state = enabled ? 'enabled' : 'disabled';
      },
    },
    probe: async (): Promise<ProbeResult> => {
      probes += 1;
      return options.probe ?? { kind: 'ok' };
    },
    now: () => clock.now,
  };
  return { ports, store, clock, switches, probes: () => probes, state: () => state };
}

const run = (h: ReturnType<typeof harness>) => controlCrmSync(h.ports, { probeIntervalMs: INTERVAL });

describe('controlCrmSync', () => {
  it('with no pause does nothing, even to a mapping an operator disabled', async () => {
    // Prepare
    const h = harness({ mapping: 'disabled' });

    // Act
    const report = await run(h);

    // Assess
    expect(report.action).toBe('idle');
    expect(h.switches).toEqual([]);
    expect(h.probes()).toBe(0);
  });

  it('while the pause holds: disables the mapping, and does not probe', async () => {
    // Prepare
    const h = harness();
    await requestPause(h.store, { kind: 'outage', reason: 'down', until: NOW + 30_000 }, NOW);

    // Act
    const first = await run(h);
    const second = await run(h);

    // Assess
    expect([first.action, first.mappingChanged, second.action, second.mappingChanged]).toEqual(['holding', 'disabled', 'holding', undefined]);
    expect(h.switches).toEqual([false]);
    expect(h.probes()).toBe(0);
  });

  it('once the pause runs out: probes, and on an answer re-enables the mapping and removes the pause', async () => {
    // Prepare
    const h = harness({ mapping: 'disabled' });
    await requestPause(h.store, { kind: 'outage', reason: 'down', until: NOW - 1 }, NOW - 60_000);

    // Act
    const report = await run(h);

    // Assess
    expect(report).toMatchObject({ action: 'resumed', mappingChanged: 'enabled', probe: { kind: 'ok' } });
    expect(h.state()).toBe('enabled');
    expect(await readPause(h.store)).toBeUndefined();
  });

  it('a failed probe extends the pause by one interval: at most one probe per interval, however often it runs', async () => {
    // Prepare
    const h = harness({ mapping: 'disabled', probe: { kind: 'down', reason: 'the CRM answered 503' } });
    await requestPause(h.store, { kind: 'outage', reason: 'down', until: NOW - 1 }, NOW - 60_000);

    // Act: a scheduled run and a worker's wake-up at the same moment, then 30 s later
    const runs = [await run(h), await run(h)];
    h.clock.now += 30_000;
    runs.push(await run(h));

    // Assess
    expect(runs.map((r) => r.action)).toEqual(['extended', 'holding', 'holding']);
    expect(h.probes()).toBe(1);
    expect(await readPause(h.store)).toMatchObject({ until: NOW + INTERVAL, probes: 1, reason: 'the CRM answered 503', phase: 'paused' });
    expect(h.state()).toBe('disabled');
  });

  it('a quota answer pauses until it resets', async () => {
    // Prepare
    const h = harness({ mapping: 'disabled', probe: { kind: 'limit', reason: 'quota', retryAfterMs: 4 * 3_600_000 } });
    await requestPause(h.store, { kind: 'outage', reason: 'down', until: NOW - 1 }, NOW - 60_000);

    // Act
    await run(h);

    // Assess
    expect(await readPause(h.store)).toMatchObject({ kind: 'limit', until: NOW + 4 * 3_600_000 });
  });

  it('a run that could not re-enable the mapping leaves the pause resuming, and the next run finishes it', async () => {
    // Prepare
    const h = harness({ mapping: 'disabled' });
    await requestPause(h.store, { kind: 'outage', reason: 'down', until: NOW - 1 }, NOW - 60_000);
    const failing = harness({ mapping: 'disabled', switchFails: true });

    // Act
    await expect(controlCrmSync({ ...failing.ports, store: h.store }, { probeIntervalMs: INTERVAL })).rejects.toThrow('ResourceInUseException');
    const pauseBetween = await readPause(h.store);
    const report = await run(h);

    // Assess
    expect(pauseBetween?.phase).toBe('resuming');
    expect(report.action).toBe('resumed');
    expect(h.state()).toBe('enabled');
    expect(await h.store.get(PAUSE_KEY)).toBeUndefined();
  });
});

describe('mappingStateOf', () => {
  it.each<[string, MappingState]>([
    ['Enabled', 'enabled'],
    ['Disabled', 'disabled'],
    ['Disabling', 'disabled'],
    ['Enabling', 'changing'],
    ['Updating', 'changing'],
    ['Creating', 'changing'],
  ])('%s is %s', (state, expected) => expect(mappingStateOf(state)).toBe(expected));
});

describe('probeResultOf', () => {
  it.each<[string, Parameters<typeof probeResultOf>[0], ProbeResult['kind']]>([
    ['200', { status: 200 }, 'ok'],
    ['404 (no such customer)', { status: 404 }, 'ok'],
    ['429 with a short Retry-After (throttling)', { status: 429, retryAfterMs: 2_000 }, 'ok'],
    ['429 with an hour to wait (a quota)', { status: 429, retryAfterMs: 3_600_000 }, 'limit'],
    ['429 without Retry-After', { status: 429 }, 'down'],
    ['401', { status: 401 }, 'credentials'],
    ['503', { status: 503 }, 'down'],
    ['no answer', { error: 'the CRM could not be reached' }, 'down'],
  ])('%s is %s', (_case, answer, kind) => expect(probeResultOf(answer).kind).toBe(kind));
});
