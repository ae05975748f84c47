/**
 * The catalogue's wire types against the official SDK's models, at type level (checked by
 * `npm run typecheck`, which CI runs before the tests): what the suite sends is assignable
 * to the SDK's request model, and what the SDK says Genesys answers is assignable to what
 * the suite reads, for the fields the suite uses.
 */
import type * as sdk from 'purecloud-platform-client-v2';
import { describe, expectTypeOf, it } from 'vitest';
import type { AnalyticsConversation, AuditLogMessage, Conversation, ConversationParticipant, DataSchema, ExternalContact, ExternalSource, Integration, IntegrationConfiguration } from '#lib/genesys';
import type { AuditQueryExecution, AuditQueryRequest, AuditQueryResultsPage, AuditQueryState, WebDeployment, WebDeploymentStatus } from '#lib/genesys/operations.ts';
import type { AuditServiceMapping, ContactIdentifier, ConversationDetailsPage, ConversationDetailsQuery, CreateIntegrationRequest, IntegrationStatePatch, ParticipantAttributesPatch } from '#lib/genesys/platform.ts';

type M = typeof sdk extends never ? never : sdk.Models.Conversation extends never ? never : true;
type Models = {
  ParticipantAttributes: sdk.Models.ParticipantAttributes;
  ExternalContact: sdk.Models.ExternalContact;
  ContactIdentifier: sdk.Models.ContactIdentifier;
  ExternalSource: sdk.Models.ExternalSource;
  DataSchema: sdk.Models.DataSchema;
  ConversationQuery: sdk.Models.ConversationQuery;
  AnalyticsConversationQueryResponse: sdk.Models.AnalyticsConversationQueryResponse;
  AnalyticsConversationWithoutAttributes: sdk.Models.AnalyticsConversationWithoutAttributes;
  AuditQueryServiceMapping: sdk.Models.AuditQueryServiceMapping;
  CreateIntegrationRequest: sdk.Models.CreateIntegrationRequest;
  IntegrationConfiguration: sdk.Models.IntegrationConfiguration;
  Integration: sdk.Models.Integration;
  Conversation: sdk.Models.Conversation;
  Participant: sdk.Models.Participant;
  WebDeployment: sdk.Models.WebDeployment;
  AuditQueryRequest: sdk.Models.AuditQueryRequest;
  AuditQueryExecutionStatusResponse: sdk.Models.AuditQueryExecutionStatusResponse;
  AuditQueryExecutionResultsResponse: sdk.Models.AuditQueryExecutionResultsResponse;
  AuditLogMessage: sdk.Models.AuditLogMessage;
};

/** The SDK marks almost every answer field optional; what Genesys fills in, the suite types as present. */
type Present<T, K extends keyof T> = { [P in K]-?: NonNullable<T[P]> };
const sdkLoaded: M = true;

describe('what the suite sends fits the SDK request models', () => {
  it('patch participant attributes: ParticipantAttributes', () => {
    expectTypeOf<ParticipantAttributesPatch>().toExtend<Models['ParticipantAttributes']>();
  });
  it('create / update external contact: ExternalContact (externalIds by source id, customFields, schema)', () => {
    type SdkExternalId = NonNullable<Models['ExternalContact']['externalIds']>[number];
    type OurExternalId = NonNullable<ExternalContact['externalIds']>[number];
    expectTypeOf<OurExternalId['value']>().toExtend<SdkExternalId['value']>();
    expectTypeOf<OurExternalId['externalSource']['id']>().toExtend<NonNullable<SdkExternalId['externalSource']['id']>>();
    expectTypeOf<NonNullable<ExternalContact['customFields']>[string]>().toExtend<unknown>();
    expectTypeOf<Pick<NonNullable<ExternalContact['schema']>, 'id' | 'version'>>().toExtend<{ id?: string; version: number }>();
    expectTypeOf<Pick<NonNullable<Models['ExternalContact']['schema']>, 'id' | 'version'>>().toExtend<{ id?: string; version: number }>();
  });
  it('identifier lookup: ContactIdentifier', () => {
    expectTypeOf<ContactIdentifier>().toExtend<Omit<Models['ContactIdentifier'], 'externalSource'> & { externalSource?: { id?: string } }>();
  });
  it('create external source: ExternalSource', () => {
    expectTypeOf<Pick<ExternalSource, 'name' | 'active'>>().toExtend<Pick<Models['ExternalSource'], 'name' | 'active'>>();
  });
  it('create contact schema: DataSchema', () => {
    expectTypeOf<Pick<DataSchema, 'name' | 'version'>>().toExtend<Pick<Models['DataSchema'], 'name' | 'version'>>();
  });
  it('conversation details query: ConversationQuery (interval, paging, order)', () => {
    expectTypeOf<Pick<ConversationDetailsQuery, 'interval' | 'paging' | 'order' | 'orderBy'>>().toExtend<
      Pick<Models['ConversationQuery'], 'interval' | 'paging' | 'order' | 'orderBy'>
    >();
  });
  it('create integration: CreateIntegrationRequest', () => {
    expectTypeOf<CreateIntegrationRequest['name']>().toExtend<Models['CreateIntegrationRequest']['name']>();
    expectTypeOf<CreateIntegrationRequest['integrationType']['id']>().toExtend<NonNullable<Models['CreateIntegrationRequest']['integrationType']['id']>>();
  });
  it('integration configuration: IntegrationConfiguration (name, version, properties, advanced, notes)', () => {
    expectTypeOf<Pick<IntegrationConfiguration, 'name' | 'version' | 'properties' | 'advanced' | 'notes'>>().toExtend<
      Pick<Models['IntegrationConfiguration'], 'name' | 'version' | 'properties' | 'advanced' | 'notes'>
    >();
  });
  it('integration state: Integration.intendedState', () => {
    expectTypeOf<IntegrationStatePatch['intendedState']>().toExtend<Models['Integration']['intendedState']>();
  });
  it('audit query: AuditQueryRequest (interval, serviceName, filters, sort)', () => {
    expectTypeOf<AuditQueryRequest>().toExtend<Models['AuditQueryRequest']>();
  });
});

