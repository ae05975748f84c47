/**
 * `npm run connect-eventbridge -- --aws-account <id> --aws-region <region> --suffix <s>
 * [--name <integration name>] [--org-id <Genesys org id>] [--stage <stage>] [--api-url <url>]`
 * finds or creates the Genesys Cloud `amazon-eventbridge-source` integration, sets its AWS
 * account, region, event source suffix and the conversation topics the suite handles,
 * enables it, and prints what is left to do in the AWS console (docs/api.md section 3). Safe
 * to run again: what is already right is left alone.
 *
 * Stage `local` (the default) talks to the running local stack's Genesys; any other stage
 * to Genesys Cloud, with the credentials found as the other scripts find them
 * (scripts/genesys-target.ts; Secrets Manager in the region of AWS_REGION).
 * Exit codes: 0 done, 1 a failure, 2 bad usage or setup.
 */
import { deadlineAfter } from '#lib/genesys';
import { connectEventBridge, eventBridgeTargetProblem, operatorSteps, type EventBridgeTarget } from '#lib/events';
import { LOCAL_DEFAULTS } from '#local/stack.ts';
import { failure, parseCli, usageError } from './cli.ts';
import { explainFailure, genesysTarget, TargetError, type GenesysTarget } from './genesys-target.ts';
import { API_URL_OPTION, API_URL_USAGE } from './stack-endpoints.ts';

const cli = {
  name: 'connect-eventbridge',
  usage:
    'usage: npm run connect-eventbridge -- --aws-account <12-digit id> --aws-region <region> --suffix <event source suffix> ' +
    `[--name <integration name>] [--org-id <Genesys organization id>] [--stage <stage, default local>] ${API_URL_USAGE}`,
  options: {
    'aws-account': { type: 'string' },
    'aws-region': { type: 'string' },
    suffix: { type: 'string' },
    name: { type: 'string' },
    'org-id': { type: 'string' },
    stage: { type: 'string' },
    ...API_URL_OPTION,
  },
} as const;

const { values } = parseCli(cli);
const str = (name: keyof typeof values): string | undefined => (typeof values[name] === 'string' ? (values[name] as string).trim() : undefined);
const awsAccountId = str('aws-account');
const awsRegion = str('aws-region');
const eventSourceSuffix = str('suffix');
if (!awsAccountId || !awsRegion || !eventSourceSuffix) usageError(cli, '--aws-account, --aws-region and --suffix are required');
const request: EventBridgeTarget = { awsAccountId, awsRegion, eventSourceSuffix, ...(str('name') ? { name: str('name') as string } : {}) };
const problem = eventBridgeTargetProblem(request);
if (problem) usageError(cli, problem);

const stage = str('stage') ?? 'local';
const organizationId = str('org-id') ?? process.env['GENESYS_ORG_ID'] ?? (stage === 'local' ? LOCAL_DEFAULTS['GENESYS_ORG_ID'] : undefined);

let target: GenesysTarget | undefined;
try {
  target = await genesysTarget(stage, process.env['AWS_REGION'], str('api-url'));
  const connection = await connectEventBridge(target.client, request, deadlineAfter(60_000));
  const did = [
    connection.created ? 'created' : 'found',
    connection.configured ? 'configured' : 'configuration unchanged',
    connection.enabled ? 'enabled' : 'already enabled',
  ].join(', ');
  process.stdout.write(`Integration "${connection.name}" (${connection.integrationId}) on ${target.description}: ${did}.\n`);
  if (connection.reportedState) process.stdout.write(`Genesys reports it ${connection.reportedState}.\n`);
  process.stdout.write(`${operatorSteps(request, organizationId).join('\n')}\n`);
} catch (error) {
  if (error instanceof TargetError) usageError(cli, error.message);
  failure(cli, explainFailure(error, target));
} finally {
  target?.close();
}
