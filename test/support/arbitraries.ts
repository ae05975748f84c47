/**
 * fast-check arbitraries for adversarial HTTP requests: bodies (wrong types, deep nesting,
 * huge strings, invalid UTF-8, prototype-pollution keys), path parameters (non-UUID ids,
 * encoded slashes, dot segments) and headers (duplicates joined with commas as API Gateway
 * joins them, oversized values, wrong or missing content type). Shared by the in-process
 * fuzz tests and the HTTP sample in test/integration/bad-input.test.ts.
 */
import fc from 'fast-check';

/** One request body as API Gateway hands it over. */
export interface FuzzBody {
  body?: string;
  isBase64Encoded: boolean;
}

/** One adversarial request: body, headers and the path parameter values. */
export interface FuzzRequest extends FuzzBody {
  headers: Record<string, string | undefined>;
  /** The id placed in the route's path parameter (ignored by routes without one). */
  pathId: string | undefined;
}

/** The seeds the property runs use, so any failure reproduces (fast-check prints seed and path). */
export const FUZZ_SEED = 0x5eed_0007;

/** Keys that pollute `Object.prototype` when a parser or merge copies them naively. */
export const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** A marker a pollution payload tries to plant on every object. */
export const POLLUTION_MARKER = 'fuzzPolluted';

const pollutionPayloads: string[] = [
  `{"__proto__":{"${POLLUTION_MARKER}":true}}`,
  `{"constructor":{"prototype":{"${POLLUTION_MARKER}":true}}}`,
  `{"prototype":{"${POLLUTION_MARKER}":true}}`,
  `{"__proto__":{"__proto__":{"${POLLUTION_MARKER}":true}}}`,
  `{"a":{"__proto__":{"${POLLUTION_MARKER}":true}},"__proto__":[1,2]}`,
  `{"__proto__":null}`,
  `{"constructor":"x","__proto__":"x","prototype":1}`,
];

/** A JSON text that tries to pollute `Object.prototype`, alone or nested into `outer`. */
const pollutionText = fc.constantFrom(...pollutionPayloads);

/** Nested arrays or objects `depth` levels deep (the stack of a naive recursive walker). */
const deepText = fc
  .tuple(fc.constantFrom('array', 'object', 'mixed'), fc.integer({ min: 50, max: 12_000 }))
  .map(([kind, depth]) => {
    if (kind === 'array') return `${'['.repeat(depth)}${']'.repeat(depth)}`;
    if (kind === 'object') return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    return `${'{"a":['.repeat(depth)}1${']}'.repeat(depth)}`;
  });

/** A long run of one character, up to ~300 KiB of UTF-8 (beyond every route's limit). */
const hugeString = fc
  .tuple(fc.constantFrom('a', 'é', '😀', '\\u0000', ' ', '"', '\\\\'), fc.integer({ min: 1_000, max: 100_000 }))
  .map(([unit, count]) => unit.repeat(count));

/** Any JSON value, including the wrong types for every field. */
const anyJson = fc.jsonValue({ maxDepth: 4 });

/** Any JSON value as text, with the odd number forms JSON allows. */
const anyJsonText = fc.oneof(
  anyJson.map((value) => JSON.stringify(value) ?? 'null'),
  fc.constantFrom('1e999', '-0', '0.0000000000000000000001', '123456789012345678901234567890', 'true', 'null', '""', '[]', '{}'),
);

/** Bytes that are not valid UTF-8 (lone continuation bytes, overlongs, surrogates, truncations). */
const invalidUtf8 = fc.constantFrom(
  Buffer.from([0xff]),
  Buffer.from([0xc0, 0xaf]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xe2, 0x82]),
  Buffer.from([0x80, 0x80]),
  Buffer.from([0xf4, 0x90, 0x80, 0x80]),
);

/**
 * A body built from a route's valid `template`: fields replaced by wrong types, by
 * pollution objects, by deep nesting or huge strings, or extra unknown keys added.
 */
