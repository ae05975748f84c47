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
 * A phone number: E.164 (`+` and 8-15 digits, optionally grouped), a North American
 * national form (`555-123-4567`, `(555) 123-4567`, `555.123.4567`, `5551234567`), or a
 * grouped national form with a trunk `0` and 10-11 digits (`020 7946 0958`,
 * `07700 900123`, `01 23 45 67 89`, `030 12345678`). The trunk form needs a separator
 * after its first group, so zip codes and zero-padded ids (`02134`, `000123456`) stay.
 */
export const PHONE_PATTERN = new RegExp(
  [
    String.raw`(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-]?)\d{3}[ .-]?\d{4}(?!\d)`,
    String.raw`(?<![\w+])\+\d(?:[ .-]?\d){7,14}(?!\d)`,
    // Trunk 0, a first group of 2-5 digits, a separator, then 10-11 digits in all.
    String.raw`(?<![\w+.-])0[1-9](?:[ .-]\d(?:[ .-]?\d){7,8}|\d[ .-]\d(?:[ .-]?\d){6,7}|\d{2}[ .-]\d(?:[ .-]?\d){5,6}|\d{3}[ .-]\d(?:[ .-]?\d){4,5})(?!\d)`,
  ].join('|'),
  'g',
);

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
