/**
 * The local stack's ports: one list of listeners, each port derived from `PORT` (the HTTP
 * API) by its place in the list unless its own variable is set, and the checks that run
 * before anything starts (every busy port named at once).
 */
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';

/** Every listener of the local stack. Its port is PORT + its index unless `variable` is set. */
export const STACK_LISTENERS = [
  { name: 'port', variable: 'PORT', what: 'HTTP API' },
  { name: 'controlPort', variable: 'LOCAL_CONTROL_PORT', what: 'stack control' },
  { name: 'lambdaPort', variable: 'LOCAL_LAMBDA_PORT', what: 'Lambda invoke endpoint' },
  { name: 'secretsPort', variable: 'LOCAL_SECRETS_PORT', what: 'Secrets Manager' },
  // Not started when CRM_SYNC_QUEUE_URL names another queue.
  { name: 'sqsPort', variable: 'LOCAL_SQS_PORT', what: 'embedded SQS', skippedBy: ['CRM_SYNC_QUEUE_URL'] },
  { name: 'genesysPort', variable: 'LOCAL_GENESYS_PORT', what: 'Genesys sandbox', skippedBy: ['GENESYS_API_BASE_URL', 'GENESYS_LOGIN_BASE_URL'] },
  { name: 'crmPort', variable: 'LOCAL_CRM_PORT', what: 'CRM sandbox', skippedBy: ['CRM_BASE_URL'] },
  { name: 'dynamodbPort', variable: 'LOCAL_DYNAMODB_PORT', what: 'embedded DynamoDB' },
  { name: 'eventBusPort', variable: 'LOCAL_EVENTBRIDGE_PORT', what: 'local event bus' },
] as const satisfies ReadonlyArray<{ name: string; variable: string; what: string; skippedBy?: readonly string[] }>;

/** One listener of the stack. */
export type StackListener = (typeof STACK_LISTENERS)[number];
/** The name of one of the stack's ports (`port`, `controlPort`, ...). */
export type StackPortName = StackListener['name'];
/** A port for every listener of the stack. */
export type StackPorts = Record<StackPortName, number>;

/** The HTTP API port when PORT is not set; the others follow it (3001, 3002, ...). */
export const DEFAULT_BASE_PORT = 3000;

/** A start-up problem the operator can fix; its message says how (no stack trace needed). */
export class StackStartError extends Error {
  override name = 'StackStartError';
}

/** A port a listener could not bind because another process holds it. */
export class PortInUseError extends StackStartError {
  override name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly what: string,
  ) {
    super(`${what}: port ${port} on 127.0.0.1 is already in use`);
  }
}

const isPort = (value: number): boolean => Number.isInteger(value) && value >= 1 && value <= 65_535;

/** Whether a listener starts at all in this environment (a variable may point it elsewhere). */
export const listenerStarts = (listener: StackListener, env: NodeJS.ProcessEnv): boolean =>
  !('skippedBy' in listener) || !listener.skippedBy.some((variable) => Boolean(env[variable]));

/**
 * The port of every listener: the option, else its variable, else PORT + its place in
 * STACK_LISTENERS (PORT itself defaults to 3000). Throws naming every malformed variable
 * and every port two listeners would share.
 */
export function resolveStackPorts(env: NodeJS.ProcessEnv, given: Partial<StackPorts> = {}): StackPorts {
  const problems: string[] = [];
  const fromEnv = (variable: string): number | undefined => {
    const raw = env[variable];
    if (raw === undefined || raw.trim() === '') return undefined;
    const value = Number(raw);
    if (!isPort(value)) {
      problems.push(`${variable}=${raw} is not a port number (1-65535)`);
      return undefined;
    }
    return value;
  };
  const base = given.port ?? fromEnv('PORT') ?? DEFAULT_BASE_PORT;
  const ports = {} as StackPorts;
  STACK_LISTENERS.forEach((listener, index) => {
    ports[listener.name] = given[listener.name] ?? (listener.name === 'port' ? base : (fromEnv(listener.variable) ?? base + index));
    if (!isPort(ports[listener.name])) problems.push(`${listener.what}: ${ports[listener.name]} is not a port number (PORT is too high)`);
  });
  const byPort = new Map<number, string[]>();
  for (const listener of STACK_LISTENERS) {
    if (!listenerStarts(listener, env)) continue;
    byPort.set(ports[listener.name], [...(byPort.get(ports[listener.name]) ?? []), `${listener.what} (${listener.variable})`]);
  }
  for (const [port, users] of byPort) if (users.length > 1) problems.push(`port ${port} is given to ${users.join(' and ')}`);
  if (problems.length > 0) throw new StackStartError(`The local stack's ports are misconfigured:\n  - ${problems.join('\n  - ')}`);
  return ports;
}

/** Where each port comes from, for the README and error messages: `PORT+1` and so on. */
export const portScheme = (): string => STACK_LISTENERS.map((l, i) => `${l.variable} (${l.what}) = ${i === 0 ? 'PORT, default 3000' : `PORT+${i}`}`).join(', ');

