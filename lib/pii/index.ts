/**
 * Detection and masking of personal identifiers (emails, phone numbers, SSNs): the one
 * masking every route, the logger's redaction and the SQS producer's last guard use.
 */
export { foldText } from './fold.ts';
export { identityKeyKind } from './keys.ts';
export { containsIdentifier, maskDeep, maskIdentifiers, maskScalar } from './mask.ts';
