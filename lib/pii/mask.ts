/**
 * Detection and masking of personal identifiers (emails, phone numbers, SSNs): the one
 * masking module every route, the logger's redaction and the SQS producer's last guard
 * use, so all agree on what counts as an identifier. docs/pii.md lists the formats.
 */
import { foldText } from './fold.ts';
import { identifierKindOfKey, type IdentifierKind } from './keys.ts';
import {
  acceptBareInternational,
  acceptInternational,
  BARE_INTERNATIONAL_PATTERN,
  emailPattern,
  INTERNATIONAL_PATTERN,
  NANP_PATTERN,
  PROTECTED_PATTERN,
  SSN_PATTERN,
  TRUNK_PATTERN,
} from './patterns.ts';

/** The fixed masks the contract prescribes. */
export const PHONE_MASK = '***-***-****';
export const SSN_MASK = '***-**-****';

/** What masking found in one value. */
export interface MaskResult {
  value: string;
  masked: boolean;
}

interface Span {
  start: number;
  end: number;
  kind: IdentifierKind;
}

/**
 * The detectors in the order they run; each later one reads the text with earlier finds
 * blanked. `needs`: a character every match contains, so a text without it is not searched
 * (the email pattern, the costliest, is skipped for text without an `@`).
 */
const DETECTORS: ReadonlyArray<{ kind: IdentifierKind | 'protected'; pattern: RegExp | (() => RegExp); accept?: (match: string) => boolean; needs?: string }> = [
  { kind: 'email', pattern: emailPattern, needs: '@' },
  { kind: 'protected', pattern: PROTECTED_PATTERN },
  { kind: 'ssn', pattern: SSN_PATTERN },
  { kind: 'phone', pattern: INTERNATIONAL_PATTERN, accept: acceptInternational },
  { kind: 'phone', pattern: NANP_PATTERN },
  { kind: 'phone', pattern: TRUNK_PATTERN },
  { kind: 'phone', pattern: BARE_INTERNATIONAL_PATTERN, accept: acceptBareInternational },
];

/** Text of ASCII characters only (most log values): folding would leave it as it is. */
const ASCII_ONLY = /^[\x00-\x7F]*$/;

/**
 * The identifiers in `text`, as spans of the original string. Detection reads the folded
 * text (full-width and other-script digits as ASCII); each find is blanked before the
 * next detector runs, so an email's digits are never read as a phone number and a UUID
 * or a hash is never read as anything.
 */
function findIdentifiers(text: string): Span[] {
  // ASCII text folds to itself, one unit per unit: its spans need no mapping back.
  const folded = ASCII_ONLY.test(text) ? undefined : foldText(text);
  let scratch = folded?.text ?? text;
  const spans: Span[] = [];
  for (const { kind, pattern, accept, needs } of DETECTORS) {
    if (needs !== undefined && !scratch.includes(needs)) continue;
    const found: Array<[number, number]> = [];
    for (const match of scratch.matchAll(typeof pattern === 'function' ? pattern() : pattern)) {
      if (accept && !accept(match[0])) continue;
      found.push([match.index, match.index + match[0].length]);
    }
    if (found.length === 0) continue;
    // Finds are blanked with a character no pattern reads as part of an identifier (one pass per detector).
    let blanked = '';
    let at = 0;
    for (const [start, end] of found) {
      blanked += scratch.slice(at, start) + '\u0000'.repeat(end - start);
      at = end;
      if (kind !== 'protected') {
        spans.push(folded ? { start: folded.starts[start] as number, end: folded.ends[end - 1] as number, kind } : { start, end, kind });
      }
    }
    scratch = blanked + scratch.slice(at);
  }
  return spans.sort((a, b) => a.start - b.start);
}

/** Every identifier holds an `@` or a digit (of any script): text without either is skipped cheaply. */
const MAYBE_IDENTIFIER = /[@\uFF20\p{Nd}]/u;

/** The mask of one identifier: emails become `*` of the same length, SSNs and phones their fixed masks. */
function maskOf(kind: IdentifierKind, original: string): string {
  if (kind === 'email') return '*'.repeat(original.length);
  return kind === 'ssn' ? SSN_MASK : PHONE_MASK;
}

/**
 * Masks every identifier in `text`: emails become `*` of the same length, SSNs
 * `***-**-****`, phone numbers `***-***-****`; everything else is kept as it was.
 */
export function maskIdentifiers(text: string): MaskResult {
  if (!MAYBE_IDENTIFIER.test(text)) return { value: text, masked: false };
  const spans = findIdentifiers(text);
  if (spans.length === 0) return { value: text, masked: false };
  let value = '';
  let at = 0;
  for (const span of spans) {
    value += text.slice(at, span.start) + maskOf(span.kind, text.slice(span.start, span.end));
    at = span.end;
  }
  return { value: value + text.slice(at), masked: true };
}

/** True when `text` holds at least one email, phone number or SSN. */
export function containsIdentifier(text: string): boolean {
  return MAYBE_IDENTIFIER.test(text) && findIdentifiers(text).length > 0;
}

/** A flat value the routes carry. */
export type Scalar = string | number | boolean;

/**
 * Masks one value in the context of its key, the same way on every route:
 * - under a key that names an identifier (`email`, `Phone`, `mobile`, `ssn`...), any
 *   non-empty string and any number is the guest's identifier and is masked whole;
 * - elsewhere a string loses every identifier it contains, and an integer whose digits
 *   read as a phone number or SSN (`5551234567`, `447911123456`) becomes the masked string;
 * - booleans and fractional numbers are kept.
 */
export function maskScalar<T extends Scalar>(key: string, value: T): { value: T | string; masked: boolean } {
  if (typeof value === 'boolean') return { value, masked: false };
  const kind = identifierKindOfKey(key);
  const text = typeof value === 'number' ? String(value) : (value as string);
  if (kind !== undefined && (typeof value === 'number' || text.trim() !== '')) {
    return { value: maskOf(kind, text), masked: true };
  }
  if (typeof value === 'number') {
    // Fractions are kept, and so are integers of at most nine digits: every phone number
    // pattern needs ten digits or a `+` / `00` prefix, and an SSN its separators.
    if (!Number.isInteger(value) || Math.abs(value) < 1e9) return { value, masked: false };
    const result = maskIdentifiers(text);
    return result.masked ? result : { value, masked: false };
  }
  return maskIdentifiers(text);
}

/**
 * Masks identifiers in every string and number of a JSON value, deep, each in the
 * context of its own key (`maskScalar`). For last guards (the SQS producer): hashes and
 * ids are left alone, as they never read as identifiers.
 */
export function maskDeep<T>(value: T, key = ''): T {
  if (typeof value === 'string' || typeof value === 'number') return maskScalar(key, value).value as T;
  if (Array.isArray(value)) return value.map((item) => maskDeep(item, key)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, maskDeep(item, name)])) as T;
  }
  return value;
}
