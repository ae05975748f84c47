/**
 * `npm run token -- --sub <id> [--tier <tier>] [--scope "<scopes>"] [--name ..] [--email ..]
 * [--phone ..] [--last-order-date ..] [--audience machine|widget|both] [--expires-in <s>]`
 * prints a bearer token the local stack accepts.
 */
import { parseArgs } from 'node:util';
import { mintLocalToken } from '../local/tokens.ts';
import { readStackEndpoints } from './stack-endpoints.ts';

const { values } = parseArgs({
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
    help: { type: 'boolean', short: 'h' },
  },
});

const usage = 'usage: npm run token -- --sub <id> [--tier <tier>] [--scope "guest-sync/read guest-sync/write"] [--name <name>] [--email <email>] [--phone <phone>] [--last-order-date <date>] [--audience machine|widget|both] [--expires-in <seconds>]';
if (values.help || !values.sub) {
  process.stderr.write(`${usage}\n`);
  process.exit(values.help ? 0 : 2);
}
const audience = values.audience ?? 'both';
if (audience !== 'machine' && audience !== 'widget' && audience !== 'both') {
  process.stderr.write(`--audience must be machine, widget or both\n${usage}\n`);
  process.exit(2);
}
const expiresIn = values['expires-in'] === undefined ? 3600 : Number(values['expires-in']);
if (!Number.isInteger(expiresIn) || expiresIn <= 0) {
  process.stderr.write('--expires-in must be a positive number of seconds\n');
  process.exit(2);
}

const stack = await readStackEndpoints();
const token = await mintLocalToken({
  sub: values.sub,
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
