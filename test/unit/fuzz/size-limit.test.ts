/**
 * "Requests over the API's size limit are refused before parsing", route by route: a body
 * one byte over the route's limit that is not JSON answers 413 (a parser would have said
 * 400 or 415), as does the same body base64-encoded by API Gateway (the decoded size counts)
 * and a 300 KiB body; nothing is enqueued.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaContext } from '#test/support/lambda.ts';
import { expectDocumentedAnswer, eventFor, quietLogs, startHarness, type FuzzRoute, type Harness } from './harness.ts';
import { ROUTES } from './routes.ts';

const KiB = 1024;
/** Each route's body limit as its function declares it (`maxBodyBytes`, 256 KiB by default). */
const LIMITS: Array<[FuzzRoute, number]> = [
  [ROUTES.health!, 256 * KiB],
  [ROUTES.prefill!, 256 * KiB],
  [ROUTES.webhook!, 64 * KiB],
  [ROUTES.createGuest!, 32 * KiB],
  [ROUTES.getGuest!, 256 * KiB],
  [ROUTES.updateGuest!, 32 * KiB],
  [ROUTES.guestMetrics!, 256 * KiB],
  [ROUTES.prechat!, 16 * KiB],
  [ROUTES.widget!, 256 * KiB],
];
const GUEST_ID = '3f2b6c1e-9a7d-4e1b-8c2a-1d2e3f4a5b6c';
let harness: Harness;

beforeAll(async () => {
  harness = await startHarness(LIMITS.map(([route]) => route.file));
});
afterAll(async () => harness.close());
beforeEach(() => quietLogs(true));
afterEach(() => quietLogs(false));

/** Sends `text` (not JSON) to the route, plain or base64-encoded. */
const send = (route: FuzzRoute, text: string, base64 = false) =>
  harness.handler(route.file)(
    eventFor(
      route,
      {
        body: base64 ? Buffer.from(text).toString('base64') : text,
        isBase64Encoded: base64,
        headers: { 'content-type': 'application/json', 'if-match': '"1"' },
        pathId: GUEST_ID,
      },
      false,
    ),
    lambdaContext(),
  );

describe.each(LIMITS.map(([route, limit]) => [route.name, route, limit] as const))('%s (limit %i bytes)', (_name, route, limit) => {
  describe.each([
    ['one byte over the limit', limit + 1, false],
    ['one byte over the limit, base64-encoded by API Gateway', limit + 1, true],
    ['300 KiB', 300 * KiB, false],
    ['one byte over the limit in two-byte characters', limit + 1, false],
  ])('a non-JSON body %s', (label, bytes, base64) => {
    it('is refused with a 413 problem before any parsing, and nothing is enqueued', async () => {
      // Prepare
      const text = label.includes('two-byte') ? `${'é'.repeat(Math.floor(bytes / 2))}${'<'.repeat(bytes % 2)}` : '<'.repeat(bytes);
      const sentBefore = harness.sent();

      // Act
      const answer = await send(route, text, base64);

      // Assess
      expect(Buffer.byteLength(text)).toBeGreaterThan(limit);
      expect(answer.statusCode).toBe(413);
      expectDocumentedAnswer(route, answer);
      expect(JSON.parse(answer.body ?? '{}')).toMatchObject({ type: expect.stringContaining('payload-too-large') });
      expect(harness.sent()).toBe(sentBefore);
    });
  });

  it('lets a non-JSON body of exactly the limit through the guard (the parser, if any, refuses it)', async () => {
    // Prepare
    const sentBefore = harness.sent();

    // Act
    const answer = await send(route, '<'.repeat(limit));

    // Assess
    expect(answer.statusCode).not.toBe(413);
    expectDocumentedAnswer(route, answer);
    expect(harness.sent()).toBe(sentBefore);
  });
});
