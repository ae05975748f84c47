/**
 * Boots one local stack for the integration tests (random loopback ports, a short
 * visibility timeout so redelivery is observable) and stops it afterwards.
 */
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

import { rm } from 'node:fs/promises';
import type { TestProject } from 'vitest/node';
import { invokeLocalFunction } from '#local/lambda-invoke.ts';
import { freeStackPorts, startLocalStack, type LocalStack, type StackEndpoints } from '#local/stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackEndpoints;
    /** The file the stack's serverless-offline output (every function log line) goes to. */
    offlineLog: string;
  }
}

let stack: LocalStack | undefined;
const OFFLINE_LOG = '.local/integration-offline.log';

/** The test stack trusts an Active web deployment this long (5 minutes when deployed). */
export const TEST_DEPLOYMENT_CACHE_SECONDS = 3;

/** Removes a file left by an earlier run; returns its path. */
async function freshFile(path: string): Promise<string> {
  await rm(path, { force: true });
  return path;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const ports = await freeStackPorts();
  const { port } = ports;
  stack = await startLocalStack({
    ...ports,
    visibilityTimeoutSeconds: 2,
    offlineOutput: OFFLINE_LOG,
    // Each run starts with an empty metrics file (the report tests count what they send).
    metricsFile: await freshFile(`.local/integration-metrics/emf-${port}.jsonl`),
    writeStackFile: false,
    env: {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // Short enough that no test file inherits another's cached deployment answer.
      WEB_DEPLOYMENT_CACHE_SECONDS: String(TEST_DEPLOYMENT_CACHE_SECONDS),
      // The CRM sync pause probes every 2 s, and its control function runs every second
      // (1 minute when deployed), so a CRM outage and its recovery fit in a test.
      CRM_SYNC_PROBE_INTERVAL_SECONDS: '2',
      LOCAL_SCHEDULE_INTERVALS: 'crmSyncControl=1',
    },
  });
  // Warm the worker: a cold first batch can outlast the test stack's short visibility
  // timeout and be received twice, which the tests would then have to allow for.
  for (const source of stack.spec.sqsEventSources) {
    await invokeLocalFunction(stack.endpoints.lambdaEndpoint, source.functionName, { Records: [] });
  }
  project.provide('stack', stack.endpoints);
  project.provide('offlineLog', OFFLINE_LOG);
  return async () => {
    await stack?.stop();
  };
}
