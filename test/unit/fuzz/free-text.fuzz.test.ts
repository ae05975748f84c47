/**
 * Property-based tests of every route that takes free text (docs/api.md section 2): 300
 * otherwise valid requests each, in process, carrying one thing no hop can carry (a
 * character SQS, Genesys or the CRM cannot store, in a value or a key; a key holding an
 * email, phone number or SSN; two keys equal but for case). Every one is a 400 naming the
 * place, never echoing an identifier-bearing key, with nothing enqueued and nothing sent
 * to Genesys or the CRM.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from 'vitest';
import { lambdaContext } from '#test/support/lambda.ts';
import { MACHINE_CLAIMS, REFUSED_CASES_PER_ROUTE, fuzzRefusals, quietLogs, startHarness, type Harness } from './harness.ts';
import { ROUTES } from './routes.ts';
import { httpEvent } from '#test/support/factories.ts';

const SESSION_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
let guestId = '';
const routes = [
  { route: ROUTES.prefill!, pathId: () => SESSION_ID },
  { route: ROUTES.webhook!, pathId: undefined },
  { route: ROUTES.createGuest!, pathId: undefined },
  { route: ROUTES.updateGuest!, pathId: () => guestId },
  { route: ROUTES.prechat!, pathId: undefined },
];
let harness: Harness;

beforeAll(async () => {
  harness = await startHarness(routes.map(({ route }) => route.file));
  quietLogs(true);
  const created = await harness.handler(ROUTES.createGuest!.file)(
    httpEvent({ method: 'POST', path: '/guests', body: ROUTES.createGuest!.template(), claims: MACHINE_CLAIMS }),
    lambdaContext(),
  );
  guestId = (JSON.parse(created.body ?? '{}') as { id: string }).id;
  quietLogs(false);
});
afterAll(async () => harness.close());
beforeEach(() => quietLogs(true));
afterEach(() => quietLogs(false));

describe.each(routes.map(({ route, pathId }) => [route.name, route, pathId] as const))(
  `%s under ${REFUSED_CASES_PER_ROUTE} requests no hop can carry`,
  (_name, route, pathId) => {
    it('refuses each with a 400 naming the place, enqueues nothing and calls nothing upstream', async () => {
      await fuzzRefusals(harness, route, pathId);
    }, 120_000);
  },
);
