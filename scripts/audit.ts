/**
 * `npm run audit -- --guest <guestId> --from <iso> --to <iso> [--json] [--service <name>]
 * [--stage <stage>] [--region <aws region>] [--timeout <seconds>]` prints Genesys Cloud's
 * audit trail of one guest: it checks the service against the organisation's audit
 * service mapping (`GET /api/v2/audits/query/servicemapping`), submits an audit query
 * filtered on the guest id (its external contact id), polls the transaction until it has
 * succeeded and pages through the results. See HELP below for what the trail can and
 * cannot show.
 *
 * Stage `local` (the default) asks the running local stack; any other stage asks Genesys
 * Cloud (see scripts/genesys-target.ts for hosts and credentials).
 * Exit codes: 0 done (even with no entries), 1 a failure, 2 bad usage or setup.
 */
import { ValidationError } from '#lib/errors';
import { GUEST_AUDIT_SERVICE, formatAuditTable, queryGuestAudit } from '#lib/guests';
import { parseCli, usageError } from './cli.ts';
import { explainFailure, genesysTarget, TargetError, type GenesysTarget } from './genesys-target.ts';
import { API_URL_OPTION, API_URL_USAGE } from './stack-endpoints.ts';

/** What the audit trail can and cannot show about a guest (printed with --help). */
const HELP = `
A guest is a Genesys external contact; Genesys records changes to external contacts in
its audit trail under the service "${GUEST_AUDIT_SERVICE}" (the default --service). The
script first asks the organisation's audit service mapping which services it can query
and stops, listing them, when the one asked for is not among them ("Conversations" is not
an audit service).

What the trail can show: each change to the guest's contact (create, update, merge,
delete), when, by which user or OAuth client (the suite's own client for its writes), and
which properties changed (this script prints property names, never values).
What it cannot show: raw email or phone (the suite only ever sends salted hashes); the
guest's conversations and messages (they are not audited here: analytics and the
interaction audit hold them); who read the guest (audits record changes, not reads); the
suite's own reasoning (merges, masked attributes: the guest functions log those as
"Guest audit" entries); anything older than Genesys's audit retention.`;

const cli = {
  name: 'audit',
  usage:
    'usage: npm run audit -- --guest <guestId> --from <ISO date-time> --to <ISO date-time> [--json] ' +
    `[--service <audit service, default ${GUEST_AUDIT_SERVICE}>] [--stage <stage, default local>] [--region <aws region>] [--timeout <seconds, default 60>] ${API_URL_USAGE}\n${HELP}`,
  options: {
    guest: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    json: { type: 'boolean' },
    service: { type: 'string' },
    stage: { type: 'string' },
    region: { type: 'string' },
    timeout: { type: 'string' },
    ...API_URL_OPTION,
  },
} as const;

/** Exits with a message on stderr: 2 (with the usage) for bad usage, 1 for a failure. */
function fail(message: string, code: 1 | 2 = 1): never {
  if (code === 2) usageError(cli, message);
  process.stderr.write(`audit: ${message}\n`);
  process.exit(code);
}

const { values } = parseCli(cli);
const str = (name: keyof typeof values): string | undefined => (typeof values[name] === 'string' ? (values[name] as string) : undefined);

const guestId = str('guest')?.trim();
if (!guestId) fail('--guest is required.', 2);
const date = (name: 'from' | 'to'): Date => {
  const raw = str(name);
  if (!raw) fail(`--${name} is required.`, 2);
  const parsed = new Date(raw);
  if (Number.isNaN(parsed.getTime())) fail(`--${name} must be an ISO 8601 date-time, e.g. 2025-01-31T00:00:00Z.`, 2);
  return parsed;
};
const from = date('from');
const to = date('to');
if (from.getTime() >= to.getTime()) fail('--from must be before --to.', 2);
const timeoutSeconds = str('timeout') === undefined ? 60 : Number(str('timeout'));
if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) fail('--timeout must be a positive number of seconds.', 2);

let target: GenesysTarget | undefined;
try {
  target = await genesysTarget(str('stage') ?? 'local', str('region'), str('api-url'));
  const entries = await queryGuestAudit(target.client, {
    guestId,
    from,
    to,
    timeoutMs: timeoutSeconds * 1000,
    ...(str('service') ? { serviceName: str('service') as string } : {}),
  });
  if (values['json']) {
    process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
  } else {
    process.stderr.write(`${entries.length} audit entr${entries.length === 1 ? 'y' : 'ies'} for guest ${guestId} from ${target.description}\n`);
    process.stdout.write(`${formatAuditTable(entries)}\n`);
  }
} catch (error) {
  fail(error instanceof ValidationError ? error.message : explainFailure(error, target), error instanceof TargetError ? 2 : 1);
} finally {
  target?.close();
}