/** Whether a loopback port can be bound right now (probed, then released). */
export async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  const bound = await new Promise<boolean>((done) => {
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => done(true));
  });
  if (bound) await new Promise<void>((done) => server.close(() => done()));
  return bound;
}

/** The listeners of `ports` whose port another process holds (checked all at once). */
export async function busyPorts(ports: StackPorts, env: NodeJS.ProcessEnv): Promise<Array<{ port: number; listener: StackListener }>> {
  const checks = STACK_LISTENERS.filter((listener) => listenerStarts(listener, env)).map(async (listener) => ({
    port: ports[listener.name],
    listener,
    free: await portIsFree(ports[listener.name]),
  }));
  return (await Promise.all(checks)).filter((check) => !check.free).map(({ port, listener }) => ({ port, listener }));
}

/** The message for busy ports: every one named, and the one knob that moves them all. */
export function busyPortsMessage(busy: Array<{ port: number; listener: StackListener; heldBy?: string }>, ports: StackPorts): string {
  const lines = busy.map(({ port, listener, heldBy }) => `  - ${port} (${listener.what}, ${listener.variable})${heldBy ? `: ${heldBy}` : ''}`);
  const next = Math.max(...Object.values(ports)) + 1;
  const suggestion = next + STACK_LISTENERS.length <= 65_535 ? Math.ceil(next / 100) * 100 : 20_000;
  return [
    `${busy.length === 1 ? 'A port' : `${busy.length} ports`} the local stack needs ${busy.length === 1 ? 'is' : 'are'} already in use on 127.0.0.1:`,
    ...lines,
    'Stop what holds them (another `npm start`?), or move every port at once:',
    `  PORT=${suggestion} npm start    (the stack then listens on ${suggestion}-${suggestion + STACK_LISTENERS.length - 1})`,
  ].join('\n');
}

/** Listens on 127.0.0.1, rejecting with a PortInUseError (not an unhandled 'error' event) when the port is taken. */
export function listenOnLoopback(server: Server, port: number, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(error.code === 'EADDRINUSE' || error.code === 'EACCES' ? new PortInUseError(port, what) : error);
    };
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Whether something accepts TCP connections at host:port (within `timeoutMs`). */
export function answers(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port });
    const finish = (result: boolean): void => {
      socket.destroy();
      done(result);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** Variables that point the stack at other servers instead of starting its own (README, Configuration). */
const OVERRIDES = ['GENESYS_API_BASE_URL', 'GENESYS_LOGIN_BASE_URL', 'CRM_BASE_URL', 'CRM_SYNC_QUEUE_URL', 'CRM_SYNC_DLQ_URL', 'AWS_ENDPOINT_URL_SQS'] as const;

/** An override variable whose loopback server does not answer. */
export interface DeadOverride {
  variable: string;
  value: string;
  target: string;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]|.+\.localhost)$/;

/**
 * Override variables that point at a loopback server nobody runs: most often left over
 * from an `export` in this shell (the stack would skip its own server, then fail on a
 * refused connection that seems to be about ports).
 */
export async function deadLocalOverrides(env: NodeJS.ProcessEnv): Promise<DeadOverride[]> {
  const checks = OVERRIDES.filter((variable) => env[variable]).map(async (variable: string): Promise<DeadOverride | undefined> => {
    const value = env[variable] as string;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return undefined;
    }
    if (!LOOPBACK.test(url.hostname)) return undefined;
    // Queue URLs name the queue, not the server (http://sqs.<region>.localhost:<port>/...): SQS is reached at the endpoint.
    const endpoint = variable.startsWith('CRM_SYNC_') && env['AWS_ENDPOINT_URL_SQS'] ? new URL(env['AWS_ENDPOINT_URL_SQS']) : url;
    const host = endpoint.hostname.endsWith('.localhost') || endpoint.hostname === 'localhost' ? '127.0.0.1' : endpoint.hostname.replace(/^\[|\]$/g, '');
    const port = Number(endpoint.port || (endpoint.protocol === 'https:' ? 443 : 80));
    return (await answers(host, port)) ? undefined : { variable, value, target: `${host}:${port}` };
  });
  return (await Promise.all(checks)).filter((dead): dead is DeadOverride => dead !== undefined);
}

/** The message for dead overrides: what they do, the likely cause, and the command that fixes it. */
export function deadOverridesMessage(dead: DeadOverride[]): string {
  return [
    'These variables in your environment point the local stack at servers that do not answer,',
    'so it would not start its own (they override the sandboxes and the embedded SQS):',
    ...dead.map(({ variable, value, target }) => `  - ${variable}=${value}   (nothing listens on ${target})`),
    'They are probably left over from an `export` in this shell (the README\'s `osls invoke local`',
    'example used to export them). Clear them and start again:',
    `  unset ${dead.map(({ variable }) => variable).join(' ')}`,
    'or start the servers they name first.',
  ].join('\n');
}
