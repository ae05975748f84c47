/**
 * Prefill processing (contract section 2), pure: identity hashes from the raw values,
 * PII masking of every value, exact-only type coercion, and the byte limit Genesys
 * enforces on the serialised payload.
 */
import { PayloadTooLargeError } from '#lib/errors';
import { resolveIdentity } from '#lib/identity';
import { maskIdentifiers, PHONE_MASK } from '#lib/pii';
import type { PrefillBody, PrefillScalar } from './schema.ts';

/** Genesys refuses session attribute bodies larger than this (UTF-8 bytes of `{attributes}`). */
export const MAX_PREFILL_BYTES = 10_240;

/** Attribute keys that hold the guest's own identifiers: hashed, and always masked. */
export const IDENTITY_KEYS = ['email', 'phone'] as const;

/** What processing produced: what goes to Genesys, what goes to the CRM job, and what changed. */
export interface ProcessedPrefill {
  /** Consent merged over the attributes, masked and coerced: the body sent to Genesys. */
  attributes: Record<string, PrefillScalar>;
  /** The consent keys alone, masked and coerced (absent when the request had none). */
  consentFlags?: Record<string, PrefillScalar>;
  /** UTF-8 bytes of `JSON.stringify({ attributes })`. */
  byteSize: number;
  /** Keys whose value was masked, in request order. */
  maskedKeys: string[];
  emailHash?: string;
  phoneHash?: string;
}

/** True when the request carries a raw email or phone worth hashing (so the salt is needed). */
export function hasIdentityValues(body: PrefillBody): boolean {
  const merged = { ...body.attributes, ...body.consent };
  const { email, phone } = merged;
  return (typeof email === 'string' && email.trim() !== '') || (typeof phone === 'string' && phone.trim() !== '') || typeof phone === 'number';
}

/**
 * Masks one value. Strings lose every email, phone number and SSN they contain; an
 * integer whose digits read as a phone number or SSN becomes the masked string. The
 * identity keys are masked whole even when their value does not look like an identifier
 * (`jane@localhost`, `555-1234`): it is the guest's own identifier either way.
 */
export function maskValue(key: string, value: PrefillScalar): { value: PrefillScalar; masked: boolean } {
  if (typeof value === 'boolean') return { value, masked: false };
  const text = typeof value === 'number' ? String(value) : value;
  if ((IDENTITY_KEYS as readonly string[]).includes(key) && text.trim() !== '') {
    return { value: key === 'email' ? '*'.repeat(text.length) : PHONE_MASK, masked: true };
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return { value, masked: false };
    const result = maskIdentifiers(text);
    return result.masked ? result : { value, masked: false };
  }
  return maskIdentifiers(value);
}

/**
 * `"true"` / `"false"` become booleans; a numeric string becomes a number only when the
 * number prints back as exactly the same string (`"42"`, `"-1.5"`), so `"00123"`,
 * `"1e3"`, `"1.50"`, `" 7"` and `"555-1234"` stay strings and nothing is lost.
 */
export function coerceValue(value: PrefillScalar): PrefillScalar {
  if (typeof value !== 'string') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  const number = Number(value);
  return value !== '' && Number.isFinite(number) && String(number) === value ? number : value;
}

/**
 * Processes a validated request in the contract's order: hashes from the raw `email` /
 * `phone`, then masking, then coercion, then the size check (413 naming the byte size).
 * `salt` is required when `hasIdentityValues(body)`.
 */
export function processPrefill(body: PrefillBody, salt: string | undefined, maxBytes: number = MAX_PREFILL_BYTES): ProcessedPrefill {
  const merged: Record<string, PrefillScalar> = { ...body.attributes, ...body.consent };

  let hashes: { emailHash?: string; phoneHash?: string } = {};
  if (hasIdentityValues(body)) {
    if (salt === undefined || salt === '') throw new Error('An identity salt is required to hash email and phone values');
    const { email, phone } = merged;
    const identity = resolveIdentity({ email, phone: typeof phone === 'number' ? String(phone) : phone }, salt);
    hashes = {
      ...(identity.emailHash ? { emailHash: identity.emailHash } : {}),
      ...(identity.phoneHash ? { phoneHash: identity.phoneHash } : {}),
    };
  }

  const maskedKeys: string[] = [];
  const process = (key: string, value: PrefillScalar): [string, PrefillScalar] => {
    const masked = maskValue(key, value);
    if (masked.masked) maskedKeys.push(key);
    return [key, coerceValue(masked.value)];
  };
  // Object.fromEntries defines own properties, so no key can reach a prototype.
  const attributes = Object.fromEntries(Object.entries(merged).map(([key, value]) => process(key, value)));
  const consentFlags = body.consent
    ? Object.fromEntries(Object.keys(body.consent).map((key) => [key, attributes[key] as PrefillScalar]))
    : undefined;

  const byteSize = Buffer.byteLength(JSON.stringify({ attributes }), 'utf8');
  if (byteSize > maxBytes) {
    const error = new PayloadTooLargeError(
      `The processed attributes serialise to ${byteSize} bytes; Genesys accepts at most ${maxBytes} bytes. Nothing was sent.`,
    );
    Object.assign(error.extensions, { byteSize, maxBytes });
    throw error;
  }

  return { attributes, ...(consentFlags ? { consentFlags } : {}), byteSize, maskedKeys, ...hashes };
}
