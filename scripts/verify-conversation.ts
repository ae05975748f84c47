/**
 * `npm run verify-conversation -- <conversationId> [--attributes a,b,c] [--json]
 * [--stage <stage>] [--region <aws region>]` reads the conversation from Genesys, finds
 * the guest participant and prints each allowlisted attribute as present or missing.
 *
 * The names are `--attributes`, else GUEST_ATTRIBUTE_ALLOWLIST, else (stage local) the
 * local stack's default allowlist. Stage `local` (the default) asks the running local
 * stack; any other stage asks Genesys Cloud (see scripts/genesys-target.ts).
 * Exit codes: 0 every attribute present, 1 one is missing (or no guest participant, or a
 * failure), 2 bad usage or setup.
 */
import { deadlineAfter, genesysOperations } from '#lib/genesys';
import { verifyConversationAttributes } from '#lib/widget';
import { LOCAL_DEFAULTS } from '#local/stack.ts';
import { parseCli, usageError } from './cli.ts';
import { explainFailure, genesysTarget, TargetError, type GenesysTarget } from './genesys-target.ts';
import { API_URL_OPTION, API_URL_USAGE } from './stack-endpoints.ts';

const cli = {
  name: 'verify-conversation',
  usage:
    'usage: npm run verify-conversation -- <conversationId> [--attributes name1,name2] [--json] ' +
    `[--stage <stage, default local>] [--region <aws region>] ${API_URL_USAGE}`,
  options: {
    attributes: { type: 'string' },
    json: { type: 'boolean' },
    stage: { type: 'string' },
    region: { type: 'string' },
    ...API_URL_OPTION,
  },
  positionals: true,
} as const;

/** Exits with a message on stderr: 2 (with the usage) for bad usage, 1 for a failure. */
function fail(message: string, code: 1 | 2 = 1): never {
  if (code === 2) usageError(cli, message);
  process.stderr.write(`verify-conversation: ${message}\n`);
  process.exit(code);
}

const { values, positionals } = parseCli(cli);
const str = (name: keyof typeof values): string | undefined => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
const conversationId = positionals[0]?.trim();
if (!conversationId || positionals.length > 1) fail('give exactly one conversation id.', 2);

const stage = str('stage') ?? 'local';
const list = str('attributes') ?? process.env['GUEST_ATTRIBUTE_ALLOWLIST'] ?? (stage === 'local' ? LOCAL_DEFAULTS['GUEST_ATTRIBUTE_ALLOWLIST'] : undefined);
const names = (list ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '');
if (names.length === 0) fail('no attribute names to check: pass --attributes or set GUEST_ATTRIBUTE_ALLOWLIST.', 2);

let target: GenesysTarget | undefined;
try {
  target = await genesysTarget(stage, str('region'), str('api-url'));
  const { body } = await target.client.call(genesysOperations.getConversation, { params: { conversationId }, deadline: deadlineAfter(30_000) });
  const verdict = verifyConversationAttributes(body, names);
  if (values['json']) {
    process.stdout.write(`${JSON.stringify(verdict, null, 2)}\n`);
  } else if (!verdict.participantId) {
    process.stdout.write(`conversation ${conversationId}: no guest participant\n`);
  } else {
    process.stdout.write(`conversation ${conversationId}, guest participant ${verdict.participantId}:\n`);
    const width = Math.max(...names.map((name) => name.length));
    for (const check of verdict.checks) {
      process.stdout.write(`  ${check.present ? `present  ${check.name.padEnd(width)}  ${check.value}` : `MISSING  ${check.name}`}\n`);
    }
  }
  const missing = verdict.checks.filter((check) => !check.present).length;
  if (!verdict.ok) {
    process.stderr.write(verdict.participantId ? `${missing} of ${names.length} attribute(s) missing\n` : 'the conversation has no guest participant\n');
    process.exitCode = 1;
  }
} catch (error) {
  fail(explainFailure(error, target), error instanceof TargetError ? 2 : 1);
} finally {
  target?.close();
}
