/**
 * Web deployments: `GET /api/v2/webdeployments/deployments/{deploymentId}` (SDK
 * `getWebdeploymentsDeployment` -> model `WebDeployment`, usable when `status` is `Active`).
 * Any id answers an Active deployment unless a control route changed or deleted it.
 */
import type { RouteDef } from '../server.ts';
import { genesysRoute, notFound, type GenesysContext } from './context.ts';

/** Values of `WebDeployment.status`. */
export const DEPLOYMENT_STATUSES = ['Pending', 'Active', 'Inactive', 'Error', 'Deleting'] as const;

/** The SDK model `WebDeployment` for an id, with any control-route override applied. */
export function deploymentView(ctx: GenesysContext, id: string): Record<string, unknown> {
  const override = ctx.world().deployments.get(id) ?? {};
  if (override.deleted) throw notFound('Web deployment', id);
  const { deleted: _deleted, ...fields } = override;
  return {
    id,
    name: `Sandbox deployment ${id.slice(0, 8)}`,
    description: 'Sandbox web messaging deployment',
    allowAllDomains: true,
    allowedDomains: [],
    status: 'Active',
    configuration: { id: `${id.slice(0, 8)}-0000-4000-8000-000000000c0f`, version: '1', selfUri: `/api/v2/webdeployments/configurations/${id}` },
    dateCreated: '2024-01-01T00:00:00.000Z',
    dateModified: '2024-01-01T00:00:00.000Z',
    selfUri: `/api/v2/webdeployments/deployments/${id}`,
    ...fields,
  };
}

/** The web deployment route. */
export function webDeploymentRoutes(ctx: GenesysContext): RouteDef[] {
  return [
    genesysRoute('GET', '/api/v2/webdeployments/deployments/:deploymentId', 'getWebdeploymentsDeployment', (req) => ({
      status: 200,
      body: deploymentView(ctx, req.params.deploymentId ?? ''),
    })),
  ];
}
