/**
 * Every benchmark, in the order `npm run bench` runs them and RESULTS.md shows them
 * (`npx tsx bench/one.ts <name>` runs one on its own).
 */
import type { Benchmark } from './support/types.ts';
import { coldInitBenchmark } from './cold-init.ts';
import { crmProvidersBenchmark } from './crm-providers.ts';
import { crmSyncBenchmark } from './crm-sync.ts';
import { dynamodbTransactionsBenchmark } from './dynamodb-transactions.ts';
import { loadBenchmark } from './load.ts';
import { metricsReportBenchmark } from './metrics-report.ts';
import { outageBenchmark } from './outage.ts';
import { prechatBenchmark } from './prechat.ts';
import { prefillLatencyBenchmark } from './prefill-latency.ts';
import { rotationBenchmark } from './rotation.ts';
import { sqsStallBenchmark } from './sqs-stall.ts';
import { tokenProviderBenchmark } from './token-provider.ts';

export const BENCHMARKS: readonly Benchmark[] = [
  tokenProviderBenchmark,
  rotationBenchmark,
  coldInitBenchmark,
  prechatBenchmark,
  metricsReportBenchmark,
  prefillLatencyBenchmark,
  sqsStallBenchmark,
  crmSyncBenchmark,
  crmProvidersBenchmark,
  dynamodbTransactionsBenchmark,
  outageBenchmark,
  loadBenchmark,
];
