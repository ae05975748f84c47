/**
 * `GET /widget/config`: the Messenger configuration for the signed-in user (end-user JWT),
 * served only while the web deployment is Active, with the Messenger `environment` of
 * GENESYS_REGION and the `customAttributes` (allowlisted attributes plus the `gsRef` of the
 * prepared session they are stored under).
 */
import { configAtColdStart } from '#lib/config';
import { deadlineFromContext, sharedGenesysClient } from '#lib/genesys';
import { dependenciesOnFirstUse, httpStack } from '#lib/lambda';
import { PreparedSessions, sharedStateTable } from '#lib/state';
import { DeploymentGate, messengerEnvironment, serveWidgetConfiguration, type WidgetDependencies } from '#lib/widget';

const config = configAtColdStart(['genesys', 'widget', 'state', 'prefill'], {
  // An unknown GENESYS_REGION fails here, at cold start, naming the variable.
  derive: ({ genesys }) => ({ messengerEnvironment: messengerEnvironment(genesys.region) }),
});

const dependencies = dependenciesOnFirstUse((): WidgetDependencies => {
  const settings = config();
  const { widget, prefill } = settings;
  return {
    deployments: new DeploymentGate(() => sharedGenesysClient(settings), widget.deploymentCacheTtlMs),
    sessions: new PreparedSessions(sharedStateTable(settings)),
    settings: widget,
    environment: settings.messengerEnvironment,
    ttlSeconds: prefill.ttlSeconds,
  };
});

export const handler = httpStack(async (request, context) => {
  const configuration = await serveWidgetConfiguration(request.claims, { ...dependencies(), deadline: deadlineFromContext(context) });
  return { statusCode: 200, body: configuration, headers: { 'Cache-Control': 'private, no-store' } };
});
