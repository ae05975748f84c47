/**
 * Credential rotation with its gap (docs/api.md section 7), as a property: N parallel
 * requests across a rotation, started before, inside and after each of its steps, with the
 * secret cache and tokens expiring at any point, and every server answer delivered in an
 * order fast-check picks. No request may fail.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { GenesysTokenProvider, SecretCache } from '#lib/auth';
import { CrmTokenProvider } from '#lib/auth/crm-token.ts';
import { crmRequest } from '#lib/crm';
import { GenesysClient, genesysOperations } from '#lib/genesys';
import { CrmUpstream, GenesysUpstream, RotationWorld } from './rotation-world.ts';

const secretsManager = mockClient(SecretsManagerClient);
const SECRET_ID = 'guest-sync/credentials';
const CACHE_TTL_MS = 300_000;
/** Interleavings per property (each a whole rotation with up to 20 requests); ROTATION_RUNS=3000 for a deeper search. */
const RUNS = { numRuns: Number(process.env.ROTATION_RUNS ?? 200) };

/** Requests started in one phase of the rotation, and what expires before they start. */
const phase = fc.record({
  requests: fc.integer({ min: 0, max: 4 }),
  cacheExpires: fc.boolean(),
  tokensExpire: fc.boolean(),
});

/** A rotation plan: phase 0 before step 1, phase k right after step k (4 steps). */
const plan = fc.record({
  warm: fc.boolean(),
  revokeTokens: fc.boolean(),
  phases: fc.array(phase, { minLength: 5, maxLength: 5 }),
});

type Plan = typeof plan extends fc.Arbitrary<infer T> ? T : never;

/**
 * Plays the rotation: `put pending`, `upstream accepts only the new value`, `AWSCURRENT
 * moves`, `AWSPENDING removed`, each step a scheduled task, requests fired right after
 * their phase's step. Resolves with every request's outcome ('ok' or the error).
 */
async function playRotation(
  s: fc.Scheduler,
  world: RotationWorld,
  p: Plan,
  steps: Array<() => void>,
  request: () => Promise<unknown>,
  expireTokens: () => void,
): Promise<unknown[]> {
  if (p.warm) await s.waitFor(request());
  const outcomes: Array<Promise<unknown>> = [];
  const driver = (async () => {
    for (const [index, { requests, cacheExpires, tokensExpire }] of p.phases.entries()) {
      if (index > 0) {
        await s.schedule(Promise.resolve(), `rotation step ${index}`);
        steps[index - 1]?.();
      }
      if (cacheExpires) world.time += CACHE_TTL_MS + 1;
      if (tokensExpire) expireTokens();
      for (let n = 0; n < requests; n += 1) outcomes.push(request().then(() => 'ok', (error: unknown) => error));
    }
  })();
  return s.waitFor(driver.then(() => Promise.all(outcomes)));
}

const failures = (outcomes: unknown[]): string[] =>
  outcomes.filter((o) => o !== 'ok').map((o) => (o instanceof Error ? `${o.name}: ${o.message}` : String(o)));

describe('a credential rotation with its gap', () => {
  beforeEach(() => {
    secretsManager.reset();
  });

  it('loses no Genesys request, in any interleaving', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), plan, async (s, p) => {
        // Prepare
        secretsManager.reset();
        const world = new RotationWorld(s, { clientId: 'client-1', clientSecret: 'secret-old' });
        world.serveSecretsManager(secretsManager);
        const genesys = new GenesysUpstream(world, 'client-1', 'secret-old');
        const now = (): number => world.time;
        const tokens = new GenesysTokenProvider({
          secrets: new SecretCache({ now, ttlMs: CACHE_TTL_MS }),
          secretId: SECRET_ID,
          loginBaseUrl: 'http://login.test',
          fetch: genesys.fetch,
          now,
        });
        const client = new GenesysClient({ apiBaseUrl: 'http://api.test', tokens, fetch: genesys.fetch, maxAttempts: 1, now });
        const steps = [
          () => world.putPending({ clientId: 'client-1', clientSecret: 'secret-new' }),
          () => genesys.switchTo('secret-new', p.revokeTokens),
          () => world.moveCurrent(),
          () => world.removePending(),
        ];

        // Act
        const outcomes = await playRotation(s, world, p, steps, () => client.call(genesysOperations.getWebDeployment, { params: { deploymentId: 'd-1' } }), () => {
          world.time += 86_400_000;
        });

        // Assess
        expect(failures(outcomes)).toEqual([]);
      }),
      RUNS,
    );
  });

  it('loses no CRM request, in any interleaving', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), plan, async (s, p) => {
        // Prepare
        secretsManager.reset();
        const world = new RotationWorld(s, { apiToken: 'crm-old' });
        world.serveSecretsManager(secretsManager);
        const crm = new CrmUpstream(world, 'crm-old');
        const tokens = new CrmTokenProvider({ secrets: new SecretCache({ now: () => world.time, ttlMs: CACHE_TTL_MS }), secretId: SECRET_ID });
        const steps = [
          () => world.putPending({ apiToken: 'crm-new' }),
          () => {
            crm.acceptedToken = 'crm-new';
          },
          () => world.moveCurrent(),
          () => world.removePending(),
        ];
        const request = async (): Promise<void> => {
          const response = await crmRequest({ baseUrl: 'http://crm.test', method: 'GET', path: '/customers?email=x', timeoutMs: 10_000, tokens, fetch: crm.fetch });
          if (response.status !== 200) throw new Error(`CRM answered ${response.status}`);
        };

        // Act
        const outcomes = await playRotation(s, world, p, steps, request, () => undefined);

        // Assess
        expect(failures(outcomes)).toEqual([]);
      }),
      RUNS,
    );
  });
});
