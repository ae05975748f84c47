/**
 * Integrations (SDK `IntegrationsApi`): `GET /api/v2/integrations` (model
 * `IntegrationEntityListing`), `POST /api/v2/integrations` (body `CreateIntegrationRequest`,
 * answer `Integration`), `PUT /api/v2/integrations/{integrationId}/config/current` (model
 * `IntegrationConfiguration`, optimistic on `version`) and `PATCH
 * /api/v2/integrations/{integrationId}` (`intendedState`). The one type it installs is
 * `amazon-eventbridge-source`, whose properties are `awsAccountId`, `awsAccountRegion`,
 * `eventSourceSuffix` and `eventFilter` (the topics).
 */
import { randomUUID } from 'node:crypto';
import type { RouteDef } from '../server.ts';
import { isPlainObject } from '../util.ts';
import {
  GenesysHttpError,
  genesysRoute,
  invalid,
  notFound,
  pageParams,
  requireObject,
  requireString,
  type GenesysContext,
} from './context.ts';

/** The Genesys integration type that publishes events to an Amazon EventBridge partner bus. */
export const EVENTBRIDGE_INTEGRATION_TYPE = 'amazon-eventbridge-source';

const INTEGRATION_TYPES: Record<string, { name: string; description: string }> = {
  [EVENTBRIDGE_INTEGRATION_TYPE]: {
    name: 'Amazon EventBridge Source',
    description: 'Publishes Genesys Cloud events to an Amazon EventBridge partner event source',
  },
};

const INTENDED_STATES = new Set(['ENABLED', 'DISABLED', 'DELETED']);
const AWS_REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

/** Why an EventBridge configuration cannot be activated, or undefined when it can. */
function eventBridgeProblem(properties: Record<string, unknown>): string | undefined {
  if (typeof properties.awsAccountId !== 'string' || !/^\d{12}$/.test(properties.awsAccountId)) {
    return 'properties.awsAccountId must be a 12-digit AWS account id';
  }
  if (typeof properties.awsAccountRegion !== 'string' || !AWS_REGION.test(properties.awsAccountRegion)) {
    return 'properties.awsAccountRegion must be an AWS region such as us-east-1';
  }
  if (typeof properties.eventSourceSuffix !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(properties.eventSourceSuffix)) {
    return 'properties.eventSourceSuffix must be 1-64 letters, digits, ".", "_" or "-"';
  }
  const filter = properties.eventFilter;
  if (!Array.isArray(filter) || filter.length === 0 || !filter.every((topic) => typeof topic === 'string' && topic.startsWith('v2.'))) {
    return 'properties.eventFilter must be a non-empty array of topic names (v2....)';
  }
  return undefined;
}

