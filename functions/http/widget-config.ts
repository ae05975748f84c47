/** `GET /widget/config`: the Messenger configuration for the signed-in user (end-user JWT), served only while the web deployment is Active. */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { deadlineFromContext, sharedGenesysClient } from '#lib/genesys';
import { configAtColdStart, httpStack, logger, metrics } from '#lib/lambda';
import { MetricNames } from '#lib/metrics';
import { DeploymentGate, DeploymentUnavailableError, buildWidgetConfiguration, widgetUserFromClaims } from '#lib/widget';

const config = configAtColdStart(['genesys', 'widget']);
let deployments: DeploymentGate | undefined;

export const handler = httpStack(async (request, context) => {
  const { widget } = config();
  deployments ??= new DeploymentGate(sharedGenesysClient, widget.deploymentCacheTtlMs);
  const user = widgetUserFromClaims(request.claims);
  try {
    await deployments.ensureActive(widget.webDeploymentId, { deadline: deadlineFromContext(context) });
  } catch (error) {
    if (error instanceof DeploymentUnavailableError) metrics.addMetric(MetricNames.WidgetDeploymentUnavailable, MetricUnit.Count, 1);
    throw error;
  }
  const { configuration, dropped } = buildWidgetConfiguration(user, widget);
  if (dropped.length > 0) logger.info('Widget attributes left out', { dropped });
  metrics.addMetric(MetricNames.WidgetConfigServed, MetricUnit.Count, 1);
  return { statusCode: 200, body: configuration, headers: { 'Cache-Control': 'private, no-store' } };
});