function mutatedTemplate(template: Record<string, unknown>): fc.Arbitrary<string> {
  const keys = Object.keys(template);
  const valueText = fc.oneof(
    { weight: 4, arbitrary: anyJsonText },
    { weight: 2, arbitrary: pollutionText },
    { weight: 1, arbitrary: deepText },
    { weight: 1, arbitrary: hugeString.map((text) => JSON.stringify(text)) },
  );
  const field = fc.oneof(fc.constantFrom(...keys, ...POLLUTION_KEYS), fc.string({ maxLength: 12 }));
  // Written as text: an object literal would swallow `__proto__` as a prototype setter.
  const objectText = (entries: Map<string, string>): string =>
    `{${[...entries].map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;
  const topLevel = fc
    .tuple(fc.array(fc.tuple(field, valueText), { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([replacements, keepTemplate]) => {
      const entries = new Map<string, string>();
      if (keepTemplate) for (const key of keys) entries.set(key, JSON.stringify(template[key]));
      for (const [key, value] of replacements) entries.set(key, value);
      return objectText(entries);
    });
  // One level down (attributes, consent, surveyAnswers...): where masking, coercion and merges recurse.
  const nestedKeys = keys.filter((key) => typeof template[key] === 'object' && template[key] !== null && !Array.isArray(template[key]));
  if (nestedKeys.length === 0) return topLevel;
  const nested = fc
    .tuple(fc.constantFrom(...nestedKeys), fc.array(fc.tuple(fc.oneof(fc.constantFrom(...POLLUTION_KEYS), fc.string({ maxLength: 12 })), valueText), { minLength: 1, maxLength: 3 }))
    .map(([outer, replacements]) => {
      const inner = new Map<string, string>(Object.entries(template[outer] as Record<string, unknown>).map(([key, value]) => [key, JSON.stringify(value)]));
      for (const [key, value] of replacements) inner.set(key, value);
      const entries = new Map<string, string>(keys.map((key) => [key, JSON.stringify(template[key])]));
      entries.set(outer, objectText(inner));
      return objectText(entries);
    });
  return fc.oneof(topLevel, nested);
}

/** Text that is not JSON at all, or almost JSON. */
const notJson = fc.oneof(
  fc.string({ maxLength: 64 }),
  fc.constantFrom('{', '{"a":', '[1,2', '{"a":1,}', "{'a':1}", 'NaN', 'undefined', '\u0000', '\ufeff{}', '<xml/>', 'a=1&b=2', '{"a":1}{"b":2}', ' '),
);

/** A body for a route whose valid body looks like `template` (absent for no body). */
export function fuzzBody(template: Record<string, unknown>): fc.Arbitrary<FuzzBody> {
  const text = fc.oneof(
    { weight: 6, arbitrary: mutatedTemplate(template) },
    { weight: 2, arbitrary: anyJsonText },
    { weight: 2, arbitrary: notJson },
    { weight: 2, arbitrary: pollutionText },
    { weight: 1, arbitrary: deepText },
    { weight: 1, arbitrary: fc.constant(JSON.stringify(template)) },
  );
  const plain = text.map((body): FuzzBody => ({ body, isBase64Encoded: false }));
  const base64 = text.map((body): FuzzBody => ({ body: Buffer.from(body).toString('base64'), isBase64Encoded: true }));
  const broken = fc
    .tuple(mutatedTemplate(template), invalidUtf8, fc.nat())
    .map(([body, bytes, at]): FuzzBody => {
      const utf8 = Buffer.from(body);
      const cut = at % (utf8.length + 1);
      return { body: Buffer.concat([utf8.subarray(0, cut), bytes, utf8.subarray(cut)]).toString('base64'), isBase64Encoded: true };
    });
  const randomBytes = fc.uint8Array({ maxLength: 256 }).map((bytes): FuzzBody => ({ body: Buffer.from(bytes).toString('base64'), isBase64Encoded: true }));
  const notBase64 = fc.constantFrom<FuzzBody>({ body: '!!!not base64***', isBase64Encoded: true }, { body: '', isBase64Encoded: true });
  return fc.oneof(
    { weight: 10, arbitrary: plain },
    { weight: 2, arbitrary: base64 },
    { weight: 2, arbitrary: broken },
    { weight: 1, arbitrary: randomBytes },
    { weight: 1, arbitrary: notBase64 },
    { weight: 1, arbitrary: fc.constant<FuzzBody>({ isBase64Encoded: false }) },
  );
}

/** Path parameter values: a valid id sometimes, else every way an id can be wrong. */
export function fuzzPathId(valid: fc.Arbitrary<string>): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 3, arbitrary: valid },
    { weight: 2, arbitrary: fc.uuid().map((id) => id.toUpperCase()) },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        '',
        '.',
        '..',
        '../..',
        '..%2F..%2Fetc%2Fpasswd',
        '%2e%2e',
        'a/b',
        '%2F',
        '3f2b6c1e-9a7d-4e1b-8c2a-1d2e3f4a5b6c%2F..',
        '3f2b6c1e-9a7d-4e1b-8c2a-1d2e3f4a5b6c/../x',
        '3f2b6c1e-9a7d-4e1b-8c2a-1d2e3f4a5b6c\n',
        '3f2b6c1e-9a7d-4e1b-8c2a-1d2e3f4a5b6',
        '3f2b6c1e9a7d4e1b8c2a1d2e3f4a5b6c',
        '{3f2b6c1e-9a7d-4e1b-8c2a-1d2e3f4a5b6c}',
        '00000000-0000-0000-0000-000000000000',
        '__proto__',
        'constructor',
        '%00',
        '\u0000',
        'ⓐⓑⓒ',
        '?a=1',
        '#frag',
      ),
    },
    { weight: 2, arbitrary: fc.string({ maxLength: 80 }) },
    { weight: 1, arbitrary: fc.integer({ min: 200, max: 8_000 }).map((n) => 'a'.repeat(n)) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/** A header value as API Gateway would forward it: repeated headers arrive joined with commas. */
const joined = (values: fc.Arbitrary<string>) =>
  fc.array(values, { minLength: 2, maxLength: 4 }).map((parts) => parts.join(','));

const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/problem+json',
  'application/json; charset=latin1',
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '',
  '*/*',
  'application/jsonx',
);

/** Oversized or odd values: API Gateway accepts header values up to 10 KiB. */
const oddValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer({ min: 1_000, max: 10_000 }).map((n) => 'x'.repeat(n)),
  fc.constantFrom('', ' ', '\t', '""', '*', 'W/"1"', '"1", "2"', 'sha256=', 'sha256=,sha256=AAAA', 'Bearer a,Bearer b'),
);

/**
 * Header overrides: content type wrong, missing or repeated; the route's own headers
 * (`If-Match`, the signature, `x-request-id`) repeated, oversized or odd; noise headers.
 */
export function fuzzHeaders(routeHeaders: readonly string[] = []): fc.Arbitrary<Record<string, string | undefined>> {
  const names = ['x-request-id', 'if-match', 'x-hub-signature-256', 'accept', 'content-length', 'x-forwarded-for', ...routeHeaders];
  const contentType = fc.oneof(
    { weight: 10, arbitrary: fc.constant('application/json') },
    { weight: 3, arbitrary: contentTypes },
    { weight: 1, arbitrary: joined(contentTypes) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  const extra = fc.dictionary(
    fc.oneof(fc.constantFrom(...names), fc.constantFrom('X-Request-Id', 'Content-Type', 'IF-MATCH', 'x-fuzz'), fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/)),
    fc.oneof(oddValue, joined(oddValue)),
    { maxKeys: 4, noNullPrototype: true },
  );
  return fc.tuple(contentType, extra).map(([type, others]) => ({ 'content-type': type, ...others }));
}

/** A whole adversarial request for a route with a body like `template`. */
export function fuzzRequest(options: {
  template: Record<string, unknown>;
  validId?: fc.Arbitrary<string>;
  routeHeaders?: readonly string[];
}): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(fuzzBody(options.template), fuzzHeaders(options.routeHeaders), fuzzPathId(options.validId ?? fc.uuid()))
    .map(([body, headers, pathId]) => ({ ...body, headers, pathId }));
}

/**
 * Code points no hop can store (SQS's message-body set, the CRMs' XML 1.0 set): C0
 * controls but tab, LF and CR; DEL and the C1 controls; lone surrogates; U+FFFE / U+FFFF.
 */
export const refusedCodePoint = fc.oneof(
  fc.integer({ min: 0, max: 0x1f }).filter((cp) => cp !== 0x9 && cp !== 0xa && cp !== 0xd),
  fc.integer({ min: 0x7f, max: 0x9f }),
  fc.integer({ min: 0xd800, max: 0xdfff }),
  fc.constantFrom(0xfffe, 0xffff),
);

/** Text holding at least one character no hop can store, anywhere in it. */
export const refusedText = fc
  .tuple(fc.string({ maxLength: 16 }), refusedCodePoint, fc.string({ maxLength: 16 }))
  .map(([before, cp, after]) => `${before}${String.fromCharCode(cp)}${after}`);

const digitsOf = (count: number) => fc.array(fc.integer({ min: 0, max: 9 }).map(String), { minLength: count, maxLength: count }).map((d) => d.join(''));
const keyPrefix = fc.stringMatching(/^[A-Za-z][A-Za-z_]{0,8}$/);
const keySep = fc.constantFrom('', '.', '-', '_');
const numberSep = fc.constantFrom('', '.', '-');

/**
 * Keys that hold an identifier. Most match the prefill key pattern
 * (`^[A-Za-z][A-Za-z0-9_.-]{0,63}$`), so only the identifier check can refuse them:
 * `tel.555.123.4567`, `x_447911123456`, `ssn-123-45-6789`; some are email addresses,
 * which the key pattern refuses first where there is one.
 */
export const identifierKey = fc.oneof(
  fc
    .tuple(keyPrefix, keySep, fc.integer({ min: 2, max: 9 }), digitsOf(2), numberSep, digitsOf(3), digitsOf(4))
    .map(([prefix, sep, a, b, s, exchange, line]) => `${prefix}${sep}${a}${b}${s}${exchange}${s}${line}`),
  // An international number without its +: a country code and a national number of that country's length.
  fc
    .tuple(keyPrefix, keySep, fc.constantFrom(['44', 10], ['33', 9], ['49', 11], ['61', 9]), fc.integer({ min: 1, max: 9 }), digitsOf(10))
    .map(([prefix, sep, [cc, length], first, rest]) => `${prefix}${sep}${cc}${first}${rest.slice(0, (length as number) - 1)}`),
  fc.tuple(keyPrefix, keySep, digitsOf(3), fc.constantFrom('-', '.'), digitsOf(2), digitsOf(4)).map(([prefix, sep, a, s, b, c]) => `${prefix}${sep}${a}${s}${b}${s}${c}`),
  fc.tuple(fc.stringMatching(/^[a-z][a-z.]{0,8}[a-z]$/), fc.constantFrom('example.com', 'bücher.de', 'localhost')).map(([local, domain]) => `${local}@${domain}`),
);

/** Where a route takes free text: a map of caller-chosen keys, or one string value. */
export interface FreeTextTarget {
  /** Property names from the body's root to the map or the value. */
  path: readonly string[];
  /** True for a map whose keys the caller chooses (then keys are fuzzed too). */
  keys: boolean;
}

/** A body every hop would refuse to carry, and what makes it so. */
export interface RefusedBody {
  body: string;
  /** `value`: an unstorable character in a value; `key-char` / `key-identifier`: in a key; `key-case`: two keys equal but for case. */
  kind: 'value' | 'key-char' | 'key-identifier' | 'key-case';
  /** JSON pointer of the target the offence was placed in (`/attributes`). */
  at: string;
  /** The offending key, when it must never be echoed. */
  secretKey?: string;
}

const clone = (value: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(value)) as Record<string, unknown>;

/** The map at `path` in `root`, created on the way where missing. */
function mapAt(root: Record<string, unknown>, path: readonly string[]): Record<string, unknown> {
  let node = root;
  for (const name of path) {
    const next = node[name];
    node = next !== null && typeof next === 'object' && !Array.isArray(next) ? (next as Record<string, unknown>) : (node[name] = {});
  }
  return node;
}

/**
 * A valid `template` with one thing no hop can carry placed in one of `targets`: a value
 * with a refused character, or (in maps of caller-chosen keys) a key with a refused
 * character, a key holding an identifier, or a second key equal to another but for case.
 * Serialised with `JSON.stringify`, which escapes controls and lone surrogates
 * (`\u0000`, `\ud800`) and writes C1 controls and U+FFFE / U+FFFF raw, as clients do.
 */
export function refusedBody(template: () => Record<string, unknown>, targets: readonly FreeTextTarget[]): fc.Arbitrary<RefusedBody> {
  return fc
    .tuple(
      fc.constantFrom(...targets),
      fc.constantFrom<RefusedBody['kind']>('value', 'key-char', 'key-identifier', 'key-case'),
      refusedText,
      identifierKey,
      fc.nat(),
    )
    .map(([target, wanted, text, idKey, pick]) => {
      const body = clone(template());
      const kind = target.keys ? wanted : 'value';
      const at = `/${target.path.join('/')}`;
      if (!target.keys) {
        mapAt(body, target.path.slice(0, -1))[target.path[target.path.length - 1] as string] = text;
        return { body: JSON.stringify(body), kind, at };
      }
      const map = mapAt(body, target.path);
      const keys = Object.keys(map);
      if (kind === 'value') {
        const key = keys.length > 0 && pick % 2 === 0 ? (keys[pick % keys.length] as string) : 'fuzz_note';
        map[key] = text;
        return { body: JSON.stringify(body), kind, at };
      }
      if (kind === 'key-char') {
        map[`k${text}`] = 'x';
        return { body: JSON.stringify(body), kind, at };
      }
      if (kind === 'key-identifier') {
        map[idKey] = 'x';
        return { body: JSON.stringify(body), kind, at, secretKey: idKey };
      }
      const base = keys.find((key) => /[a-z]/.test(key)) ?? 'fuzz_tier';
      if (!(base in map)) map[base] = 'gold';
      map[base.toUpperCase()] = 'other';
      return { body: JSON.stringify(body), kind, at };
    });
}
