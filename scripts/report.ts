/**
 * `npm run report [-- --hours <1-168>] [--out <folder>]` builds the metrics report from
 * the running local stack (`npm start`): the functions' EMF lines it kept and its
 * embedded SQS. Writes `<out>/<timestamp>.{json,md,html}` (default folder `reports/`),
 * prints the paths, then the Markdown summary.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { localEmfSource, produceReport, reportStamp, reportWindow } from '#lib/report';
import { localSqsClient } from '#local/sqs.ts';
import { parseCli, usageError } from './cli.ts';
import { API_URL_OPTION, API_URL_USAGE, noStackFound, readStackEndpoints } from './stack-endpoints.ts';

const cli = {
  name: 'report',
  usage: `usage: npm run report [-- --hours <1-168>] [--out <folder>] ${API_URL_USAGE}`,
  options: {
    hours: { type: 'string' },
    out: { type: 'string' },
    ...API_URL_OPTION,
  },
} as const;
const { values } = parseCli(cli);

let window;
try {
  window = reportWindow({ hours: values.hours === undefined ? 24 : Number(values.hours) });
} catch (error) {
  usageError(cli, (error as Error).message);
}

const endpoints = await readStackEndpoints(process.cwd(), { apiUrl: values['api-url'] });
if (!endpoints) {
  process.stderr.write(`${noStackFound({ apiUrl: values['api-url'] }).replace(/^no/, 'No')}: start it with \`npm start\`, send a few requests, then run \`npm run report\`.\n`);
  process.exit(1);
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
