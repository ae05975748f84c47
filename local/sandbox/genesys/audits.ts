/**
 * The audit query (SDK `AuditApi`): `GET /api/v2/audits/query/servicemapping` (model
 * `AuditQueryServiceMapping`), `POST /api/v2/audits/query` (body `AuditQueryRequest`, answer
 * `AuditQueryExecutionStatusResponse`), `GET /api/v2/audits/query/{transactionId}` and
 * `GET .../results` (`cursor`, `pageSize` <= 500; answer
 * `AuditQueryExecutionResultsResponse` of `AuditLogMessage`).
 */
import { randomUUID } from 'node:crypto';
import type { RouteDef } from '../server.ts';
import { isPlainObject } from '../util.ts';
import {
  GenesysHttpError,
  genesysRoute,
  invalid,
  notFound,
  parseInterval,
  requireObject,
  type GenesysContext,
  type StoredAuditEntry,
  type StoredAuditQuery,
} from './context.ts';

/**
 * The `serviceName` values Genesys accepts in an audit query: the `ServiceNameEnum` of the
 * SDK model `AuditQueryRequest` as generated from Genesys's API definition (the JavaScript
 * SDK's typings carry no enums; the Java SDK's model `AuditQueryRequest.java` does).
 * `Conversations` is not among them.
 */
export const AUDIT_SERVICE_NAMES = [
  'AgentConfig',
  'AnalyticsReporting',
  'Architect',
  'Callback',
  'Coaching',
  'ContactCenter',
  'ContentManagement',
  'Datatables',
  'Directory',
  'DynamicSchema',
  'Emails',
  'EmployeePerformance',
  'Gamification',
  'Groups',
  'Integrations',
  'Knowledge',
  'LanguageUnderstanding',
  'Learning',
  'Limits',
  'LogCapture',
  'Marketplace',
  'Messaging',
  'NumberPurchasing',
  'Outbound',
  'PeoplePermissions',
  'PredictiveEngagement',
  'Presence',
  'ProcessAutomation',
  'Quality',
  'ResponseManagement',
  'Routing',
  'SCIM',
  'Scripter',
  'SpeechAndTextAnalytics',
  'Supportability',
  'Telephony',
  'Triggers',
  'Voicemail',
  'WebDeployments',
  'Webhooks',
  'WorkforceManagement',
  'Workitems',
] as const;

/** Entities (and actions) the sandbox itself records, listed in the service mapping. */
const RECORDED_ENTITIES: Record<string, Array<{ name: string; actions: string[] }>> = {
  Integrations: [{ name: 'Integration', actions: ['Create', 'Update'] }],
};

const FILTERS: Record<string, (entry: StoredAuditEntry) => string | undefined> = {
  entityid: (entry) => entry.entity.id,
  entitytype: (entry) => entry.entityType,
  action: (entry) => entry.action,
  userid: (entry) => entry.user?.id,
  clientid: (entry) => entry.client?.id,
};

/** The canonical spelling of a valid service name (Genesys matches case-insensitively), else undefined. */
export function auditServiceName(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return AUDIT_SERVICE_NAMES.find((name) => name.toLowerCase() === value.toLowerCase());
}

