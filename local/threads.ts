/**
 * Servers of the local stack that run on worker threads of their own (node:worker_threads),
 * so the emulators (embedded DynamoDB, ...) do not share the stack's main thread with the
 * event source, the control endpoint and each other: on the main thread they were the
 * bottleneck of the benchmarks, which then measured the emulators instead of the worker.
 *
 * A thread module (started through local/thread-entry.mjs, so it may be TypeScript) calls
 * `serveFromThread` with a function that starts its server on the port it is given; the
 * parent's `startServerThread` resolves once that server listens, with its port. Closing
 * asks the module to stop its server, then ends the thread. A thread ends with its process,
 * so no emulator outlives the stack, however the stack ends.
 */
import type { EventLoopUtilization } from 'node:perf_hooks';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { PortInUseError } from './ports.ts';

/** What a thread module's server gives back: its port, and how to stop it. */
export interface ThreadServerHandle {
  port: number;
  close(): Promise<void>;
}

/** A server running on its own worker thread. */
export interface ServerThread {
  port: number;
  worker: Worker;
  /** Stops the server, then the thread (resolves once both are gone). */
  close(): Promise<void>;
}

/** Messages between the parent and a server thread. */
type FromThread =
  | { type: 'listening'; port: number }
  | { type: 'failed'; message: string; portInUse: boolean }
  | { type: 'closed' };
type ToThread = { type: 'close' };

/** How long a thread may take to stop its server before it is terminated. */
const CLOSE_GRACE_MS = 5_000;

/** The server threads of this process that are running, by what they serve. */
const running = new Set<{ what: string; worker: Worker }>();

/** How busy each running server thread's event loop has been since `since` (all of its life without), by what it serves. */
export interface ThreadLoad {
  what: string;
  /** Event-loop utilization, 0 to 1 (near 1: the thread is the bottleneck). */
  utilization: number;
  /** The raw figures, to measure from later. */
  elu: EventLoopUtilization;
}

/** How busy every running server thread has been (since an earlier reading of the same thread, when given). */
export function serverThreadLoads(since: readonly ThreadLoad[] = []): ThreadLoad[] {
  return [...running].map(({ what, worker }) => {
    const before = since.find((load) => load.what === what)?.elu;
    const elu = worker.performance.eventLoopUtilization();
    return { what, utilization: before ? worker.performance.eventLoopUtilization(elu, before).utilization : elu.utilization, elu };
  });
}

/**
 * The young generation of each emulator thread. A server thread makes many short-lived
 * objects per request (parsed bodies, items, answers); with V8's default size the embedded
 * DynamoDB thread spent a noticeable share of its time in scavenges. Measured on the
 * Salesforce backlog (bench/crm-providers.ts, 5 interleaved pairs on 2 cores): 1,866
 * records/s on average with the default, 2,023 with 64 MB.
 */
const YOUNG_GENERATION_MB = 64;

/**
 * Starts `module` (a file URL of a thread module) on a new worker thread with `data`
 * (structured-cloned; SharedArrayBuffers are shared), and waits until its server listens
 * on `port` (0: any free one). A port in use rejects with a PortInUseError naming `what`.
 */
export async function startServerThread(module: URL, what: string, port: number, data: Record<string, unknown> = {}): Promise<ServerThread> {
  const worker = new Worker(new URL('./thread-entry.mjs', import.meta.url), {
    workerData: { ...data, module: module.href, port },
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
  });
  let exited = false;
  const entry = { what, worker };
  running.add(entry);
  const exit = new Promise<void>((resolve) => worker.once('exit', () => {
    exited = true;
    running.delete(entry);
    resolve();
  }));
  const listening = await new Promise<number>((resolve, reject) => {
    const onMessage = (message: FromThread): void => {
      if (message.type === 'listening') resolve(message.port);
      else if (message.type === 'failed') reject(message.portInUse ? new PortInUseError(port, what) : new Error(`${what}: ${message.message}`));
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`${what}: its thread exited with code ${code} before listening`)));
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (exited) return;
      const closed = new Promise<void>((resolve) => {
        worker.on('message', (message: FromThread) => {
          if (message.type === 'closed') resolve();
        });
      });
      worker.postMessage({ type: 'close' } satisfies ToThread);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, exit, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)))]);
      clearTimeout(timer);
      await worker.terminate();
      await exit;
    })();
    return closing;
  };
  return { port: listening, worker, close };
}

/** The data the parent passed to this thread (`startServerThread`'s `data`, plus `port`). */
export function threadData<T extends Record<string, unknown>>(): T & { port: number } {
  return workerData as T & { port: number };
}

/**
 * In a thread module: starts the server (`start` gets the port to listen on), tells the
 * parent its port or why it failed, and stops it when the parent asks.
 */
export function serveFromThread(start: (port: number) => Promise<ThreadServerHandle>): void {
  const port = parentPort;
  if (!port) throw new Error('serveFromThread runs only on a worker thread started by startServerThread');
  const send = (message: FromThread): void => port.postMessage(message);
  start(threadData().port).then(
    (server) => {
      port.on('message', (message: ToThread) => {
        if (message.type !== 'close') return;
        server.close().finally(() => {
          send({ type: 'closed' });
          port.close();
        });
      });
      send({ type: 'listening', port: server.port });
    },
    (error: unknown) => {
      send({ type: 'failed', message: error instanceof Error ? error.message : String(error), portInUse: error instanceof PortInUseError });
      port.close();
    },
  );
}
