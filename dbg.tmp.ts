import { prechatBenchmark } from './bench/prechat.ts';
import { prefillLatencyBenchmark } from './bench/prefill-latency.ts';
const ctx = { projectRoot: process.cwd(), progress: (m: string) => process.stderr.write(`[bench] ${m}\n`) };
await prechatBenchmark.run(ctx);
const { logger } = await import('#lib/lambda');
process.stderr.write(`level before prefill: ${logger.getLevelName()}\n`);
const out = await prefillLatencyBenchmark.run(ctx);
process.stderr.write(out.match(/\(\d+ bytes per request\)/)?.[0] + '\n');
