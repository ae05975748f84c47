/**
 * The one check of caller-chosen text (docs/api.md section 2), shared by every route that
 * takes free text: prefill attributes and consent, webhook attributes, guest attributes,
 * channel context and device fingerprint, pre-chat survey answers. It runs after the
 * schema and before anything is stored or sent, and refuses with 400:
 * - a character one of the hops cannot store, in a key or a value;
 * - a key that itself holds an email, phone number or SSN (the error gives the key's
 *   position, never the key);
 * - two keys that would land on one field (`Email` and `email`): keys are matched without
 *   regard to case downstream (identity keys here, field names in the CRMs), so one value
 *   would be lost silently.
 *
 * Which characters. SQS takes only `#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD |
 * #x10000-#x10FFFF` in a message body (SendMessage API reference); the XML-based CRM APIs
 * (Salesforce SOAP, Dynamics) take the same XML 1.0 set; Genesys participant data is
 * stored as strings and shown to agents. JSON escaping would carry C0 controls and lone
 * surrogates through SQS (`JSON.stringify` writes `\u0000`, `\ud800`), but not U+FFFE /
 * U+FFFF, and it only moves the problem: the worker parses the body back and the CRM
 * receives the raw character, and a lone surrogate cannot be encoded in UTF-8 at all (it
 * arrives as U+FFFD, silently changed). So every character that any hop cannot store as
 * itself is refused up front: C0 controls except tab, LF and CR (NUL included), DEL and
 * the C1 controls (U+007F-U+009F, invisible, and refused by several CRMs), lone
 * surrogates, and the noncharacters U+FFFE and U+FFFF.
 */
import type { FieldError } from '#lib/errors';
import { containsIdentifier } from '#lib/pii';

/** A character no hop can store: see the module comment. Without the `u` flag, so lone surrogates are seen. */
const UNSTORABLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The first character of `text` that some hop cannot store, as `U+XXXX` and its 1-based position, if any. */
export function findUnstorable(text: string): { codePoint: string; position: number } | undefined {
  const match = UNSTORABLE.exec(text);
  if (!match) return undefined;
  const unit = match[0].charCodeAt(0);
  // Position in characters (code points), as a person counts them.
  const position = [...text.slice(0, match.index)].length + 1;
  return { codePoint: `U+${unit.toString(16).toUpperCase().padStart(4, '0')}`, position };
}

/** True when every character of `text` can be stored by every hop. */
export const isStorableText = (text: string): boolean => !UNSTORABLE.test(text);

/** `1st`, `2nd`, `3rd`, `4th`, ... */
export function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

/** A JSON pointer segment (RFC 6901). */
const pointer = (name: string): string => name.replace(/~/g, '~0').replace(/\//g, '~1');

/** True when a key may be repeated in an error: no identifier and nothing unstorable in it. */
export const isSafeKeyName = (key: string): boolean => isStorableText(key) && !containsIdentifier(key);

/** One part of a body to check. */
export interface FreeTextSection {
  /** JSON pointer of the part in the body (`/attributes`). */
  path: string;
  /** A flat map of caller-chosen keys (`keys: true`), a map of fixed keys, or one string. */
  value: unknown;
  /** The map's keys are chosen by the caller: check them too. */
  keys?: boolean;
  /**
   * Maps merged into one downstream (prefill's attributes and consent): their keys are
   * checked for case conflicts together. The same key in two maps is the documented
   * override, not a conflict.
   */
  group?: string;
}

const HOPS = 'SQS, Genesys and the CRM cannot all store';

/** Errors for the strings in `value` (deep), with the path of each. */
function valueErrors(path: string, value: unknown): FieldError[] {
  if (typeof value === 'string') {
    const bad = findUnstorable(value);
    return bad ? [{ path, message: `holds ${bad.codePoint} at character ${bad.position}, a character ${HOPS}` }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => valueErrors(`${path}/${index}`, item));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => valueErrors(`${path}/${isSafeKeyName(key) ? pointer(key) : '?'}`, item));
  }
  return [];
}

/**
 * Every problem with the caller's free text in `sections` (empty when there is none):
 * unstorable characters, identifier-bearing keys, and keys that differ only in case.
 */
export function freeTextErrors(sections: readonly FreeTextSection[]): FieldError[] {
  const errors: FieldError[] = [];
  const seenByGroup = new Map<string, Map<string, { key: string; path: string }>>();
  for (const [sectionIndex, section] of sections.entries()) {
    const { path, value } = section;
    if (value === undefined || value === null) continue;
    if (!section.keys || typeof value !== 'object' || Array.isArray(value)) {
      errors.push(...valueErrors(path, value));
      continue;
    }
    const groupName = section.group ?? `#${sectionIndex}`;
    const seen = seenByGroup.get(groupName) ?? new Map<string, { key: string; path: string }>();
    seenByGroup.set(groupName, seen);
    for (const [index, [key, item]] of Object.entries(value as Record<string, unknown>).entries()) {
      const position = `${path}/${index}`;
      const nth = `the ${ordinal(index + 1)} key`;
      const badKey = findUnstorable(key);
      if (badKey) {
        errors.push({ path: position, message: `${nth} holds ${badKey.codePoint} at character ${badKey.position}, a character ${HOPS} (the key is not repeated here)` });
        continue;
      }
      if (containsIdentifier(key)) {
        errors.push({
          path: position,
          message: `${nth} holds an email address, phone number or SSN; keys must not carry identifiers (the key is not repeated here)`,
        });
        continue;
      }
      const keyPath = `${path}/${pointer(key)}`;
      const folded = key.toLowerCase();
      const earlier = seen.get(folded);
      if (earlier && earlier.key !== key) {
        errors.push({
          path: keyPath,
          message: `conflicts with ${earlier.path}: keys are matched without regard to case, so one of the two values would be lost; send one`,
        });
      } else if (!earlier) {
        seen.set(folded, { key, path: keyPath });
      }
      errors.push(...valueErrors(keyPath, item));
    }
  }
  return errors;
}
