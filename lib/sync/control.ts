/**
 * The CRM sync control (docs/api.md section 5): keeps the worker's event source mapping off
 * while the pause holds, probes the CRM at most once per probe interval after it has run
 * out, and turns the mapping back on when the CRM answers. It runs on a schedule (every
 * minute) and whenever the worker sees an outage; every run reconciles from the pause
 * item, so a run that fails half-way is finished by the next one.
 *
 * It only ever re-enables a mapping it disabled itself (a pause in its `resuming`
 * phase): a mapping an operator turned off by hand, with no pause, is left alone.
 */
import type { MappingPort } from './lambda.ts';
import type { ProbeResult } from './outage.ts';
import { isConditionFailed, PAUSE_KEY, readPause, type PauseItem, type PauseStore } from './pause.ts';

/** What the control needs from the outside world. */
export interface ControlPorts {
  store: PauseStore;
  mapping: MappingPort;
  /** One cheap CRM request. Never throws. */
  probe(): Promise<ProbeResult>;
  /** Epoch ms. */
  now(): number;
}

/** What one control run did, for its log line and for tests. */
export type ControlAction =
  /** No pause: nothing to do. */
  | 'idle'
  /** The pause holds; the mapping is (now) off. */
  | 'holding'
  /** Another run claimed this probe: nothing done. */
  | 'probe-claimed-elsewhere'
  /** The probe failed: the pause goes on. */
  | 'extended'
  /** The CRM answered: the mapping is back on and the pause is gone. */
  | 'resumed';

/** A control run's outcome. */
export interface ControlReport {
  action: ControlAction;
  /** Whether this run switched the mapping. */
  mappingChanged?: 'disabled' | 'enabled';
  /** The probe's result, when this run probed. */
  probe?: ProbeResult;
  pause?: Pick<PauseItem, 'until' | 'since' | 'kind' | 'reason' | 'probes'>;
}

/** Turns the mapping off unless it is off already; resolves whether it switched it. */
async function ensureDisabled(mapping: MappingPort): Promise<boolean> {
  if ((await mapping.state()) === 'disabled') return false;
  await mapping.setEnabled(false);
  return true;
}

const summaryOf = (pause: PauseItem): ControlReport['pause'] => ({ until: pause.until, since: pause.since, kind: pause.kind, reason: pause.reason, probes: pause.probes });

/** Turns the mapping back on and removes the pause (unless a worker paused again meanwhile). */
async function resume(ports: ControlPorts, resuming: PauseItem): Promise<ControlReport> {
  let mappingChanged: ControlReport['mappingChanged'];
  if ((await ports.mapping.state()) !== 'enabled') {
    await ports.mapping.setEnabled(true);
    mappingChanged = 'enabled';
  }
  try {
    await ports.store.delete(PAUSE_KEY, { kind: 'equals', field: 'phase', value: 'resuming' });
  } catch (error) {
    // A worker saw a new outage in between: the next run disables the mapping again.
    if (!isConditionFailed(error)) throw error;
  }
  return { action: 'resumed', ...(mappingChanged ? { mappingChanged } : {}), pause: summaryOf(resuming) };
}

/**
 * One control run. Throws only when the state table or the Lambda API fails (the next
 * run, a minute later, starts over from the pause item).
 */
export async function controlCrmSync(ports: ControlPorts, settings: { probeIntervalMs: number }): Promise<ControlReport> {
  const pause = await readPause(ports.store);
  if (!pause) return { action: 'idle' };
  if (pause.phase === 'resuming') return resume(ports, pause);

  const disabled = await ensureDisabled(ports.mapping);
  const mappingChanged: ControlReport['mappingChanged'] = disabled ? 'disabled' : undefined;
  const now = ports.now();
  if (pause.until > now) return { action: 'holding', ...(mappingChanged ? { mappingChanged } : {}), pause: summaryOf(pause) };

  // The pause has run out: claim this probe first, so two runs never probe in one interval.
  const claimed: PauseItem = { ...pause, until: now + settings.probeIntervalMs };
  try {
    await ports.store.put(claimed, { kind: 'equals', field: 'until', value: pause.until });
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
    return { action: 'probe-claimed-elsewhere', ...(mappingChanged ? { mappingChanged } : {}) };
  }

  const probe = await ports.probe();
  const after = ports.now();
  let next: PauseItem;
  if (probe.kind === 'ok') {
    next = { ...claimed, phase: 'resuming' };
  } else {
    next = {
      ...claimed,
      kind: probe.kind === 'down' ? 'outage' : probe.kind,
      reason: probe.reason,
      probes: claimed.probes + 1,
      until: probe.kind === 'limit' ? after + probe.retryAfterMs : claimed.until,
    };
  }
  try {
    await ports.store.put(next, { kind: 'equals', field: 'until', value: claimed.until });
  } catch (error) {
    // A worker extended the pause while we probed: its pause stands.
    if (!isConditionFailed(error)) throw error;
    return { action: 'extended', probe, ...(mappingChanged ? { mappingChanged } : {}) };
  }
  if (probe.kind === 'ok') return { ...(await resume(ports, next)), probe };
  return { action: 'extended', probe, ...(mappingChanged ? { mappingChanged } : {}), pause: summaryOf(next) };
}
