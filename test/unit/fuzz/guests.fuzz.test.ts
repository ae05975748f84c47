/**
 * Property-based tests of the routes addressing one guest (read, update, metrics): 1,000
 * adversarial requests each, in process, with ids that exist in the sandbox, random UUIDs
 * and every malformed id; every answer a documented success or a 4xx problem document,
 * nothing enqueued for a refusal, Object.prototype untouched.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from 'vitest';
import { lambdaContext } from '#test/support/lambda.ts';
import { MACHINE_CLAIMS, fuzzRoute, quietLogs, startHarness, type Harness } from './harness.ts';
import { ROUTES, knownGuests } from './routes.ts';
import { httpEvent } from '#test/support/factories.ts';

const routes = [ROUTES.getGuest!, ROUTES.updateGuest!, ROUTES.guestMetrics!];
let harness: Harness;

beforeAll(async () => {
  harness = await startHarness([...routes.map((route) => route.file), ROUTES.createGuest!.file]);
  quietLogs(true);
  for (let index = 0; index < 3; index += 1) {
    const created = await harness.handler(ROUTES.createGuest!.file)(
      httpEvent({ method: 'POST', path: '/guests', body: ROUTES.createGuest!.template(), claims: MACHINE_CLAIMS }),
      lambdaContext(),
    );
    knownGuests.push((JSON.parse(created.body ?? '{}') as { id: string }).id);
  }
  quietLogs(false);
});
afterAll(async () => harness.close());
beforeEach(() => quietLogs(true));
afterEach(() => quietLogs(false));

describe.each(routes.map((route) => [route.name, route] as const))('%s under 1,000 adversarial requests', (_name, route) => {
  it('answers a documented success or a 4xx problem, enqueues nothing when refusing, pollutes nothing', async () => {
    await fuzzRoute(harness, route);
  }, 120_000);
});
