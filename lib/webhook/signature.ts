/**
 * Genesys webhook signatures (docs/api.md section 2): `X-Hub-Signature-256: sha256=<base64
 * HMAC-SHA256(signing secret, raw body)>`, checked over the exact request bytes, in
 * constant time, against every accepted secret version.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header Genesys signs deliveries with (lower-cased, as the HTTP stack presents headers). */
export const SIGNATURE_HEADER = 'x-hub-signature-256';

/** `sha256=` and the base64 of a 32-byte digest (padding optional, URL-safe alphabet tolerated). */
const SIGNATURE_PATTERN = /^sha256=([A-Za-z0-9+/_-]{43}={0,1})$/;

/** The header value Genesys would send for `body` signed with `secret`. */
export function signPayload(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('base64')}`;
}

/**
 * Which secret version a signature matched: AWSCURRENT, AWSPREVIOUS, or AWSPENDING (a
 * rotation that has given the sender its new secret but not yet made it current).
 */
export type SignatureMatch = 'current' | 'previous' | 'pending';

/** True when the header has the shape of a signature (only those are worth a re-read). */
export function isWellFormedSignature(header: string | undefined): boolean {
  const match = SIGNATURE_PATTERN.exec(header?.trim() ?? '');
  return match?.[1] !== undefined && Buffer.from(match[1], 'base64').length === 32;
}

/**
 * Checks a signature header against the secrets (current first). Every secret is compared,
 * each with `timingSafeEqual`, so the time taken says nothing about which one (or how much
 * of one) matched. Returns the matching version, or undefined for a missing, malformed or
 * wrong signature.
 */
export function verifySignature(header: string | undefined, rawBody: Buffer, secrets: readonly string[]): SignatureMatch | undefined {
  return verifyLabelled(
    header,
    rawBody,
    secrets.map((secret, index) => ({ secret, version: index === 0 ? 'current' : 'previous' })),
  );
}

/** Like `verifySignature`, with each secret naming the version it stands for. */
export function verifyLabelled(
  header: string | undefined,
  rawBody: Buffer,
  secrets: ReadonlyArray<{ secret: string; version: SignatureMatch }>,
): SignatureMatch | undefined {
  const match = SIGNATURE_PATTERN.exec(header?.trim() ?? '');
  if (!match?.[1]) return undefined;
  const provided = Buffer.from(match[1], 'base64');
  if (provided.length !== 32) return undefined;
  let matched: SignatureMatch | undefined;
  for (const { secret, version } of secrets) {
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    if (timingSafeEqual(expected, provided) && matched === undefined) matched = version;
  }
  return matched;
}
