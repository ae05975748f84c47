/**
 * The request bodies of `POST /guests` and `PATCH /guests/{guestId}` (docs/api.md section 2)
 * as JSON schemas. They enforce data minimisation: no property outside the list, identity
 * only as hashes (raw email and phone are accepted at the edge and hashed before anything
 * leaves the handler), a bounded device fingerprint, flat attributes under the prefill key
 * rules. `npm run build:schemas` precompiles them into `schema.validators.js`.
 */
import type { SchemaObject } from 'ajv';
import type { GuestAttributeValue as AttributeValue } from './contact.ts';
import { PHONE_INPUT_PATTERN } from '#lib/validation';

/** A salted SHA-256 as 64 hex characters. */
export const HASH_PATTERN = '^[A-Fa-f0-9]{64}$';
/** Attribute names: the same rule as prefill keys. */
export const ATTRIBUTE_KEY_PATTERN = '^[A-Za-z][A-Za-z0-9_.-]{0,63}$';
/** Campaign ids as the contract fixes them. */
export const CAMPAIGN_ID_PATTERN = '^[A-Z0-9_-]+$';
/** Most attributes a guest carries, as for prefill. */
export const MAX_ATTRIBUTES = 100;
/** Longest device fingerprint accepted. */
export const MAX_DEVICE_FINGERPRINT = 128;

/** The caller's consent decisions. */
export interface ConsentInput {
  marketing: boolean;
  dataProcessing: boolean;
}

/** Where the conversation started. */
export interface ChannelContextInput {
  originPage?: string;
  campaignId?: string;
}

/** Identity a caller may pass as is: hashes it already holds (from a guest it read) and a device fingerprint. */
export interface IdentityAttributesInput {
  emailHash?: string;
  phoneHash?: string;
  deviceFingerprint?: string;
}

/** Body of `POST /guests`. */
export interface CreateGuestBody {
  email?: string;
  phone?: string;
  consent: ConsentInput;
  channelContext?: ChannelContextInput;
  identityAttributes?: IdentityAttributesInput;
  attributes?: Record<string, AttributeValue>;
}

/** Body of `PATCH /guests/{guestId}`: only what changes; consent may be partial. */
export interface UpdateGuestBody {
  email?: string;
  phone?: string;
  consent?: Partial<ConsentInput>;
  channelContext?: ChannelContextInput;
  identityAttributes?: IdentityAttributesInput;
  attributes?: Record<string, AttributeValue>;
}

const email = { type: 'string', format: 'email', maxLength: 254 };
const phone = { type: 'string', pattern: PHONE_INPUT_PATTERN, maxLength: 32 };
const hash = { type: 'string', pattern: HASH_PATTERN };

const channelContext = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    originPage: { type: 'string', format: 'uri', pattern: '^[Hh][Tt][Tt][Pp][Ss]?://', maxLength: 2048 },
    campaignId: { type: 'string', pattern: CAMPAIGN_ID_PATTERN, minLength: 1, maxLength: 64 },
  },
};

const identityAttributes = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    emailHash: hash,
    phoneHash: hash,
    deviceFingerprint: { type: 'string', minLength: 1, maxLength: MAX_DEVICE_FINGERPRINT },
  },
};

const attributes = {
  type: 'object',
  maxProperties: MAX_ATTRIBUTES,
  propertyNames: { pattern: ATTRIBUTE_KEY_PATTERN },
  additionalProperties: { type: ['string', 'number', 'boolean'], maxLength: 1024 },
};

/** The consent object: which flags must be present is the only difference between create and update. */
function consentFlags(presence: { required: string[] } | { minProperties: number }): SchemaObject {
  return {
    type: 'object',
    additionalProperties: false,
    ...presence,
    properties: { marketing: { type: 'boolean' }, dataProcessing: { type: 'boolean' } },
  };
}

/** JSON schema of `POST /guests`. */
export const createGuestSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['consent'],
  properties: {
    email,
    phone,
    consent: consentFlags({ required: ['marketing', 'dataProcessing'] }),
    channelContext,
    identityAttributes,
    attributes,
  },
};

/** JSON schema of `PATCH /guests/{guestId}`: at least one field, consent flags one by one. */
export const updateGuestSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    email,
    phone,
    consent: consentFlags({ minProperties: 1 }),
    channelContext,
    identityAttributes,
    attributes,
  },
};
