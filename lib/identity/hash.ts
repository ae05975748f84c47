/**
 * Identity hashing: raw emails and phone numbers become salted SHA-256 hashes at the
 * edge, so no plaintext identifier travels further. Every route uses this one
 * normalisation, so the same person hashes the same from prefill, guests and pre-chat.
 */
import { createHash } from 'node:crypto';
import { foldText } from '#lib/pii';

/** Which identifier a hash was made from. */
export type IdentifierKind = 'email' | 'phone';

/**
 * The canonical form hashed: trimmed and lower-cased; a phone number is reduced to its
 * digits, read in any script and width (`＋１ ５５５…`, `٥٥٥…`), keeping a leading `+`
 * (so `+1 (555) 123-4567`, `+15551234567` and their full-width forms agree).
 */
export function normaliseIdentifier(kind: IdentifierKind, value: string): string {
  const trimmed = value.trim().toLowerCase();
  if (kind === 'email') return trimmed;
  const folded = foldText(trimmed).text;
  const digits = folded.replace(/\D/g, '');
  return folded.startsWith('+') ? `+${digits}` : digits;
}

/** Salted SHA-256 (64 hex chars) of a normalised identifier. The salt is required, never defaulted. */
export function hashIdentifier(kind: IdentifierKind, value: string, salt: string): string {
  if (salt.length === 0) throw new Error('An identity salt is required to hash identifiers');
  return createHash('sha256').update(`${salt}:${normaliseIdentifier(kind, value)}`).digest('hex');
}

/** The identity hashes of a caller, and how it was resolved. */
export interface IdentityHashes {
  emailHash?: string;
  phoneHash?: string;
  resolutionMethod: 'email' | 'phone' | 'unknown';
}

/** Hashes whichever of email and phone is present and non-empty (email resolves first). */
export function resolveIdentity(input: { email?: unknown; phone?: unknown }, salt: string): IdentityHashes {
  const email = typeof input.email === 'string' && input.email.trim() !== '' ? input.email : undefined;
  const phone = typeof input.phone === 'string' && normaliseIdentifier('phone', input.phone).replace('+', '') !== '' ? input.phone : undefined;
  return {
    ...(email ? { emailHash: hashIdentifier('email', email, salt) } : {}),
    ...(phone ? { phoneHash: hashIdentifier('phone', phone, salt) } : {}),
    resolutionMethod: email ? 'email' : phone ? 'phone' : 'unknown',
  };
}
