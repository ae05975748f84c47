/**
 * Test doubles for the Genesys client: a token source that counts its use and a `sleep`
 * that records the waits asked for (the Genesys stand-in is test/support/scripted-server.ts).
 */
import { GenesysClient } from '#lib/genesys';
import type { GenesysClientOptions, GenesysTokenSource } from '#lib/genesys/client.ts';

/** A token source that hands out `token-1`, then `token-2` after an invalidate, and so on. */
export interface CountingTokens extends GenesysTokenSource {
  readonly getTokenCalls: number;
  readonly invalidateCalls: number;
}

/** Builds a counting token source. */
export function countingTokens(): CountingTokens {
  let generation = 1;
  let getTokenCalls = 0;
  let invalidateCalls = 0;
  return {
    get getTokenCalls() {
      return getTokenCalls;
    },
    get invalidateCalls() {
      return invalidateCalls;
    },
    async getToken() {
      getTokenCalls += 1;
      return `token-${generation}`;
    },
    invalidate() {
      invalidateCalls += 1;
      generation += 1;
    },
  };
}

/** A `sleep` that returns at once and remembers each wait it was asked for. */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms: number) => {
      delays.push(ms);
    },
  };
}

/** A client against `baseUrl` with recorded sleeps, counted tokens and a fixed jitter. */
export function testClient(baseUrl: string, overrides: Partial<GenesysClientOptions> = {}) {
  const tokens = countingTokens();
  const { sleep, delays } = recordingSleep();
  const client = new GenesysClient({
    apiBaseUrl: baseUrl,
    tokens,
    sleep,
    random: () => 0.5,
    ...overrides,
  });
  return { client, tokens, delays };
}

/** Runs `act` and returns what it threw (fails the test if it did not throw). */
export async function caught<T = unknown>(act: () => Promise<unknown>): Promise<T> {
  try {
    await act();
  } catch (error) {
    return error as T;
  }
  throw new Error('expected the call to fail');
}
