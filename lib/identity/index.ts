/**
 * Identity hashing: raw emails and phone numbers become salted SHA-256 hashes at the edge,
 * one normalisation for every route.
 */
export { normaliseIdentifier, resolveIdentity } from './hash.ts';
export type { IdentityHashes } from './hash.ts';
