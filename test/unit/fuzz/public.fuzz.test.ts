/**
 * Property-based tests of the routes without a machine token (health, webhook, widget):
 * 1,000 adversarial requests each, in process; every answer a documented success or a 4xx
 * problem document, nothing enqueued for a refusal, Object.prototype untouched.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from 'vitest';
import { fuzzRoute, quietLogs, startHarness, type Harness } from './harness.ts';
import { ROUTES } from './routes.ts';

const routes = [ROUTES.health!, ROUTES.webhook!, ROUTES.widget!];
let harness: Harness;

beforeAll(async () => {
  harness = await startHarness(routes.map((route) => route.file));
});
afterAll(async () => harness.close());
beforeEach(() => quietLogs(true));
afterEach(() => quietLogs(false));

describe.each(routes.map((route) => [route.name, route] as const))('%s under 1,000 adversarial requests', (_name, route) => {
  it('answers a documented success or a 4xx problem, enqueues nothing when refusing, pollutes nothing', async () => {
    await fuzzRoute(harness, route);
  }, 120_000);
});
