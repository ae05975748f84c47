/**
 * The Genesys side of the events path (docs/api.md section 3): the `amazon-eventbridge-source`
 * integration that publishes conversation events to a partner event source in the
 * customer's AWS account. Found or created, configured and enabled through the
 * integrations API (section 4); running it again changes nothing that is already right.
 * Property names are the integration type's own (as Genesys's Terraform provider sets
 * them): `awsAccountId`, `awsAccountRegion`, `eventSourceSuffix`, `eventFilter`.
 */
import { genesysOperations, type Deadline, type GenesysClient, type Integration, type IntegrationConfiguration } from '#lib/genesys';
import { canonicalJson } from '#lib/jobs';
import { CONVERSATION_TOPICS } from './envelope.ts';

/** The Genesys integration type that publishes to an Amazon EventBridge partner event source. */
export const EVENTBRIDGE_INTEGRATION_TYPE = 'amazon-eventbridge-source';

/** The topics the integration publishes: the three the events function acts on. */
export const EVENTBRIDGE_TOPIC_FILTER: readonly string[] = CONVERSATION_TOPICS.map((topic) => `v2.detail.events.conversation.{id}.${topic}`);

/** What the operator asks for. */
export interface EventBridgeTarget {
  awsAccountId: string;
  awsRegion: string;
  eventSourceSuffix: string;
  /** The integration's name (default `Genesys guest sync events (<suffix>)`). */
  name?: string;
}

/** What `connectEventBridge` found and did. */
export interface EventBridgeConnection {
  integrationId: string;
  name: string;
  created: boolean;
  /** The configuration was written (false when it already held these properties). */
  configured: boolean;
  /** The integration was switched on (false when it already was). */
  enabled: boolean;
  properties: Record<string, unknown>;
  /** Genesys's view of it after the run (`Active`, `Error` with its message, ...). */
  reportedState?: string;
}

/** Why a target cannot be configured; undefined when it can. */
export function eventBridgeTargetProblem(target: EventBridgeTarget): string | undefined {
  if (!/^\d{12}$/.test(target.awsAccountId)) return '--aws-account must be a 12-digit AWS account id';
  if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(target.awsRegion)) return '--aws-region must be an AWS region such as eu-west-1';
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(target.eventSourceSuffix)) return '--suffix must be 1-64 letters, digits, ".", "_" or "-"';
  return undefined;
}

const sameJson = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

/** Every EventBridge integration of the organisation, with its current configuration. */
async function eventBridgeIntegrations(client: Pick<GenesysClient, 'call'>, deadline?: Deadline): Promise<Integration[]> {
  const found: Integration[] = [];
  for (let pageNumber = 1; pageNumber <= 50; pageNumber += 1) {
    const { body } = await client.call(genesysOperations.listIntegrations, {
      query: { pageSize: 100, pageNumber, expand: 'config.current' },
      ...(deadline ? { deadline } : {}),
    });
    found.push(...(body.entities ?? []).filter((integration) => integration.integrationType?.id === EVENTBRIDGE_INTEGRATION_TYPE));
    if (!body.nextUri || (body.pageCount !== undefined && pageNumber >= body.pageCount)) break;
  }
  return found;
}

/**
 * Finds the integration for this suffix (else one of this name), or creates it; writes the
 * configuration when it differs (with the current version, as Genesys requires); enables it.
 */
export async function connectEventBridge(
  client: Pick<GenesysClient, 'call'>,
  target: EventBridgeTarget,
  deadline?: Deadline,
): Promise<EventBridgeConnection> {
  const problem = eventBridgeTargetProblem(target);
  if (problem) throw new Error(problem);
  const name = target.name ?? `Genesys guest sync events (${target.eventSourceSuffix})`;
  const properties = {
    awsAccountId: target.awsAccountId,
    awsAccountRegion: target.awsRegion,
    eventSourceSuffix: target.eventSourceSuffix,
    eventFilter: [...EVENTBRIDGE_TOPIC_FILTER],
  };
  const withDeadline = deadline ? { deadline } : {};

  const existing = await eventBridgeIntegrations(client, deadline);
  let integration =
    existing.find((candidate) => candidate.config?.current?.properties?.['eventSourceSuffix'] === target.eventSourceSuffix) ??
    existing.find((candidate) => candidate.name === name);
  const created = integration === undefined;
  if (!integration) {
    integration = (
      await client.call(genesysOperations.createIntegration, { body: { integrationType: { id: EVENTBRIDGE_INTEGRATION_TYPE }, name }, ...withDeadline })
    ).body;
  }
  const integrationId = integration.id;
  if (!integrationId) throw new Error('Genesys answered an integration without an id');

  const current = integration.config?.current;
  let configured = false;
  if (!current || !sameJson(current.properties ?? {}, properties)) {
    const body: IntegrationConfiguration = {
      name: current?.name ?? integration.name ?? name,
      version: current?.version ?? 1,
      properties,
      advanced: current?.advanced ?? {},
      notes: current?.notes || 'Conversation events for genesys-guest-sync (npm run connect-eventbridge)',
      credentials: current?.credentials ?? {},
    };
    await client.call(genesysOperations.putIntegrationConfig, { params: { integrationId }, body, ...withDeadline });
    configured = true;
  }

  let reportedState = integration.reportedState?.effective;
  const enabled = integration.intendedState !== 'ENABLED';
  if (enabled || configured) {
    const patched = (await client.call(genesysOperations.patchIntegration, { params: { integrationId }, body: { intendedState: 'ENABLED' }, ...withDeadline })).body;
    reportedState = patched.reportedState?.effective ?? reportedState;
  }
  return { integrationId, name: integration.name ?? name, created, configured, enabled, properties, ...(reportedState ? { reportedState } : {}) };
}

/** The steps left to the operator in the AWS console, as lines to print. */
export function operatorSteps(target: EventBridgeTarget, organizationId: string | undefined): string[] {
  const org = organizationId ?? '<your Genesys Cloud organization id>';
  const source = `aws.partner/genesys.com/cloud/${org}/${target.eventSourceSuffix}`;
  return [
    `Genesys Cloud publishes the conversation topics to the partner event source`,
    `  ${source}`,
    `in AWS account ${target.awsAccountId}, region ${target.awsRegion}. Left to do in AWS:`,
    `  1. AWS console > Amazon EventBridge (${target.awsRegion}) > Partner event sources: the source above is listed as Pending`,
    `     within a few minutes (if not, check the integration's status in Genesys Cloud > Admin > Integrations).`,
    `  2. Associate it with an event bus by deploying the suite to that account and region with the two stage parameters:`,
    `       npx osls deploy --stage <stage> --region ${target.awsRegion} --param="genesysOrgId=${org}" --param="eventSourceSuffix=${target.eventSourceSuffix}"`,
    `     The stack creates the partner event bus from the source, which is what the console's "Associate with event bus"`,
    `     does: do not also associate it by hand (if you already did, delete that event bus before deploying).`,
    `  3. The source then shows Active, and the rule on the bus invokes the events function.`,
  ];
}
