/**
 * The local stack's ports as a newcomer meets them: one knob (PORT) moves every port,
 * and a start-up that cannot get its ports names every busy one at once, starts nothing
 * and leaves nothing listening.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { portIsFree, PortInUseError, resolveStackPorts, STACK_LISTENERS, StackStartError, type StackPorts } from '#local/ports.ts';
import { startCrmSandbox } from '#local/sandbox/index.ts';
import { startLocalSecretsManager } from '#local/secrets-manager.ts';
import { startEmbeddedSqs } from '#local/sqs.ts';
import { freePort, freeStackPorts, startLocalStack } from '#local/stack.ts';
import { rejectionOf } from '#test/support/rejection.ts';

/** Servers a test holds ports with; closed after each test. */
const held: Server[] = [];
async function occupy(port: number): Promise<void> {
  const server = createServer();
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => done());
  });
  held.push(server);
}
afterEach(async () => {
  await Promise.all(held.splice(0).map((server) => new Promise<void>((done) => server.close(() => done()))));
});

/** An environment with none of the developer's port or override variables. */
const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name === 'PORT' || /^LOCAL_.*_PORT$/.test(name) || /_BASE_URL$|^CRM_SYNC_|^AWS_ENDPOINT_URL/.test(name)) delete env[name];
  return { ...env, ...extra };
};

