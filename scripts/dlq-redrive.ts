/**
 * `npm run dlq:redrive -- [--limit N] [--dry-run] [--code <failureCode>] [--queue-url <url> --dlq-url <url>]
 * [--region <r>] [--stage <s>] [--json]` moves CRM sync DLQ messages back to the main queue
 * (send first, delete after: safe to interrupt with Ctrl-C and to run again), with a
 * progress bar on stderr and the final count on stdout. Without URL flags it works on the
 * local stack (.local/stack.json); for a stage in AWS pass both URLs (`--stage <name>`
 * prints how to find them).
 */
import { parseCli, positiveInteger, usageError } from './cli.ts';
import { approximateDepth, redriveDlq } from './dlq/tools.ts';
import { resolveQueues, UsageError } from './dlq/queues.ts';
import { API_URL_OPTION, API_URL_USAGE } from './stack-endpoints.ts';

const cli = {
  name: 'dlq:redrive',
  usage:
    'usage: npm run dlq:redrive -- [--limit <n>] [--dry-run] [--code <failureCode>] [--queue-url <url> --dlq-url <url>] ' +
    `[--region <region>] [--stage <stage>] [--json] ${API_URL_USAGE}`,
  options: {
    limit: { type: 'string' },
    'dry-run': { type: 'boolean' },
    code: { type: 'string' },
    'queue-url': { type: 'string' },
    'dlq-url': { type: 'string' },
    region: { type: 'string' },
    stage: { type: 'string' },
    json: { type: 'boolean' },
    ...API_URL_OPTION,
  },
} as const;
const { values } = parseCli(cli);
const limit = positiveInteger(cli, 'limit', values.limit);

/** `[#########-----------]  45/100` */
const bar = (done: number, total: number): string => {
  const width = 30;
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : width;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`;
};

try {
  const target = await resolveQueues({ dlqUrl: values['dlq-url'], queueUrl: values['queue-url'], region: values.region, stage: values.stage, apiUrl: values['api-url'] });
  if (!target.queueUrl) throw new UsageError('--queue-url is required with --dlq-url (the queue the messages go back to)');

  const dryRun = values['dry-run'] ?? false;
  const depth = await approximateDepth(target.client, target.dlqUrl);
  const total = Math.min(depth, limit ?? depth);
  let stopRequested = false;
  process.on('SIGINT', () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    process.stderr.write('\nStopping after the current group of ten (Ctrl-C again to quit at once; nothing is lost either way)\n');
  });
  const tty = process.stderr.isTTY === true;
  let lastPrinted = -1;
  const progress = (done: number): void => {
    if (tty) process.stderr.write(`\r${dryRun ? 'checking' : 'moving'} ${bar(done, Math.max(total, done))}`);
    else if (done === total || Math.floor((done / Math.max(1, total)) * 10) > lastPrinted) {
      lastPrinted = Math.floor((done / Math.max(1, total)) * 10);
      process.stderr.write(`${dryRun ? 'checked' : 'moved'} ${bar(done, Math.max(total, done))}\n`);
    }
  };
  progress(0);
  const result = await redriveDlq(target.client, {
    queueUrl: target.queueUrl,
    dlqUrl: target.dlqUrl,
    dryRun,
    onProgress: progress,
    stopRequested: () => stopRequested,
    ...(limit === undefined ? {} : { limit }),
    ...(values.code === undefined ? {} : { failureCode: values.code }),
  });
  if (tty) process.stderr.write('\n');
  const left = await approximateDepth(target.client, target.dlqUrl);
  target.client.destroy();
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ dlqUrl: target.dlqUrl, queueUrl: target.queueUrl, dryRun, ...result, leftInDlq: left }, null, 2)}\n`);
  } else if (dryRun) {
    const count = result.wouldMove.reduce((n, g) => n + g.count, 0);
    const lines = [`Dry run: ${count} message(s) would move from ${target.dlqUrl} to ${target.queueUrl} (${target.where}); nothing was moved.`];
    for (const group of result.wouldMove) lines.push(`  ${group.failureCode}: ${group.count} (e.g. job ${group.exampleJobId})`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } else {
    const notes = [
      result.notDeleted > 0 ? `${result.notDeleted} were sent but could not be deleted from the DLQ (they will be processed twice, harmlessly)` : '',
      result.failed > 0 ? `${result.failed} could not be sent and stay in the DLQ` : '',
      result.stopped ? 'stopped on request; run it again to continue' : '',
    ].filter(Boolean);
    process.stdout.write(
      `Moved ${result.moved + result.notDeleted} message(s) from ${target.dlqUrl} to ${target.queueUrl} (${target.where}); ${left} left in the DLQ.` +
        `${notes.length > 0 ? ` ${notes.join('; ')}.` : ''}\n`,
    );
  }
  process.exit(result.failed > 0 ? 1 : 0);
} catch (error) {
  if (error instanceof UsageError) usageError(cli, error.message);
  process.stderr.write(`dlq:redrive failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
