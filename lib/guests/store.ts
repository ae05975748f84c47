/**
 * Guests in Genesys Cloud: read, create and replace the external contact behind a guest
 * (docs/api.md section 4: `getExternalcontactsContact`, `postExternalcontactsContacts`,
 * `putExternalcontactsContact`, `postExternalcontactsIdentifierlookupContacts`,
 * `getExternalcontactsContactsSchemas`).
 */
import { randomUUID } from 'node:crypto';
import { DependencyError } from '#lib/errors';
import { GenesysError, genesysOperations, type Deadline, type ExternalContact, type GenesysClient } from '#lib/genesys';
import {
  guestEtag,
  guestExternalIdValue,
  guestFromContact,
  newGuestContact,
  type Guest,
  type GuestContactSettings,
  type GuestFields,
} from './contact.ts';

/** The one client method the guest store uses (the shared client, or one a script built). */
export type GuestGenesys = Pick<GenesysClient, 'call'>;

/** A guest as read or written, with its entity tag and the contact it came from. */
export interface StoredGuest {
  guest: Guest;
  etag: string;
  contact: ExternalContact;
}

const withDeadline = (deadline: Deadline | undefined): { deadline?: Deadline } => (deadline ? { deadline } : {});

const stored = (settings: GuestContactSettings, contact: ExternalContact, askedId?: string): StoredGuest => {
  const guest = guestFromContact(settings, contact, askedId);
  return { guest, etag: guestEtag(guest), contact };
};

/** Schema versions by schema id, per container: a contact names its schema with its version. */
const schemaVersions = new Map<string, number>();

/** Forgets the cached schema versions (a test that recreates the organisation). */
export function resetGuestSchemaCacheForTests(): void {
  schemaVersions.clear();
}

/**
 * The current version of the guest contact schema (a new contact must name it), read once
 * per container from the schema listing. A missing schema is a set-up fault: 502 naming
 * `npm run setup-genesys`.
 */
export async function guestSchemaVersion(client: GuestGenesys, settings: GuestContactSettings, deadline?: Deadline): Promise<number> {
  const known = schemaVersions.get(settings.contactSchemaId);
  if (known !== undefined) return known;
  const { body } = await client.call(genesysOperations.listContactSchemas, withDeadline(deadline));
  const schema = (body.entities ?? []).find((entity) => entity.id === settings.contactSchemaId);
  if (!schema) {
    throw new DependencyError(
      `The guest contact schema ${settings.contactSchemaId} (GUEST_CONTACT_SCHEMA_ID) does not exist in Genesys Cloud; run \`npm run setup-genesys\` and set the id it prints.`,
    );
  }
  schemaVersions.set(settings.contactSchemaId, schema.version);
  return schema.version;
}

/** Reads a guest; 404 when there is no such contact or the contact is not a guest. */
export async function readGuest(client: GuestGenesys, settings: GuestContactSettings, guestId: string, deadline?: Deadline): Promise<StoredGuest> {
  const { body } = await client.call(genesysOperations.getExternalContact, { ...withDeadline(deadline), params: { contactId: guestId } });
  return stored(settings, body, guestId);
}

/** Replaces the whole contact behind a guest (`PUT`) and answers the guest it became. */
export async function replaceGuest(
  client: GuestGenesys,
  settings: GuestContactSettings,
  guestId: string,
  contact: ExternalContact,
  deadline?: Deadline,
): Promise<StoredGuest> {
  const { body } = await client.call(genesysOperations.updateExternalContact, { ...withDeadline(deadline), params: { contactId: guestId }, body: contact });
  return stored(settings, body, guestId);
}

/** How a create went. */
export interface CreatedGuest extends StoredGuest {
  /** Create requests sent. */
  attempts: number;
  /** True when an answer was lost and the contact was found again by its create key. */
  recovered: boolean;
}

/** A failure after which the create may have been committed (no answer, or a 5xx). */
const outcomeUnknown = (error: unknown): boolean =>
  error instanceof GenesysError &&
  error.attempts > 0 &&
  (error.kind === 'timeout' || error.kind === 'network' || (error.upstreamStatus ?? 0) >= 500);

/**
 * Creates the contact of a new guest without ever leaving two. Each create carries a new
 * random create key as an external id (`create:<uuid>`, under the guest source). When an
 * attempt's outcome is unknown (timeout, dropped connection, 5xx: Genesys may have
 * committed it), the contact is looked up by that key (`ExternalId` identifier lookup)
 * before anything is sent again: found, it is the guest; not found, the create is sent
 * again (at most `maxAttempts` in all). The key, not a hash, is looked up: another guest
 * with the same email hash may exist and must not be mistaken for this one, and a guest
 * with neither email nor phone has no hash at all. If the lookup itself fails, nothing is
 * sent again and the caller gets a 502/504 saying the outcome is unknown.
 */
export async function createGuestContact(
  client: GuestGenesys,
  settings: GuestContactSettings,
  fields: GuestFields,
  options: { deadline?: Deadline; maxAttempts?: number; createKey?: string } = {},
): Promise<CreatedGuest> {
  const maxAttempts = options.maxAttempts ?? 3;
  const createKey = options.createKey ?? randomUUID();
  const version = await guestSchemaVersion(client, settings, options.deadline);
  const body = newGuestContact(settings, version, fields, createKey);
  for (let attempt = 1; ; attempt += 1) {
    try {
      const created = await client.call(genesysOperations.createExternalContact, { ...withDeadline(options.deadline), body });
      return { ...stored(settings, created.body), attempts: attempt, recovered: false };
    } catch (error) {
      if (!outcomeUnknown(error)) throw error;
      const found = await findByCreateKey(client, settings, createKey, error as GenesysError, options.deadline);
      if (found) return { ...stored(settings, found), attempts: attempt, recovered: true };
      if (attempt >= maxAttempts) throw error;
    }
  }
}

/** The contact carrying the create key, or undefined when Genesys has none. */
async function findByCreateKey(
  client: GuestGenesys,
  settings: GuestContactSettings,
  createKey: string,
  cause: GenesysError,
  deadline: Deadline | undefined,
): Promise<ExternalContact | undefined> {
  try {
    const { body } = await client.call(genesysOperations.lookupContactByIdentifier, {
      ...withDeadline(deadline),
      body: { type: 'ExternalId', value: guestExternalIdValue('create', createKey), externalSource: { id: settings.externalSourceId } },
    });
    return body;
  } catch (error) {
    if (error instanceof GenesysError && error.upstreamStatus === 404) return undefined;
    throw new DependencyError(
      'Genesys did not answer the guest create, and whether it was created could not be checked; it was not sent again. Read your guests before trying again.',
      error instanceof GenesysError && error.kind === 'timeout' ? 504 : 502,
      { cause, extensions: { operation: cause.operation, outcome: 'unknown' } },
    );
  }
}