/** The audit routes. */
export function auditRoutes(ctx: GenesysContext): RouteDef[] {
  const statusView = (query: StoredAuditQuery): Record<string, unknown> => ({
    id: query.id,
    state: query.state,
    startDate: query.startDate,
    interval: query.interval,
    serviceName: query.serviceName,
    filters: query.filters,
    sort: query.sort,
  });

  const findQuery = (id: string | undefined): StoredAuditQuery => {
    const query = id ? ctx.world().auditQueries.get(id) : undefined;
    if (!query) throw notFound('Audit query', id ?? '');
    return query;
  };

  return [
    genesysRoute('GET', '/api/v2/audits/query/servicemapping', 'getAuditsQueryServicemapping', () => ({
      status: 200,
      body: {
        services: AUDIT_SERVICE_NAMES.map((name) => (RECORDED_ENTITIES[name] ? { name, entities: RECORDED_ENTITIES[name] } : { name })),
      },
    })),
    genesysRoute('POST', '/api/v2/audits/query', 'postAuditsQuery', (req) => {
      const body = requireObject(req.json(), 'body');
      parseInterval(body.interval);
      const interval = body.interval as string;
      const serviceName = auditServiceName(body.serviceName);
      if (!serviceName) {
        throw invalid(
          'serviceName',
          `serviceName ${JSON.stringify(body.serviceName ?? null)} is not a valid audit service; GET /api/v2/audits/query/servicemapping lists them`,
        );
      }
      const rawFilters = body.filters ?? [];
      if (!Array.isArray(rawFilters)) throw invalid('filters', 'filters must be an array');
      const filters = rawFilters.map((filter, index) => {
        if (!isPlainObject(filter) || typeof filter.property !== 'string' || typeof filter.value !== 'string') {
          throw invalid(`filters[${index}]`, `filters[${index}] must be {property, value} strings`);
        }
        if (!FILTERS[filter.property.toLowerCase()]) {
          throw invalid(`filters[${index}].property`, `filters[${index}].property ${filter.property} is not supported`);
        }
        return { property: filter.property, value: filter.value };
      });
      const rawSort = body.sort ?? [];
      if (!Array.isArray(rawSort)) throw invalid('sort', 'sort must be an array');
      const sort = rawSort.map((entry, index) => {
        if (!isPlainObject(entry) || typeof entry.name !== 'string' || typeof entry.sortOrder !== 'string') {
          throw invalid(`sort[${index}]`, `sort[${index}] must be {name, sortOrder} strings`);
        }
        const order = entry.sortOrder.toLowerCase();
        if (order !== 'ascending' && order !== 'descending') {
          throw invalid(`sort[${index}].sortOrder`, `sort[${index}].sortOrder must be ascending or descending`);
        }
        return { name: entry.name, sortOrder: entry.sortOrder };
      });
      const { start, end } = parseInterval(interval);
      const results = ctx
        .world()
        .audits.filter((entry) => entry.serviceName === serviceName)
        .filter((entry) => {
          const at = Date.parse(entry.eventDate);
          return at >= start && at < end;
        })
        .filter((entry) => filters.every((filter) => FILTERS[filter.property.toLowerCase()]?.(entry) === filter.value))
        .map((entry) => structuredClone(entry));
      if (sort[0]?.sortOrder.toLowerCase() === 'descending') results.reverse();
      const query: StoredAuditQuery = {
        id: randomUUID(),
        startDate: ctx.nowIso(),
        interval,
        serviceName,
        filters,
        sort,
        polls: 0,
        pendingPolls: ctx.settings.auditPendingPolls,
        state: ctx.settings.auditPendingPolls > 0 ? 'Running' : 'Succeeded',
        results,
      };
      ctx.world().auditQueries.set(query.id, query);
      return { status: 200, body: statusView(query) };
    }),
    genesysRoute('GET', '/api/v2/audits/query/:transactionId', 'getAuditsQueryTransactionId', (req) => {
      const query = findQuery(req.params.transactionId);
      query.polls += 1;
      if (query.polls >= query.pendingPolls) query.state = 'Succeeded';
      return { status: 200, body: statusView(query) };
    }),
    genesysRoute('GET', '/api/v2/audits/query/:transactionId/results', 'getAuditsQueryTransactionIdResults', (req) => {
      const query = findQuery(req.params.transactionId);
      if (query.state !== 'Succeeded') {
        throw new GenesysHttpError(400, 'The audit query has not completed yet', 'bad.request');
      }
      const rawSize = req.query.get('pageSize');
      const pageSize = rawSize === null || rawSize === '' ? 25 : Number(rawSize);
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 500) {
        throw invalid('pageSize', 'pageSize must be an integer from 1 to 500');
      }
      const rawCursor = req.query.get('cursor');
      let offset = 0;
      if (rawCursor) {
        const decoded = /^offset:(\d+)$/.exec(Buffer.from(rawCursor, 'base64url').toString('utf8'));
        if (!decoded?.[1]) throw invalid('cursor', 'cursor is not valid');
        offset = Number(decoded[1]);
      }
      const body: Record<string, unknown> = {
        id: query.id,
        pageSize,
        entities: query.results.slice(offset, offset + pageSize),
      };
      if (offset + pageSize < query.results.length) body.cursor = Buffer.from(`offset:${offset + pageSize}`).toString('base64url');
      return { status: 200, body };
    }),
  ];
}