describe('what the SDK says Genesys answers fits what the suite reads', () => {
  it('external contact: id, createDate, modifyDate, customFields', () => {
    expectTypeOf<Pick<Models['ExternalContact'], 'id' | 'createDate' | 'modifyDate'>>().toExtend<Pick<ExternalContact, 'id' | 'createDate' | 'modifyDate'>>();
  });
  it('external source: id, name', () => {
    expectTypeOf<Pick<Models['ExternalSource'], 'id' | 'name'>>().toExtend<Pick<ExternalSource, 'id' | 'name'>>();
  });
  it('analytics: conversations and totalHits', () => {
    expectTypeOf<Models['AnalyticsConversationQueryResponse']['totalHits']>().toExtend<ConversationDetailsPage['totalHits']>();
    expectTypeOf<Pick<Models['AnalyticsConversationWithoutAttributes'], 'conversationId' | 'conversationStart' | 'conversationEnd'>>().toExtend<
      Pick<AnalyticsConversation, 'conversationId' | 'conversationStart' | 'conversationEnd'>
    >();
  });
  it('audit service mapping: service names', () => {
    expectTypeOf<NonNullable<NonNullable<Models['AuditQueryServiceMapping']['services']>[number]['name']>>().toExtend<
      NonNullable<NonNullable<AuditServiceMapping['services']>[number]['name']>
    >();
  });
  it('conversation: id, participants with id, purpose, attributes (strings)', () => {
    expectTypeOf<Present<Models['Conversation'], 'id'>>().toExtend<Pick<Conversation, 'id'>>();
    expectTypeOf<Models['Conversation']['participants']>().toExtend<Array<unknown>>();
    expectTypeOf<Present<Models['Participant'], 'id' | 'purpose'> & Pick<Models['Participant'], 'attributes' | 'externalContactId'>>().toExtend<
      Pick<ConversationParticipant, 'id' | 'purpose' | 'attributes' | 'externalContactId'>
    >();
    expectTypeOf<Pick<ConversationParticipant, 'id' | 'purpose' | 'attributes'>>().toExtend<Pick<Models['Participant'], 'id' | 'purpose' | 'attributes'>>();
  });
  it('web deployment: id, name, status (the suite narrows the string to the documented states)', () => {
    expectTypeOf<Present<Models['WebDeployment'], 'id'> & Pick<Models['WebDeployment'], 'name'>>().toExtend<Pick<WebDeployment, 'id' | 'name'>>();
    expectTypeOf<WebDeploymentStatus>().toExtend<NonNullable<Models['WebDeployment']['status']>>();
  });
  it('audit query execution: id, state (narrowed to the documented states)', () => {
    expectTypeOf<Present<Models['AuditQueryExecutionStatusResponse'], 'id'>>().toExtend<Pick<AuditQueryExecution, 'id'>>();
    expectTypeOf<AuditQueryState>().toExtend<NonNullable<Models['AuditQueryExecutionStatusResponse']['state']>>();
  });
  it('audit results: entities, cursor; each entry id, eventDate, action, entity, user, client, propertyChanges', () => {
    expectTypeOf<Present<Models['AuditQueryExecutionResultsResponse'], 'id'> & Pick<Models['AuditQueryExecutionResultsResponse'], 'cursor'>>().toExtend<
      Pick<AuditQueryResultsPage, 'id' | 'cursor'>
    >();
    expectTypeOf<Present<Models['AuditLogMessage'], 'id' | 'eventDate'> & Pick<Models['AuditLogMessage'], 'action' | 'entityType' | 'serviceName'>>().toExtend<
      Pick<AuditLogMessage, 'id' | 'eventDate' | 'action' | 'entityType' | 'serviceName'>
    >();
    expectTypeOf<NonNullable<NonNullable<Models['AuditLogMessage']['user']>['id']>>().toExtend<NonNullable<AuditLogMessage['user']>['id']>();
    expectTypeOf<NonNullable<NonNullable<Models['AuditLogMessage']['propertyChanges']>[number]['property']>>().toExtend<
      NonNullable<AuditLogMessage['propertyChanges']>[number]['property']
    >();
  });
  it('integration: id, name', () => {
    expectTypeOf<Pick<Models['Integration'], 'id' | 'name'>>().toExtend<Pick<Integration, 'id' | 'name'>>();
  });
  it('is checked against the installed SDK', () => {
    expectTypeOf(sdkLoaded).toEqualTypeOf<true>();
  });
});
