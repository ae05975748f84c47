/**
 * The guest set-up against the sandbox Genesys (version 2): found by name or created, safe
 * to run again, and usable by guests at once. The schema body follows Genesys's custom
 * field rules (typed suffix, `allOf` reference to the core type, length limits).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureGuestSetup } from '#lib/guests';
import { changesFromBody, createGuestFields } from '#lib/guests/changes.ts';
import { GUEST_CONTACT_SCHEMA_BODY } from '#lib/guests/setup.ts';
import { startGenesysSandboxV2, type GenesysSandboxV2 } from '#local/sandbox/genesys/index.ts';
import { createGuestContact, resetGuestSchemaCacheForTests } from '#lib/guests/store.ts';
import { CLIENT, SETTINGS, clientFor, startGuestSandbox } from './support.ts';

describe('the guest contact schema body', () => {
  const properties = GUEST_CONTACT_SCHEMA_BODY.jsonSchema.properties as Record<string, { allOf: Array<{ $ref: string }>; maxLength?: number; title: string }>;

  it('types every field by its name\'s suffix and the matching core definition', () => {
    for (const [name, field] of Object.entries(properties)) {
      const type = name.slice(name.lastIndexOf('_') + 1);
      expect(['text', 'longtext', 'url', 'identifier', 'checkbox'], name).toContain(type);
      expect(field.allOf, name).toEqual([{ $ref: `#/definitions/${type}` }]);
      expect(field.title, name).toBeTruthy();
    }
  });

  it.each([
    ['url', 200],
    ['identifier', 100],
    ['longtext', 1000],
  ])('caps %s fields at Genesys\'s %i characters', (type, limit) => {
    const fields = Object.entries(properties).filter(([name]) => name.endsWith(`_${type}`));
    expect(fields.length).toBeGreaterThan(0);
    for (const [, field] of fields) expect(field.maxLength).toBe(limit);
  });

  it('has no field for a name, an email or a phone number', () => {
    expect(Object.keys(properties).filter((name) => /name|email|phone/i.test(name))).toEqual([]);
  });

  it('is posted as version 0 in JSON Schema draft-04', () => {
    expect(GUEST_CONTACT_SCHEMA_BODY).toMatchObject({ version: 0, enabled: true, jsonSchema: { $schema: 'http://json-schema.org/draft-04/schema#' } });
  });
});

describe('ensureGuestSetup', () => {
  let empty: GenesysSandboxV2;
  let seeded: GenesysSandboxV2;
  beforeAll(async () => {
    [empty, seeded] = await Promise.all([startGenesysSandboxV2({ clients: [CLIENT] }), startGuestSandbox()]);
  });
  afterAll(async () => {
    await Promise.all([empty.close(), seeded.close()]);
  });
  beforeEach(() => {
    empty.reset();
    resetGuestSchemaCacheForTests();
  });

  it('creates the external source and the schema once; a second run creates nothing and answers the same ids', async () => {
    // Act
    const first = await ensureGuestSetup(clientFor(empty));
    const second = await ensureGuestSetup(clientFor(empty));

    // Assess
    expect(first.created).toEqual(['externalSource', 'contactSchema']);
    expect(second).toEqual({ externalSourceId: first.externalSourceId, contactSchemaId: first.contactSchemaId, created: [] });
    expect(empty.state().externalSources).toHaveLength(1);
    expect(empty.state().contactSchemas).toHaveLength(1);
  });

  it('sets up what guests need: a guest can be created with the ids it answers', async () => {
    // Prepare
    const setup = await ensureGuestSetup(clientFor(empty));
    const fields = createGuestFields({ marketing: true, dataProcessing: true }, changesFromBody({ email: 'jane@example.com', attributes: { tier: 'gold' }, channelContext: { originPage: 'https://example.com/a', campaignId: 'X' } }, 'salt').changes);

    // Act
    const created = await createGuestContact(clientFor(empty), setup, fields);

    // Assess
    expect(created.guest).toMatchObject({ consent: { marketing: true, dataProcessing: true }, attributes: { tier: 'gold' } });
  });

  it('finds an organisation\'s existing set-up (the local stack\'s seed) and creates nothing', async () => {
    // Act
    const setup = await ensureGuestSetup(clientFor(seeded));

    // Assess
    expect(setup).toEqual({ ...SETTINGS, created: [] });
    expect(seeded.state().requests.filter((r) => r.method === 'POST' && r.operation !== 'loginClientCredentialsGrant')).toEqual([]);
  });
});
