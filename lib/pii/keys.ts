/**
 * Keys that name an identifier. A value under such a key is the guest's own identifier
 * whatever it looks like (`jane@intranet`, `555-1234`, `123456789`), so it is masked
 * whole; keys are compared without case and without `_`, `.`, `-` or spaces
 * (`Email`, `E-Mail`, `mobile_phone`, `Social.Security.Number`).
 */

/** The kinds of identifier the suite masks. */
export type IdentifierKind = 'email' | 'phone' | 'ssn';

const KEY_KINDS: ReadonlyMap<string, IdentifierKind> = new Map([
  ...['email', 'emailaddress', 'mail', 'mailaddress'].map((name) => [name, 'email'] as const),
  ...[
    'phone', 'phonenumber', 'phoneno', 'mobile', 'mobilephone', 'mobilenumber', 'mobileno', 'cell', 'cellphone',
    'cellnumber', 'tel', 'telephone', 'telephonenumber', 'msisdn',
  ].map((name) => [name, 'phone'] as const),
  ...['ssn', 'socialsecuritynumber', 'socialsecurity', 'socialsecurityno', 'ssnumber', 'usssn'].map((name) => [name, 'ssn'] as const),
]);

/** A key reduced to what `identifierKindOfKey` compares: lower case, no `_ . -` or spaces. */
export const normaliseKeyName = (key: string): string => key.toLowerCase().replace(/[\s_.-]/g, '');

/** Which identifier a key names (`Email` -> email, `mobile` -> phone, `SSN` -> ssn), if any. */
export function identifierKindOfKey(key: string): IdentifierKind | undefined {
  return KEY_KINDS.get(normaliseKeyName(key));
}

/**
 * The identity keys whose raw values are hashed (docs/api.md section 2): exactly `email` and
 * `phone`, in any case. Other phone keys (`mobile`, `tel`...) are masked, never hashed:
 * one guest has one phone hash, and which of two numbers it stands for must not depend
 * on key order.
 */
export function identityKeyKind(key: string): 'email' | 'phone' | undefined {
  const lower = key.toLowerCase();
  return lower === 'email' || lower === 'phone' ? lower : undefined;
}
