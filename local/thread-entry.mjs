/**
 * Entry of the local stack's worker threads (local/threads.ts): registers tsx, then imports
 * the TypeScript module `workerData.module` names. A worker thread inherits no module loader
 * from its parent on Node 20 (neither tsx's, under `npm start` and the benchmarks, nor
 * vitest's), so this plain ES module is what Node can start on its own in every case.
 */
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
