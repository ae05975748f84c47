import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureOutput, lambdaContext } from '#test/support/lambda.ts';
import type { CapturedOutput } from '#test/support/lambda.ts';
import { httpEvent } from '#test/support/factories.ts';

/** Loads the function fresh, as a cold start with the current environment. */
async function coldStart() {
  vi.resetModules();
  const { handler } = await import('#functions/http/health.ts');
  return handler;
}

let output: CapturedOutput;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => {
  output.restore();
  vi.unstubAllEnvs();
});

describe('GET /health', () => {
  it('answers 200 with status ok and the deployed version', async () => {
    // Prepare
    vi.stubEnv('SERVICE_VERSION', '1.4.2');
    const handler = await coldStart();

    // Act
    const result = await handler(httpEvent({ method: 'GET', path: '/health', headers: { 'x-request-id': 'probe-1' } }), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(String(result.body))).toEqual({ status: 'ok', version: '1.4.2' });
    expect(result.headers).toMatchObject({ 'content-type': 'application/json', 'x-request-id': 'probe-1' });
  });

  it('answers 500 service-misconfigured when the shared settings are malformed', async () => {
    // Prepare
    vi.stubEnv('SECRET_CACHE_TTL_SECONDS', 'forever');
    const handler = await coldStart();

    // Act
    const result = await handler(httpEvent({ method: 'GET', path: '/health' }), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(String(result.body))).toMatchObject({ type: 'urn:genesys-guest-sync:problem:service-misconfigured' });
  });
});
