/**
 * `npm run setup-genesys -- [--stage <stage>] [--region <aws region>] [--json] [--api-url <url>]`
 * finds or creates, in the Genesys Cloud organisation, what guests need (docs/api.md sections
 * 2 and 4): the external source their identity hashes live under and the contact schema
 * that holds consent, channel context and attributes (lib/guests/setup.ts). It prints their
 * ids for the stage parameters `guestExternalSourceId` and `guestContactSchemaId`
 * (serverless.yml), i.e. the variables GUEST_EXTERNAL_SOURCE_ID and GUEST_CONTACT_SCHEMA_ID.
 * Safe to re-run: both are found by name, so a second run creates nothing and prints the
 * same ids.
 *
 * Stage `local` (the default) uses the running local stack, whose sandbox already holds the
 * set-up; any other stage uses Genesys Cloud (see scripts/genesys-target.ts for hosts and
 * credentials). The OAuth client needs the permissions `externalContacts:customFields:add`
 * and `:view` and `externalContacts:externalSource:add` and `:view`.
 * Exit codes: 0 done, 1 a failure, 2 bad usage or setup.
 */
import { deadlineAfter } from '#lib/genesys';
import { ensureGuestSetup } from '#lib/guests';
import { parseCli, usageError } from './cli.ts';
import { explainFailure, genesysTarget, TargetError, type GenesysTarget } from './genesys-target.ts';
import { API_URL_OPTION, API_URL_USAGE } from './stack-endpoints.ts';

const cli = {
  name: 'setup-genesys',
  usage: `usage: npm run setup-genesys -- [--stage <stage, default local>] [--region <aws region>] [--json] ${API_URL_USAGE}`,
  options: {
    stage: { type: 'string' },
    region: { type: 'string' },
    json: { type: 'boolean' },
    ...API_URL_OPTION,
  },
} as const;

const { values } = parseCli(cli);
const str = (name: keyof typeof values): string | undefined => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
const stage = str('stage') ?? 'local';
if (stage.trim() === '') usageError(cli, '--stage must not be empty.');

let target: GenesysTarget | undefined;
try {
  target = await genesysTarget(stage, str('region'), str('api-url'));
  const setup = await ensureGuestSetup(target.client, { deadline: deadlineAfter(60_000) });
  if (values['json']) {
    process.stdout.write(`${JSON.stringify(setup, null, 2)}\n`);
  } else {
    const made = setup.created.length === 0 ? 'both already existed' : `created: ${setup.created.join(', ')}`;
    process.stderr.write(`Guest set-up in ${target.description} (${made}).\n`);
    process.stdout.write(
      [
        'Stage parameters (serverless.yml params.<stage>):',
        `  guestExternalSourceId: ${setup.externalSourceId}`,
        `  guestContactSchemaId: ${setup.contactSchemaId}`,
        '',
      ].join('\n'),
    );
  }
} catch (error) {
  process.stderr.write(`setup-genesys: ${explainFailure(error, target)}\n`);
  process.exitCode = error instanceof TargetError ? 2 : 1;
} finally {
  target?.close();
}
