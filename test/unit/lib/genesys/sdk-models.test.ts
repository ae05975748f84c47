/**
 * The catalogue's wire types against the official SDK's models, at type level (checked by
 * `npm run typecheck`, which CI runs before the tests): what the suite sends is assignable
 * to the SDK's request model, and what the SDK says Genesys answers is assignable to what
 * the suite reads, for the fields the suite uses.
 */
import type * as sdk from 'purecloud-platform-client-v2';
import { describe, expectTypeOf, it } from 'vitest';
import type {
  AnalyticsConversation,
  AuditServiceMapping,
  ContactIdentifier,
  ConversationDetailsPage,
  ConversationDetailsQuery,
  CreateIntegrationRequest,
  DataSchema,
  ExternalContact,
  ExternalSource,
  Integration,
  IntegrationConfiguration,
  IntegrationStatePatch,
  ParticipantAttributesPatch,
} from '#lib/genesys';

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
};
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
  it('integration: id, name', () => {
    expectTypeOf<Pick<Models['Integration'], 'id' | 'name'>>().toExtend<Pick<Integration, 'id' | 'name'>>();
  });
  it('is checked against the installed SDK', () => {
    expectTypeOf(sdkLoaded).toEqualTypeOf<true>();
  });
});
