/** `Retry-After` as a wait: delay seconds or an HTTP date, the one parser every client reads the header with. */
import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '#lib/net';

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-03-01T10:00:00.000Z');
  it.each<[string | null, number | undefined]>([
    ['0', 0],
    ['7', 7_000],
    [' 2 ', 2_000],
    ['Sat, 01 Mar 2025 10:00:30 GMT', 30_000],
    ['Sat, 01 Mar 2025 09:00:00 GMT', 0],
    ['soon', undefined],
    ['', undefined],
    [null, undefined],
  ])('%j -> %j', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});
