/**
 * Detection and masking of personal identifiers (emails, phone numbers, SSNs) in free
 * text. Used by the prefill masker and by the logger's redaction, so both agree on what
 * counts as an identifier.
 */

/** An email address anywhere in a string. */
export const EMAIL_PATTERN = /[\p{L}\p{M}\p{N}._%+-]+@[\p{L}\p{M}\p{N}-]+(?:\.[\p{L}\p{M}\p{N}-]+)*\.\p{L}{2,}/gu;

/** A US social security number written with dashes or spaces (3-2-4). */
export const SSN_PATTERN = /(?<![\d+])\d{3}([- ])\d{2}\1\d{4}(?!\d)/g;

/**
 * A phone number: E.164 (`+` and 8-15 digits, optionally grouped) or a North American
 * national form (`555-123-4567`, `(555) 123-4567`, `555.123.4567`, `5551234567`).
 */
export const PHONE_PATTERN =
  /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-]?)\d{3}[ .-]?\d{4}(?!\d)|(?<![\w+])\+\d(?:[ .-]?\d){7,14}(?!\d)/g;

/** The fixed masks the contract prescribes. */
export const PHONE_MASK = '***-***-****';
export const SSN_MASK = '***-**-****';

/** What masking found in one value. */
export interface MaskResult {
  value: string;
  masked: boolean;
}

/**
 * Masks every identifier in `text`: emails become `*` of the same length, SSNs
 * `***-**-****`, phone numbers `***-***-****`. Emails go first so their digits are not
 * read as phone numbers; SSNs before phones for the same reason.
 */
export function maskIdentifiers(text: string): MaskResult {
  let masked = false;
  const value = text
    .replace(EMAIL_PATTERN, (match) => {
      masked = true;
      return '*'.repeat(match.length);
    })
    .replace(SSN_PATTERN, () => {
      masked = true;
      return SSN_MASK;
    })
    .replace(PHONE_PATTERN, () => {
      masked = true;
      return PHONE_MASK;
    });
  return { value, masked };
}

/** True when `text` holds at least one email, phone number or SSN. */
export function containsIdentifier(text: string): boolean {
  return maskIdentifiers(text).masked;
}
