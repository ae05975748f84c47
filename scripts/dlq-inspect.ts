/**
 * `npm run dlq:inspect -- [--dlq-url <url>] [--region <r>] [--stage <s>] [--max N] [--json]`
 * lists the CRM sync DLQ grouped by failure code: count and one example job id per code,
 * never message contents. Without flags it reads the local stack (.local/stack.json);
 * for a stage in AWS pass --dlq-url (`--stage <name>` prints how to find it).
 */
import { parseCli, positiveInteger, usageError } from './cli.ts';
import { inspectDlq } from './dlq/tools.ts';
import { resolveQueues, UsageError } from './dlq/queues.ts';
import { API_URL_OPTION, API_URL_USAGE } from './stack-endpoints.ts';

const cli = {
  name: 'dlq:inspect',
  usage: `usage: npm run dlq:inspect -- [--dlq-url <url>] [--region <region>] [--stage <stage>] [--max <n>] [--json] ${API_URL_USAGE}`,
  options: {
    'dlq-url': { type: 'string' },
    'queue-url': { type: 'string' },
    region: { type: 'string' },
    stage: { type: 'string' },
    max: { type: 'string' },
    json: { type: 'boolean' },
    ...API_URL_OPTION,
  },
} as const;
const { values } = parseCli(cli);
const max = positiveInteger(cli, 'max', values.max);

try {
  const target = await resolveQueues({ dlqUrl: values['dlq-url'], queueUrl: values['queue-url'], region: values.region, stage: values.stage, apiUrl: values['api-url'] });
  const result = await inspectDlq(target.client, target.dlqUrl, max === undefined ? {} : { max });
  target.client.destroy();
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ dlqUrl: target.dlqUrl, ...result }, null, 2)}\n`);
  } else {
    const lines = [`DLQ ${target.dlqUrl} (${target.where}): ${result.total} message(s)`];
    if (result.total > 0) {
      const width = Math.max(12, ...result.groups.map((g) => g.failureCode.length));
      lines.push(`${'failure code'.padEnd(width)}  ${'count'.padStart(6)}  example job id`);
      for (const group of result.groups) {
        lines.push(`${group.failureCode.padEnd(width)}  ${String(group.count).padStart(6)}  ${group.exampleJobId}`);
      }
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }
} catch (error) {
  if (error instanceof UsageError) usageError(cli, error.message);
  process.stderr.write(`dlq:inspect failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
