/**
 * Small pure helpers shared by the sandbox servers: clocks, rate limiting, JSON shape
 * checks and a PII heuristic. None of them does I/O.
 */
import { createHash } from 'node:crypto';

/** A value Genesys accepts as a flat attribute (contact, session or guest attribute). */
export type Scalar = string | number | boolean;

/** Matches any well-formed UUID (any version), the way Genesys ids look. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const ISO_DATE_TIME =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** True for a plain JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True for a value a flat attribute map may hold. */
export function isScalar(value: unknown): value is Scalar {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/** Keys of `attributes` whose value is not a string, finite number or boolean. */
export function nonScalarKeys(attributes: Record<string, unknown>): string[] {
  return Object.entries(attributes)
    .filter(([, value]) => !isScalar(value))
    .map(([key]) => key);
}

/** True for an ISO 8601 date-time with a zone designator that `Date.parse` accepts. */
export function isIsoDateTime(value: unknown): value is string {
  return typeof value === 'string' && ISO_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value));
}

/** JSON with object keys sorted, so two equal documents serialise identically. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (isPlainObject(value)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys(value[key])]),
    );
  }
  return value;
}

/** SHA-256 of a document's canonical JSON: the fingerprint idempotency compares. */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

const PII_PATTERNS: Array<[kind: string, pattern: RegExp]> = [
  ['email', /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/],
  ['phone', /(?:^|[^\w*])(?:\+?\d{1,3}[-. ]?)?\(?\d{3}\)?[-. ]\d{3}[-. ]\d{4}(?!\w)/],
  ['phone', /^\+\d{10,15}$/],
  ['ssn', /(?:^|[^\w*])\d{3}-\d{2}-\d{4}(?!\w)/],
];

/** One place where a string looked like plaintext PII; the value itself is never kept. */
export interface PiiFinding {
  path: string;
  kind: string;
}

/**
 * Walks a JSON document and reports string values that look like a plaintext email,
 * formatted phone number or SSN. A heuristic for tests ("no PII reached the upstream"):
 * it deliberately ignores bare digit runs so hashes, UUIDs and epoch numbers never trip it.
 */
export function findPii(value: unknown, path = '$'): PiiFinding[] {
  if (typeof value === 'string') {
    const hit = PII_PATTERNS.find(([, pattern]) => pattern.test(value));
    return hit ? [{ path, kind: hit[0] }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => findPii(item, `${path}[${index}]`));
  if (isPlainObject(value)) {
    return Object.entries(value).flatMap(([key, item]) => findPii(item, `${path}.${key}`));
  }
  return [];
}

/** A clock the sandboxes read instead of `Date.now()`, so tests can move time. */
export interface SandboxClock {
  /** Milliseconds since the epoch, including any advance. */
  now(): number;
  /** Moves this clock forward (never backward) by `ms`. */
  advance(ms: number): void;
  /** Drops every advance made so far. */
  reset(): void;
}

/** Wraps a time source (default `Date.now`) with an advanceable offset. */
export function createClock(source: () => number = Date.now): SandboxClock {
  let offset = 0;
  return {
    now: () => source() + offset,
    advance: (ms) => {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('advance needs a non-negative number');
      offset += ms;
    },
    reset: () => {
      offset = 0;
    },
  };
}

/** Fixed one-second-window limiter: the simplest model of an upstream's per-second quota. */
export class FixedWindowRateLimiter {
  private window = -1;
  private count = 0;

  constructor(
    private readonly clock: SandboxClock,
    private limit: number | null = null,
  ) {}

  /** The current limit per second, or null for none. */
  get perSecond(): number | null {
    return this.limit;
  }

  /** Replaces the limit (null: unlimited) and starts a fresh window. */
  setLimit(limit: number | null): void {
    this.limit = limit;
    this.window = -1;
    this.count = 0;
  }

  /** Counts one request; false when it is beyond the limit of the current window. */
  tryAcquire(): boolean {
    if (this.limit === null) return true;
    const window = Math.floor(this.clock.now() / 1000);
    if (window !== this.window) {
      this.window = window;
      this.count = 0;
    }
    this.count += 1;
    return this.count <= this.limit;
  }
}