/** The integration routes. */
export function integrationRoutes(ctx: GenesysContext): RouteDef[] {
  const find = (id: string | undefined): Record<string, unknown> => {
    const integration = id ? ctx.world().integrations.get(id) : undefined;
    if (!integration) throw notFound('Integration', id ?? '');
    return integration;
  };

  const view = (integration: Record<string, unknown>, withConfig: boolean): Record<string, unknown> => {
    const { config, ...rest } = structuredClone(integration);
    return withConfig ? { ...rest, config } : rest;
  };

  const expands = (query: URLSearchParams): boolean =>
    query.getAll('expand').some((value) => value.split(',').includes('config.current'));

  const record = (action: string, integration: Record<string, unknown>, property: string, before: unknown, after: unknown, client?: string): void => {
    ctx.audit({
      ...(client ? { client: { id: client } } : {}),
      serviceName: 'Integrations',
      action,
      entity: { id: integration.id as string, name: integration.name as string },
      entityType: 'Integration',
      propertyChanges: [
        { property, oldValues: before === undefined ? [] : [JSON.stringify(before)], newValues: [JSON.stringify(after)] },
      ],
    });
  };

  const reportState = (integration: Record<string, unknown>): void => {
    const current = (integration.config as { current: { properties: Record<string, unknown> } }).current;
    const type = (integration.integrationType as { id: string }).id;
    const problem = type === EVENTBRIDGE_INTEGRATION_TYPE ? eventBridgeProblem(current.properties) : undefined;
    const lastUpdated = ctx.nowIso();
    if (integration.intendedState !== 'ENABLED') {
      integration.reportedState = { code: 'INACTIVE', effective: 'Inactive', lastUpdated };
    } else if (problem) {
      integration.reportedState = { code: 'ERROR', effective: 'Error', detail: { message: problem }, lastUpdated };
    } else {
      integration.reportedState = { code: 'ACTIVE', effective: 'Active', lastUpdated };
    }
  };

  return [
    genesysRoute('GET', '/api/v2/integrations', 'getIntegrations', (req) => {
      const { pageSize, pageNumber } = pageParams(req.query, 100);
      const type = req.query.get('integrationType');
      const all = [...ctx.world().integrations.values()].filter(
        (integration) => !type || (integration.integrationType as { id: string }).id === type,
      );
      const pageCount = Math.max(1, Math.ceil(all.length / pageSize));
      const uri = (page: number): string => `/api/v2/integrations?pageSize=${pageSize}&pageNumber=${page}`;
      const body: Record<string, unknown> = {
        entities: all.slice((pageNumber - 1) * pageSize, pageNumber * pageSize).map((i) => view(i, expands(req.query))),
        pageSize,
        pageNumber,
        total: all.length,
        firstUri: uri(1),
        lastUri: uri(pageCount),
        selfUri: uri(pageNumber),
        pageCount,
      };
      if (pageNumber < pageCount) body.nextUri = uri(pageNumber + 1);
      if (pageNumber > 1) body.previousUri = uri(pageNumber - 1);
      return { status: 200, body };
    }),
    genesysRoute('POST', '/api/v2/integrations', 'postIntegrations', (req) => {
      const body = requireObject(req.json(), 'body');
      const name = requireString(body.name, 'name');
      const typeRef = requireObject(body.integrationType, 'integrationType');
      const typeId = requireString(typeRef.id, 'integrationType.id');
      const type = INTEGRATION_TYPES[typeId];
      if (!type) throw invalid('integrationType.id', `integrationType.id ${typeId} is not an integration type this organisation can install`);
      const id = randomUUID();
      const integration: Record<string, unknown> = {
        id,
        name,
        integrationType: { id: typeId, name: type.name, description: type.description, selfUri: `/api/v2/integrations/types/${typeId}` },
        notes: '',
        intendedState: 'DISABLED',
        config: {
          current: { id, name, version: 1, properties: {}, advanced: {}, notes: '', credentials: {}, selfUri: `/api/v2/integrations/${id}/config/current` },
        },
        attributes: {},
        selfUri: `/api/v2/integrations/${id}`,
      };
      reportState(integration);
      ctx.world().integrations.set(id, integration);
      record('Create', integration, 'name', undefined, name, ctx.clientOf(req));
      return { status: 200, body: view(integration, true) };
    }),
    genesysRoute('PUT', '/api/v2/integrations/:integrationId/config/current', 'putIntegrationConfigCurrent', (req) => {
      const integration = find(req.params.integrationId);
      const body = requireObject(req.json(), 'body');
      const current = (integration.config as { current: Record<string, unknown> }).current;
      if (!Number.isInteger(body.version)) throw invalid('version', 'version is required (the current configuration version)');
      if (body.version !== current.version) {
        throw new GenesysHttpError(409, `The configuration is at version ${String(current.version)}, not ${String(body.version)}`, 'conflict');
      }
      const properties = body.properties === undefined ? {} : requireObject(body.properties, 'properties');
      const advanced = body.advanced === undefined ? {} : requireObject(body.advanced, 'advanced');
      if (body.credentials !== undefined && !isPlainObject(body.credentials)) throw invalid('credentials', 'credentials must be an object');
      if ((integration.integrationType as { id: string }).id === EVENTBRIDGE_INTEGRATION_TYPE) {
        const problem = eventBridgeProblem(properties);
        if (problem) throw invalid('properties', problem);
      }
      const next = {
        id: current.id,
        name: typeof body.name === 'string' && body.name !== '' ? body.name : current.name,
        version: (current.version as number) + 1,
        properties: structuredClone(properties),
        advanced: structuredClone(advanced),
        notes: typeof body.notes === 'string' ? body.notes : '',
        credentials: structuredClone((body.credentials as Record<string, unknown> | undefined) ?? {}),
        selfUri: current.selfUri,
      };
      integration.config = { current: next };
      reportState(integration);
      record('Update', integration, 'config.properties', current.properties, next.properties, ctx.clientOf(req));
      return { status: 200, body: structuredClone(next) };
    }),
    genesysRoute('PATCH', '/api/v2/integrations/:integrationId', 'patchIntegration', (req) => {
      const integration = find(req.params.integrationId);
      const body = requireObject(req.json(), 'body');
      const state = body.intendedState;
      if (typeof state !== 'string' || !INTENDED_STATES.has(state)) {
        throw invalid('intendedState', 'intendedState must be ENABLED, DISABLED or DELETED');
      }
      const before = integration.intendedState;
      if (state === 'DELETED') {
        ctx.world().integrations.delete(integration.id as string);
        integration.intendedState = state;
      } else {
        integration.intendedState = state;
        if (typeof body.name === 'string' && body.name !== '') integration.name = body.name;
        if (typeof body.notes === 'string') integration.notes = body.notes;
        reportState(integration);
      }
      record('Update', integration, 'intendedState', before, state, ctx.clientOf(req));
      return { status: 200, body: view(integration, expands(req.query)) };
    }),
  ];
}
