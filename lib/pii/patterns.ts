/**
 * The identifier patterns, written for folded text (`fold.ts`: ASCII digits, ASCII
 * punctuation). Hand-written: no maintained library masks identifiers in free text with
 * this false-positive policy (libphonenumber-js finds numbers only for one region at a
 * time and validates them against the numbering plan, so fictional `555` numbers and
 * numbers glued to text escape it). docs/pii.md says what each pattern takes and leaves.
 */

const L = String.raw`[\p{L}\p{M}\p{N}]`;
/** One DNS label (letters of any script, digits, inner hyphens: IDN and punycode alike). */
const LABEL = String.raw`${L}(?:[\p{L}\p{M}\p{N}-]{0,61}${L})?`;

/**
 * An email address: a local part of letters, digits and `!#$%'*+^_~.-` (RFC 5322 atext
 * without `/=?&{|}` and the backquote, which in practice belong to URLs and markup around
 * an address, not to it) or a quoted local part; then a dotted domain of any script, a
 * single-label host that starts with a letter (`localhost`), or an address literal
 * (`[192.0.2.1]`, `[IPv6:2001:db8::1]`). Every repetition is bounded (a local part has
 * at most 64 characters, a label 63): with an open `+`, a long run of letters or digits
 * and an `@` far behind it made the search quadratic (100 KB took minutes); bounded, it
 * is linear, and the last 64 characters before an `@` are still masked.
 *
 * Compiled on first use: compiling its Unicode classes takes milliseconds, which every
 * cold start would pay, also a function that never masks anything (`/health`).
 */
export function emailPattern(): RegExp {
  compiledEmailPattern ??= new RegExp(
    String.raw`(?:"[^"\\\r\n]{1,64}"|[\p{L}\p{M}\p{N}!#$%*+^_~-][\p{L}\p{M}\p{N}!#$%'*+^_~.-]{0,63})@` +
      String.raw`(?:${LABEL}(?:\.${LABEL}){1,126}|\p{L}[\p{L}\p{M}\p{N}-]{0,62}|\[(?:IPv6:)?[0-9A-Fa-f:.]{2,45}\])`,
    'gu',
  );
  return compiledEmailPattern;
}
let compiledEmailPattern: RegExp | undefined;

/**
 * Tokens that are never identifiers and whose digits could look like one: UUIDs, runs of
 * 32 or more hex digits (hashes), ISO 8601 dates and date-times. They are set aside
 * before phone numbers and SSNs are looked for.
 */
export const PROTECTED_PATTERN = new RegExp(
  [
    String.raw`[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`,
    String.raw`(?<![0-9A-Za-z])[0-9A-Fa-f]{32,}(?![0-9A-Za-z])`,
    String.raw`(?<!\d)\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?(?!\d)`,
  ].join('|'),
  'g',
);

/**
 * Where a number may start: not inside a longer run of digits, not after `+`, not as the
 * decimals of another number (`0.5551234567`). Letters and `_` before it are fine, so
 * digits run into text (`call_5551234567`) are found.
 */
const START = String.raw`(?<![\d+])(?<!\d[.,])`;
/** Where a number must end: not followed by more digits or by decimals. */
const END = String.raw`(?!\d|[.,]\d)`;

/**
 * A US social security number, 3-2-4, with dashes, spaces or dots (the same separator
 * twice). Nine bare digits count only under a key that names an SSN (see `keys.ts`):
 * elsewhere they are as likely an order number.
 */
export const SSN_PATTERN = new RegExp(String.raw`${START}\d{3}([- .])\d{2}\1\d{4}${END}`, 'g');

/**
 * International numbers with a `+`, a `(+CC)` or a `00` prefix, in any grouping:
 * `+44 20 7946 0958`, `+44 (0)20 7946 0958`, `(+33) 6 12 34 56 78`, `0044 20 7946 0958`,
 * `+1 (555) 123-4567`. The digits are counted afterwards (`acceptInternational`).
 */
export const INTERNATIONAL_PATTERN = new RegExp(
  String.raw`${START}(?:\(\s?\+\s?\d{1,3}\s?\)|\+\s?\d{1,3}|00[1-9]\d{0,2})(?:[ .-]?(?:\(0\)|\(\d{1,5}\)|\d)){6,14}${END}`,
  'g',
);

