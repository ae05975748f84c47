/**
 * Guests as external contacts, against the sandbox Genesys (version 2): what a create
 * sends, what a read answers, and that a create whose answer is lost never leaves two
 * contacts (fault injection on `postExternalcontactsContacts`).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DependencyError } from '#lib/errors';
import { GenesysError } from '#lib/genesys';
import { changesFromBody, createGuestFields } from '#lib/guests/changes.ts';
import { guestEtag } from '#lib/guests/contact.ts';
import type { GenesysSandboxV2 } from '#local/sandbox/genesys/index.ts';
import { createGuestContact, resetGuestSchemaCacheForTests, readGuest } from '#lib/guests/store.ts';
import { SETTINGS, clientFor, control, requestsFor, startGuestSandbox } from './support.ts';

const SALT = 'unit-salt';
let sandbox: GenesysSandboxV2;

beforeAll(async () => {
  sandbox = await startGuestSandbox();
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => {
  sandbox.reset();
  resetGuestSchemaCacheForTests();
});

const fieldsOf = (body: Parameters<typeof changesFromBody>[0] & { consent: { marketing: boolean; dataProcessing: boolean } }) =>
  createGuestFields(body.consent, changesFromBody(body, SALT).changes);

const contacts = (): Array<Record<string, unknown>> => Object.values(sandbox.state().externalContacts);

describe('creating a guest', () => {
  it('sends Genesys hashes as external ids and the rest as schema custom fields: no raw identifier, no name, email or phone field', async () => {
    // Prepare
    const fields = fieldsOf({
      email: 'jane.doe@example.com',
      phone: '+1 555 123 4567',
      consent: { marketing: true, dataProcessing: true },
      channelContext: { originPage: 'https://shop.example.com/help?email=jane.doe@example.com', campaignId: 'SPRING_24' },
      attributes: { tier: 'gold', visits: 3 },
    });

    // Act
    const created = await createGuestContact(clientFor(sandbox), SETTINGS, fields);

    // Assess
    expect(sandbox.state().piiFindings).toEqual([]);
    const [contact] = contacts();
    expect(contacts()).toHaveLength(1);
    expect(JSON.stringify(contact)).not.toMatch(/jane|555 123|5551234567/);
    expect(Object.keys(contact ?? {}).filter((key) => /name|email|phone/i.test(key))).toEqual([]);
    expect(contact?.['externalIds']).toEqual([
      { externalSource: { id: SETTINGS.externalSourceId }, value: `email:${fields.identityAttributes.emailHash}` },
      { externalSource: { id: SETTINGS.externalSourceId }, value: `phone:${fields.identityAttributes.phoneHash}` },
      { externalSource: { id: SETTINGS.externalSourceId }, value: expect.stringMatching(/^create:[0-9a-f-]{36}$/) },
    ]);
    expect(contact?.['schema']).toEqual({ id: SETTINGS.contactSchemaId, version: 1 });
    expect(created.guest).toEqual({
      id: contact?.['id'],
      identityAttributes: { emailHash: expect.stringMatching(/^[0-9a-f]{64}$/), phoneHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      consent: { marketing: true, dataProcessing: true },
      channelContext: { originPage: 'https://shop.example.com/help', campaignId: 'SPRING_24' },
      attributes: { tier: 'gold', visits: 3 },
      createdDate: contact?.['createDate'],
      modifiedDate: contact?.['modifyDate'],
    });
    expect(created.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
  });

  it('reads the guest back as created, with the same strong ETag', async () => {
    // Prepare
    const client = clientFor(sandbox);
    const created = await createGuestContact(client, SETTINGS, fieldsOf({ consent: { marketing: false, dataProcessing: true }, attributes: { note: 'x'.repeat(2500) } }));

    // Act
    const read = await readGuest(client, SETTINGS, created.guest.id);

    // Assess
    expect(read.guest).toEqual(created.guest);
    expect(read.etag).toBe(created.etag);
    expect(read.etag).toBe(guestEtag(read.guest));
  });

  it('answers 404 for a contact that is not a guest (another schema), showing nothing of it', async () => {
    // Prepare
    const client = clientFor(sandbox);
    const created = await createGuestContact(client, SETTINGS, fieldsOf({ consent: { marketing: false, dataProcessing: true } }));
    await control(sandbox, 'POST', `/__sandbox/externalcontacts/contacts/${created.guest.id}/touch`, { schema: null, customFields: null });

    // Act
    const read = readGuest(client, SETTINGS, created.guest.id);

    // Assess
    await expect(read).rejects.toMatchObject({ status: 404 });
  });

  it('answers 502 naming setup-genesys when the configured schema does not exist', async () => {
    // Act
    const created = createGuestContact(clientFor(sandbox), { ...SETTINGS, contactSchemaId: '0b5e7f3a-5c1d-4e2f-9a3b-000000000000' }, fieldsOf({ consent: { marketing: false, dataProcessing: true } }));

    // Assess
    await expect(created).rejects.toThrow(/npm run setup-genesys/);
    await expect(created).rejects.toBeInstanceOf(DependencyError);
  });
});

describe('a create whose answer is lost never leaves two contacts', () => {
  it.each([
    ['the connection drops after Genesys committed it', { delayAfterCommitMs: 0, dropConnection: true }],
    ['Genesys committed it and then answered 503', { delayAfterCommitMs: 0, status: 503 }],
  ])('%s: the contact is found by its create key, not created again', async (_case, fault) => {
    // Prepare
    await control(sandbox, 'POST', '/__sandbox/faults', { rules: [{ operation: 'postExternalcontactsContacts', times: 1, ...fault }] });

    // Act
    const created = await createGuestContact(clientFor(sandbox), SETTINGS, fieldsOf({ email: 'jane@example.com', consent: { marketing: true, dataProcessing: true } }));

    // Assess
    expect(contacts()).toHaveLength(1);
    expect(created).toMatchObject({ recovered: true, attempts: 1, guest: { id: contacts()[0]?.['id'] } });
    expect(requestsFor(sandbox, 'postExternalcontactsContacts')).toBe(1);
    expect(requestsFor(sandbox, 'postExternalcontactsIdentifierlookupContacts')).toBe(1);
  });

  it('a guest with neither email nor phone is found again the same way (the create key is its only identifier)', async () => {
    // Prepare
    await control(sandbox, 'POST', '/__sandbox/faults', { rules: [{ operation: 'postExternalcontactsContacts', times: 1, delayAfterCommitMs: 0, dropConnection: true }] });

    // Act
    const created = await createGuestContact(clientFor(sandbox), SETTINGS, fieldsOf({ consent: { marketing: false, dataProcessing: true } }));

    // Assess
    expect(contacts()).toHaveLength(1);
    expect(created.recovered).toBe(true);
    expect(created.guest.identityAttributes).toEqual({});
  });

  it('a create that was not committed (503 before any write) is sent again once the lookup finds nothing', async () => {
    // Prepare
    await control(sandbox, 'POST', '/__sandbox/faults', { rules: [{ operation: 'postExternalcontactsContacts', times: 1, status: 503 }] });

    // Act
    const created = await createGuestContact(clientFor(sandbox), SETTINGS, fieldsOf({ phone: '+44 7911 123456', consent: { marketing: false, dataProcessing: true } }));

    // Assess
    expect(contacts()).toHaveLength(1);
    expect(created).toMatchObject({ recovered: false, attempts: 2 });
  });

  it('when the lookup fails too, nothing is sent again: 502 saying the outcome is unknown, at most one contact', async () => {
    // Prepare
    await control(sandbox, 'POST', '/__sandbox/faults', {
      rules: [
        { operation: 'postExternalcontactsContacts', times: 1, delayAfterCommitMs: 0, dropConnection: true },
        { operation: 'postExternalcontactsIdentifierlookupContacts', status: 500 },
      ],
    });

    // Act
    const created = createGuestContact(clientFor(sandbox), SETTINGS, fieldsOf({ email: 'jane@example.com', consent: { marketing: true, dataProcessing: true } }));

    // Assess
    await expect(created).rejects.toMatchObject({ status: 502, extensions: { outcome: 'unknown' } });
    expect(contacts()).toHaveLength(1);
    expect(requestsFor(sandbox, 'postExternalcontactsContacts')).toBe(1);
  });

  it('a refused create (400) is not looked up or repeated', async () => {
    // Prepare
    await control(sandbox, 'POST', '/__sandbox/faults', { rules: [{ operation: 'postExternalcontactsContacts', times: 1, status: 400 }] });

    // Act
    const created = createGuestContact(clientFor(sandbox), SETTINGS, fieldsOf({ consent: { marketing: true, dataProcessing: true } }));

    // Assess
    await expect(created).rejects.toBeInstanceOf(GenesysError);
    expect(requestsFor(sandbox, 'postExternalcontactsIdentifierlookupContacts')).toBe(0);
    expect(contacts()).toHaveLength(0);
  });
});