describe('the port scheme', () => {
  it('uses 3000 to 3008 by default, as the README lists them', () => {
    // Act
    const ports = resolveStackPorts(cleanEnv());

    // Assess
    expect(ports).toEqual({ port: 3000, controlPort: 3001, lambdaPort: 3002, secretsPort: 3003, sqsPort: 3004, genesysPort: 3005, crmPort: 3006, dynamodbPort: 3007, eventBusPort: 3008 });
  });

  it('moves every port with PORT alone, in the order of the listener list', () => {
    // Act
    const ports = resolveStackPorts(cleanEnv({ PORT: '3100' }));

    // Assess
    expect(STACK_LISTENERS.map((listener) => ports[listener.name])).toEqual(STACK_LISTENERS.map((_listener, index) => 3100 + index));
  });

  it('lets an explicit LOCAL_*_PORT win over the derived one', () => {
    // Act
    const ports = resolveStackPorts(cleanEnv({ PORT: '3100', LOCAL_SQS_PORT: '4566' }));

    // Assess
    expect(ports.sqsPort).toBe(4566);
    expect(ports.genesysPort).toBe(3105);
  });

  it('names every malformed port variable instead of falling back silently', () => {
    // Act
    const error = (() => {
      try {
        resolveStackPorts(cleanEnv({ PORT: 'http://127.0.0.1:3000', LOCAL_CRM_PORT: '70000' }));
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('expected a StackStartError');
    })();

    // Assess
    expect(error).toBeInstanceOf(StackStartError);
    expect(error.message).toContain('PORT=http://127.0.0.1:3000 is not a port number');
    expect(error.message).toContain('LOCAL_CRM_PORT=70000 is not a port number');
  });

  it('refuses two listeners on one port, unless one of them is not started', () => {
    // Act / Assess
    expect(() => resolveStackPorts(cleanEnv({ PORT: '3100', LOCAL_CRM_PORT: '3101' }))).toThrow(/port 3101 is given to stack control \(LOCAL_CONTROL_PORT\) and CRM sandbox \(LOCAL_CRM_PORT\)/);
    expect(resolveStackPorts(cleanEnv({ PORT: '3100', LOCAL_CRM_PORT: '3101', CRM_BASE_URL: 'https://crm.example.com' })).crmPort).toBe(3101);
  });

  it('keeps freeStackPorts giving a distinct free port to every listener', async () => {
    // Act
    const ports: StackPorts = await freeStackPorts();

    // Assess
    expect(Object.keys(ports).sort()).toEqual(STACK_LISTENERS.map((listener) => listener.name).sort());
    expect(new Set(Object.values(ports)).size).toBe(STACK_LISTENERS.length);
  });
});

describe('a start-up on busy ports', () => {
  it('names every busy port at once, and leaves nothing listening', async () => {
    // Prepare
    const ports = await freeStackPorts();
    await occupy(ports.port);
    await occupy(ports.secretsPort);
    await occupy(ports.crmPort);

    // Act
    const error = await rejectionOf(startLocalStack({ ...ports, env: cleanEnv(), writeStackFile: false }));

    // Assess
    expect(error).toBeInstanceOf(StackStartError);
    expect(error.message).toContain(`${ports.port} (HTTP API, PORT)`);
    expect(error.message).toContain(`${ports.secretsPort} (Secrets Manager, LOCAL_SECRETS_PORT)`);
    expect(error.message).toContain(`${ports.crmPort} (CRM sandbox, LOCAL_CRM_PORT)`);
    expect(error.message).toMatch(/PORT=\d+ npm start/);
    for (const name of ['controlPort', 'lambdaPort', 'sqsPort', 'genesysPort'] as const) expect(await portIsFree(ports[name])).toBe(true);
  });

  it('starts no serverless-offline when only the control port is busy', async () => {
    // Prepare
    const ports = await freeStackPorts();
    await occupy(ports.controlPort);

    // Act
    const error = await rejectionOf(startLocalStack({ ...ports, env: cleanEnv(), writeStackFile: false }));

    // Assess: the HTTP API and Lambda ports are not held by an orphaned serverless-offline
    expect(error.message).toContain(`${ports.controlPort} (stack control, LOCAL_CONTROL_PORT)`);
    expect(await portIsFree(ports.port)).toBe(true);
    expect(await portIsFree(ports.lambdaPort)).toBe(true);
  });

  it('names the exported override variables that point at servers nobody runs, and how to clear them', async () => {
    // Prepare: what the README's old `export` block leaves behind once its stack is gone
    const [ports, gone] = await Promise.all([freeStackPorts(), freePort()]);
    const env = cleanEnv({
      GENESYS_API_BASE_URL: `http://127.0.0.1:${gone}`,
      GENESYS_LOGIN_BASE_URL: `http://127.0.0.1:${gone}`,
      AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${gone}`,
      CRM_SYNC_QUEUE_URL: `http://sqs.us-east-1.localhost:${gone}/000000000000/genesys-guest-sync-local-crm-sync`,
    });

    // Act
    const error = await rejectionOf(startLocalStack({ ...ports, env, writeStackFile: false }));

    // Assess
    expect(error).toBeInstanceOf(StackStartError);
    expect(error.message).toContain(`GENESYS_API_BASE_URL=http://127.0.0.1:${gone}   (nothing listens on 127.0.0.1:${gone})`);
    expect(error.message).toContain('unset GENESYS_API_BASE_URL GENESYS_LOGIN_BASE_URL CRM_SYNC_QUEUE_URL AWS_ENDPOINT_URL_SQS');
    expect(error.message).not.toMatch(/ECONNREFUSED/);
    for (const port of Object.values(ports)) expect(await portIsFree(port)).toBe(true);
  });
});

describe('a listener whose port is taken after the check', () => {
  it.each([
    ['the local Secrets Manager', 'Secrets Manager', (port: number) => startLocalSecretsManager({}, port)],
    ['the embedded SQS', 'embedded SQS', (port: number) =>
      startEmbeddedSqs({ queueName: 'q', dlqName: 'dlq', visibilityTimeoutSeconds: 30, maxReceiveCount: 5, dlqRetentionSeconds: 60 }, port)],
    ['a sandbox', 'sandbox server', (port: number) => startCrmSandbox({ port, apiToken: 'token' })],
  ])('%s rejects with an error naming the port, instead of crashing the process', async (_name, what, start) => {
    // Prepare
    const port = await freePort();
    await occupy(port);

    // Act
    const error = await rejectionOf(start(port));

    // Assess
    expect(error).toBeInstanceOf(PortInUseError);
    expect(error.message).toBe(`${what}: port ${port} on 127.0.0.1 is already in use`);
  });
});
