/**
 * The control function's wiring: the pause in the state table, the worker's event source
 * mapping through the Lambda API, the CRM probe, and one log line per run that says what
 * changed. The handler in functions/ only calls this.
 */
import { sharedCrmTokenProvider } from '#lib/auth';
import type { Loaded } from '#lib/config';
import { logger } from '#lib/observability';
import { controlCrmSync, type ControlReport } from './control.ts';
import { lambdaMapping, sharedLambdaClient } from './lambda.ts';
import type { PauseStore } from './pause.ts';
import { sharedCrmAdapter } from './crm-port.ts';
import { probeAdapter, probeCrm } from './probe.ts';

/** The control function's configuration: the `crm` section (the probe's adapter) and its own `control` section. */
export type SyncControlConfig = Loaded<'crm' | 'control'>;

/** What the control function is wired to besides its configuration. */
export interface SyncControlDeps {
  store: () => PauseStore;
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/** One control run; a failure (state table, Lambda API) is logged and rethrown so Lambda retries it. */
export async function runSyncControl(config: () => SyncControlConfig, deps: SyncControlDeps): Promise<ControlReport> {
  const settings = config();
  let report: ControlReport;
  try {
    report = await controlCrmSync(
      {
        store: deps.store(),
        mapping: lambdaMapping(sharedLambdaClient(), settings.control.mappingId),
        // The rest CRM keeps its probe (GET /customers, Retry-After read as is); the others go through their adapter.
        probe: () =>
          settings.crm.provider === 'rest' ? probeCrm({ baseUrl: settings.crm.baseUrl, tokens: sharedCrmTokenProvider(settings) }) : probeAdapter(sharedCrmAdapter(settings)),
        now: Date.now,
      },
      { probeIntervalMs: settings.control.probeIntervalMs },
    );
  } catch (error) {
    logger.error('CRM sync control run failed; the next run starts over from the pause', {
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    throw error;
  }
  const line = {
    action: report.action,
    ...(report.mappingChanged ? { mappingChanged: report.mappingChanged } : {}),
    ...(report.probe ? { probe: report.probe.kind, ...('reason' in report.probe ? { probeReason: report.probe.reason } : {}) } : {}),
    ...(report.pause
      ? { pauseKind: report.pause.kind, reason: report.pause.reason, until: iso(report.pause.until), since: iso(report.pause.since), failedProbes: report.pause.probes }
      : {}),
  };
  if (report.action === 'resumed') logger.warn('CRM sync resumed: the CRM answers again, the worker takes jobs again', line);
  else if (report.action === 'idle') logger.debug('CRM sync control: no pause', line);
  else logger.warn('CRM sync paused: the worker takes no jobs', line);
  return report;
}
