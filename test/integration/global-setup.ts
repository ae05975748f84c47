/**
 * Boots one local stack for the integration tests (random loopback ports, a short
 * visibility timeout so redelivery is observable) and stops it afterwards.
 */
import type { TestProject } from 'vitest/node';
import { freePort, startLocalStack, type LocalStack, type StackEndpoints } from '../../local/stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackEndpoints;
  }
}

let stack: LocalStack | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const ports: number[] = [];
  while (ports.length < 7) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const [port, lambdaPort, controlPort, sqsPort, secretsPort, genesysPort, crmPort] = ports as [number, number, number, number, number, number, number];
  stack = await startLocalStack({
    port,
    lambdaPort,
    controlPort,
    sqsPort,
    secretsPort,
    genesysPort,
    crmPort,
    visibilityTimeoutSeconds: 2,
    offlineOutput: '.local/integration-offline.log',
    writeStackFile: false,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  project.provide('stack', stack.endpoints);
  return async () => {
    await stack?.stop();
  };
}
