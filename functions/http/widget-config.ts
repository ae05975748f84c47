/**
 * `GET /widget/config`: the Messenger configuration for the signed-in user (end-user JWT),
 * served only while the web deployment is Active, with the Messenger `environment` of
 * GENESYS_REGION and the `customAttributes` (allowlisted attributes plus the `gsRef` of the
 * prepared session they are stored under).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { deadlineFromContext, sharedGenesysClient } from '#lib/genesys';
import { configAtColdStart } from '#lib/config';
import { httpStack } from '#lib/lambda';
import { logger, MetricNames, metrics } from '#lib/observability';
import { PreparedSessions, sharedStateTable } from '#lib/state';
import { DeploymentGate, DeploymentUnavailableError, messengerEnvironment, widgetConfigurationFor, widgetUserFromClaims } from '#lib/widget';

const config = configAtColdStart(['genesys', 'widget', 'state', 'prefill'], {
  // An unknown GENESYS_REGION fails here, at cold start, naming the variable.
  derive: ({ genesys }) => ({ messengerEnvironment: messengerEnvironment(genesys.region) }),
});
let deployments: DeploymentGate | undefined;
let sessions: PreparedSessions | undefined;

export const handler = httpStack(async (request, context) => {
  const settings = config();
  const { widget, prefill } = settings;
  deployments ??= new DeploymentGate(() => sharedGenesysClient(settings), widget.deploymentCacheTtlMs);
  sessions ??= new PreparedSessions(sharedStateTable(settings));
  const user = widgetUserFromClaims(request.claims);
  try {
    const { configuration, dropped } = await widgetConfigurationFor(user, {
      deployments,
      sessions,
      settings: widget,
      environment: settings.messengerEnvironment,
      ttlSeconds: prefill.ttlSeconds,
      deadline: deadlineFromContext(context),
    });
    if (dropped.length > 0) logger.info('Widget attributes left out', { dropped });
    metrics.addMetric(MetricNames.WidgetConfigServed, MetricUnit.Count, 1);
    return { statusCode: 200, body: configuration, headers: { 'Cache-Control': 'private, no-store' } };
  } catch (error) {
    if (error instanceof DeploymentUnavailableError) metrics.addMetric(MetricNames.WidgetDeploymentUnavailable, MetricUnit.Count, 1);
    throw error;
  }
});
