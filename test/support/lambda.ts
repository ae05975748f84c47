/**
 * The Lambda runtime around a handler under test: a fake context and a capture of
 * everything the shared Powertools logger writes. Events and jobs come from
 * `test/support/factories.ts`.
 */
import { vi } from 'vitest';
import type { Context } from 'aws-lambda';

/** A fake Lambda context with plenty of time left. */
export function lambdaContext(overrides: Partial<Context> = {}): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'genesys-guest-sync-test-fn',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:genesys-guest-sync-test-fn',
    memoryLimitInMB: '512',
    awsRequestId: 'c6af9ac6-7b61-41e6-9a41-93e8deadbeef',
    logGroupName: '/aws/lambda/genesys-guest-sync-test-fn',
    logStreamName: '2025/01/15/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    ...overrides,
  };
}

/** Everything written to stdout and stderr while capturing (the Powertools logger writes there). */
export interface CapturedOutput {
  /** All output as one string. */
  text(): string;
  /** Every output line that is a JSON object (log entries and EMF metrics). */
  entries(): Record<string, unknown>[];
  /** The log entries whose `message` is `message`. */
  logged(message: string): Record<string, unknown>[];
  restore(): void;
}

/**
 * Captures process output. Powertools' Logger writes through a `Console` it builds on
 * `process.stdout` / `process.stderr` at construction, so spying on the streams' `write`
 * sees exactly what would reach CloudWatch, and keeps the test output quiet.
 */
export function captureOutput(): CapturedOutput {
  const chunks: string[] = [];
  const record = (chunk: unknown): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(record as typeof process.stdout.write);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(record as typeof process.stderr.write);
  const entries = (): Record<string, unknown>[] =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line.trim().startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  return {
    text: () => chunks.join(''),
    entries,
    logged: (message) => entries().filter((entry) => entry['message'] === message),
    restore: () => {
      stdout.mockRestore();
      stderr.mockRestore();
    },
  };
}

/** The credentials and region the Lambda runtime gives every function (fakes: requests go to local doubles). */
const RUNTIME_ENV: Record<string, string> = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };

/**
 * A cold start: stubs the runtime's environment and `env` over it (undone by
 * `vi.unstubAllEnvs()`), drops every cached module, loads the function file afresh and
 * returns its handler, so module-scope configuration and clients are built again.
 */
export async function freshHandler<THandler>(load: () => Promise<{ handler: unknown }>, env: Record<string, string>): Promise<THandler> {
  for (const [name, value] of Object.entries({ ...RUNTIME_ENV, ...env })) vi.stubEnv(name, value);
  vi.resetModules();
  return (await load()).handler as THandler;
}
