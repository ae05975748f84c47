/**
 * `npm run report [-- --hours <1-168>] [--out <folder>]` builds the metrics report from
 * the running local stack (`npm start`): the functions' EMF lines it kept and its
 * embedded SQS. Writes `<out>/<timestamp>.{json,md,html}` (default folder `reports/`),
 * prints the paths, then the Markdown summary.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { localEmfSource, produceReport, reportStamp, reportWindow } from '../lib/metrics/report/index.ts';
import { localSqsClient } from '../local/sqs.ts';
import { readStackEndpoints } from './stack-endpoints.ts';

const { values } = parseArgs({
  options: {
    hours: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
const usage = 'usage: npm run report [-- --hours <1-168>] [--out <folder>]';
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

const endpoints = await readStackEndpoints();
if (!endpoints) {
  process.stderr.write('No local stack found (.local/stack.json): start it with `npm start`, send a few requests, then run `npm run report`.\n');
  process.exit(1);
}
let window;
try {
  window = reportWindow({ hours: values.hours === undefined ? 24 : Number(values.hours) });
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n${usage}\n`);
  process.exit(2);
}

const sqs = localSqsClient(endpoints.sqsEndpoint);
try {
  const output = await produceReport({
    source: localEmfSource({
      // Stacks started before the metrics file existed in stack.json used the default path.
      metricsFile: endpoints.metricsFile ?? resolve('.local', 'metrics', 'emf.jsonl'),
      stage: 'local',
      sqs,
      sqsEndpoint: endpoints.sqsEndpoint,
      queueUrl: endpoints.queueUrl,
      ...(endpoints.dlqUrl ? { dlqUrl: endpoints.dlqUrl } : {}),
    }),
    stage: 'local',
    window,
  });
  const folder = resolve(values.out ?? 'reports');
  await mkdir(folder, { recursive: true });
  const base = join(folder, reportStamp(output.report));
  const files = [
    [`${base}.json`, output.json],
    [`${base}.md`, output.markdown],
    [`${base}.html`, output.html],
  ] as const;
  for (const [path, content] of files) await writeFile(path, content);
  process.stdout.write(`${files.map(([path]) => `wrote ${relative(process.cwd(), path)}`).join('\n')}\n\n${output.markdown}`);
} catch (error) {
  process.stderr.write(`The report could not be built: ${error instanceof Error ? error.message : String(error)}\nIs the local stack still running (npm start)?\n`);
  process.exitCode = 1;
} finally {
  sqs.destroy();
}
