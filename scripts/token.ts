/**
 * `npm run token -- --sub <id> [--tier <tier>] [--scope "<scopes>"] [--name ..] [--email ..]
 * [--phone ..] [--last-order-date ..] [--audience machine|widget|both] [--expires-in <s>]`
 * prints a bearer token the local stack accepts.
 */
import { mintLocalToken } from '#local/tokens.ts';
import { parseCli, usageError } from './cli.ts';
import { API_URL_OPTION, API_URL_USAGE, noStackFound, readStackEndpoints } from './stack-endpoints.ts';

const cli = {
  name: 'token',
  usage:
    'usage: npm run token -- --sub <id> [--tier <tier>] [--scope "guest-sync/read guest-sync/write"] [--name <name>] [--email <email>] ' +
    `[--phone <phone>] [--last-order-date <date>] [--audience machine|widget|both] [--expires-in <seconds>] ${API_URL_USAGE}`,
  options: {
    sub: { type: 'string' },
    tier: { type: 'string' },
    scope: { type: 'string' },
    name: { type: 'string' },
    email: { type: 'string' },
    phone: { type: 'string' },
    'last-order-date': { type: 'string' },
    audience: { type: 'string' },
    'expires-in': { type: 'string' },
    ...API_URL_OPTION,
  },
} as const;
const { values } = parseCli(cli);

if (!values.sub) usageError(cli, '--sub is required');
const audience = values.audience ?? 'both';
if (audience !== 'machine' && audience !== 'widget' && audience !== 'both') usageError(cli, '--audience must be machine, widget or both');
const expiresIn = values['expires-in'] === undefined ? 3600 : Number(values['expires-in']);
if (!Number.isInteger(expiresIn) || expiresIn <= 0) usageError(cli, '--expires-in must be a positive number of seconds');

// The stack's issuer and audiences; without a stack, the local defaults (the same unless overridden).
const stack = await readStackEndpoints(process.cwd(), { apiUrl: values['api-url'] });
if (!stack && values['api-url']) usageError(cli, noStackFound({ apiUrl: values['api-url'] }));
const token = await mintLocalToken({
  sub: values.sub as string,
  scope: values.scope ?? 'guest-sync/read guest-sync/write',
  audience,
  expiresInSeconds: expiresIn,
  ...(values.tier ? { tier: values.tier } : {}),
  ...(values.name ? { name: values.name } : {}),
  ...(values.email ? { email: values.email } : {}),
  ...(values.phone ? { phoneNumber: values.phone } : {}),
  ...(values['last-order-date'] ? { lastOrderDate: values['last-order-date'] } : {}),
  ...(stack ? { issuer: stack.jwtIssuer, machineAudience: stack.jwtAudience, widgetAudience: stack.widgetJwtAudience } : {}),
});
process.stdout.write(`${token}\n`);
