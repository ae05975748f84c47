/**
 * Prefill processing (docs/api.md section 2), pure: identity hashes from the raw values,
 * PII masking of every value, exact-only type coercion, and the byte limit Genesys
 * enforces on the serialised payload.
 */
import { resolveIdentity } from '#lib/identity';
import { identityKeyKind, maskScalar } from '#lib/pii';
import { AttributesTooLargeError } from './errors.ts';
import type { PrefillBody, PrefillScalar } from './schema.ts';

/** Genesys refuses session attribute bodies larger than this (UTF-8 bytes of `{attributes}`). */
export const MAX_PREFILL_BYTES = 10_240;

/** The identity keys (docs/api.md section 2): hashed from their raw value, matched in any case. */
export const IDENTITY_KEYS = ['email', 'phone'] as const;

/** True for `email` / `phone` in any case (`Email`, `PHONE`): their values become hashes. */
export const isIdentityKey = (key: string): boolean => identityKeyKind(key) !== undefined;

/** The raw identity values of a request: under `email` / `phone` in any case (validation refuses two spellings of one). */
function identityValues(merged: Record<string, PrefillScalar>): { email?: PrefillScalar; phone?: PrefillScalar } {
  const found: { email?: PrefillScalar; phone?: PrefillScalar } = {};
  for (const [key, value] of Object.entries(merged)) {
    const kind = identityKeyKind(key);
    if (kind !== undefined) found[kind] = value;
  }
  return found;
}

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
  const { email, phone } = identityValues({ ...body.attributes, ...body.consent });
  return (typeof email === 'string' && email.trim() !== '') || (typeof phone === 'string' && phone.trim() !== '') || typeof phone === 'number';
}

/**
 * Masks one value with the masking every route shares (`maskScalar`): strings lose every
 * email, phone number and SSN they contain; an integer whose digits read as one becomes
 * the masked string; under a key naming an identifier (`email`, `Phone`, `mobile`, `ssn`)
 * the value is masked whole, whatever it looks like.
 */
export function maskValue(key: string, value: PrefillScalar): { value: PrefillScalar; masked: boolean } {
  return maskScalar(key, value);
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
    const { email, phone } = identityValues(merged);
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
    throw new AttributesTooLargeError(byteSize, maxBytes);
  }

  return { attributes, ...(consentFlags ? { consentFlags } : {}), byteSize, maskedKeys, ...hashes };
}

/**
 * The Messenger's map (docs/api.md section 2): Genesys participant data holds strings only,
 * so every processed value is carried as its string (`true` -> `"true"`, `42` -> `"42"`).
 */
export function messengerAttributes(attributes: Record<string, PrefillScalar>): Record<string, string> {
  return Object.fromEntries(Object.entries(attributes).map(([key, value]) => [key, String(value)]));
}
