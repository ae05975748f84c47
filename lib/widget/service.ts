/**
 * `GET /widget/config` end to end: the deployment must be Active, the user's allowlisted
 * attributes are stored as a prepared session (so the events function can re-assert the
 * token's verified values on the conversation whatever the browser sends), and the body
 * hands the page the Messenger map with that session's `gsRef`. Only the allowlisted
 * attributes are stored; `guestDetails` (name, email, phone) never leaves this function
 * except in the answer to its owner.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { AppError } from '#lib/errors';
import type { Deadline } from '#lib/genesys';
import { logger, MetricNames, metrics } from '#lib/observability';
import { SessionStoreError, type PreparedSessions } from '#lib/state';
import { widgetUserFromClaims, type WidgetUser } from './claims.ts';
import { buildWidgetConfiguration, widgetAttributes, widgetSessionId, type WidgetConfiguration } from './config.ts';
import type { DeploymentGate } from './deployment.ts';
import { DeploymentUnavailableError } from './errors.ts';
import type { FilteredAttributes } from './attributes.ts';

/** What the widget flow needs from the outside world. */
export interface WidgetDependencies {
  deployments: Pick<DeploymentGate, 'ensureActive'>;
  sessions: Pick<PreparedSessions, 'prepare'>;
  settings: { webDeploymentId: string; organizationId: string; guestAttributeAllowlist: string[] };
  /** The Messenger environment name, resolved from `GENESYS_REGION` at cold start. */
  environment: string;
  /** How long the prepared session is kept (`PREFILL_TTL_SECONDS`). */
  ttlSeconds: number;
  deadline?: Deadline;
  now?: () => Date;
}

/** Serves one user's configuration; reports which attributes were left out (names only). */
export async function widgetConfigurationFor(
  user: WidgetUser,
  deps: WidgetDependencies,
): Promise<{ configuration: WidgetConfiguration; dropped: FilteredAttributes['dropped'] }> {
  await deps.deployments.ensureActive(deps.settings.webDeploymentId, deps.deadline ? { deadline: deps.deadline } : {});
  const { attributes, dropped } = widgetAttributes(user, deps.settings);
  const sessionId = widgetSessionId(deps.settings.webDeploymentId, user.userId);
  const preparedAt = (deps.now ? deps.now() : new Date()).toISOString();
  const session = await deps.sessions.prepare(sessionId, attributes, preparedAt, deps.ttlSeconds).catch((cause: unknown) => {
    throw cause instanceof AppError ? cause : new SessionStoreError(sessionId, cause);
  });
  return {
    configuration: buildWidgetConfiguration(user, deps.settings, { environment: deps.environment, attributes, gsRef: session.gsRef }),
    dropped,
  };
}

/**
 * The route's one call: the configuration for the caller's token claims, with the names of
 * attributes left out logged and the answer (or an inactive deployment) counted.
 */
export async function serveWidgetConfiguration(claims: Record<string, unknown>, deps: WidgetDependencies): Promise<WidgetConfiguration> {
  const user = widgetUserFromClaims(claims);
  try {
    const { configuration, dropped } = await widgetConfigurationFor(user, deps);
    if (dropped.length > 0) logger.info('Widget attributes left out', { dropped });
    metrics.addMetric(MetricNames.WidgetConfigServed, MetricUnit.Count, 1);
    return configuration;
  } catch (error) {
    if (error instanceof DeploymentUnavailableError) metrics.addMetric(MetricNames.WidgetDeploymentUnavailable, MetricUnit.Count, 1);
    throw error;
  }
}