/**
 * A North American number: `555-123-4567`, `(555) 123-4567`, `555.123.4567`,
 * `5551234567`, `15551234567`, `1 555 123 4567`. The area code starts with 2-9, as every
 * NANP area code does, so epoch seconds (`1700000000`) and other ten-digit counters
 * starting with 0 or 1 stay.
 */
export const NANP_PATTERN = new RegExp(
  String.raw`${START}(?:1[ .-]?)?(?:\([2-9]\d{2}\)[ .-]?|[2-9]\d{2}[ .-]?)\d{3}[ .-]?\d{4}${END}`,
  'g',
);

/**
 * A grouped national number with a trunk `0` and 10-11 digits (`020 7946 0958`,
 * `07700 900123`, `01 23 45 67 89`, `030 12345678`). It needs a separator after its first
 * group, so zip codes and zero-padded ids (`02134`, `000123456`) stay.
 */
export const TRUNK_PATTERN = new RegExp(
  String.raw`(?<![\d+.-])0[1-9](?:[ .-]\d(?:[ .-]?\d){7,8}|\d[ .-]\d(?:[ .-]?\d){6,7}|\d{2}[ .-]\d(?:[ .-]?\d){5,6}|\d{3}[ .-]\d(?:[ .-]?\d){4,5})(?!\d)`,
  'g',
);

/** A bare run of 11 to 15 digits: an international number written without its `+` (`447911123456`), when `acceptBareInternational` says so. */
export const BARE_INTERNATIONAL_PATTERN = new RegExp(String.raw`${START}\d{11,15}${END}`, 'g');

/**
 * Country calling codes and the lengths of their national numbers (digits after the
 * code), for the countries most guests call from. A bare run of digits counts as a phone
 * number only when it starts with one of these codes and has that country's length, so
 * 13-digit epoch milliseconds, 14-digit timestamps (`20240501102030`) and long order
 * numbers stay.
 */
export const COUNTRY_NUMBER_LENGTHS: Readonly<Record<string, readonly [number, number]>> = {
  '1': [10, 10], '7': [10, 10], '20': [9, 10], '27': [9, 9], '30': [10, 10], '31': [9, 9], '32': [8, 9], '33': [9, 9],
  '34': [9, 9], '36': [8, 9], '39': [9, 11], '40': [9, 9], '41': [9, 9], '43': [9, 13], '44': [9, 10], '45': [8, 8],
  '46': [7, 9], '47': [8, 8], '48': [9, 9], '49': [10, 11], '51': [9, 9], '52': [10, 10], '54': [10, 10], '55': [10, 11],
  '56': [9, 9], '57': [10, 10], '60': [9, 10], '61': [9, 9], '62': [9, 12], '63': [10, 10], '64': [8, 10], '65': [8, 8],
  '66': [9, 9], '81': [10, 10], '82': [9, 10], '84': [9, 10], '86': [11, 11], '90': [10, 10], '91': [10, 10], '92': [10, 10],
  '234': [10, 10], '254': [9, 9], '351': [9, 9], '353': [9, 9], '358': [9, 10], '852': [8, 8], '966': [9, 9], '971': [9, 9],
  '972': [9, 9],
};

/** True when `digits` (no separators) is a known country code followed by a national number of that country's length. */
export function isCountryNumber(digits: string): boolean {
  for (const length of [1, 2, 3]) {
    const range = COUNTRY_NUMBER_LENGTHS[digits.slice(0, length)];
    if (!range) continue;
    const national = digits.length - length;
    if (national < range[0] || national > range[1]) continue;
    // NANP numbers: the area code never starts with 0 or 1.
    if (length === 1 && digits[0] === '1' && !/^[2-9]/.test(digits.slice(1))) continue;
    return true;
  }
  return false;
}

/** An international match is a phone number when its digits (the `(0)` trunk left out) fit E.164. */
export function acceptInternational(match: string): boolean {
  const digits = match.replace(/\(0\)/g, '').replace(/\D/g, '');
  if (/^\(?\s?\+/.test(match)) return digits.length >= 8 && digits.length <= 15;
  // `00` prefix: what follows must be a known country code with a plausible length.
  const rest = digits.slice(2);
  return rest.length >= 9 && rest.length <= 15 && [1, 2, 3].some((length) => COUNTRY_NUMBER_LENGTHS[rest.slice(0, length)] !== undefined);
}

/** A bare run is a phone number only when it reads as a country code and a national number of that country's length. */
export function acceptBareInternational(match: string): boolean {
  return isCountryNumber(match);
}
