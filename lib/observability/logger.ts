/**
 * The one logger and the one metrics emitter every function shares, created at module
 * scope so warm invocations reuse them.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { maskScalar } from '#lib/pii';

const SERVICE_NAME = 'genesys-guest-sync';

/** Keys whose values are never logged, whatever they hold. */
const SECRET_KEYS =
  /^(authorization|x-hub-signature-256|password|secret|client_?secret|api_?token|api_?key|x-api-key|(access|refresh|id)_?token|token|signing_?secret|salt|cookies?|set-cookie)$/i;

/**
 * JSON replacer for the logger: drops secret-bearing keys and masks identifiers with the
 * masking every route uses (`maskScalar`): in strings, in integers whose digits read as a
 * phone number or SSN, and whole values under keys that name one (`email`, `mobile`,
 * `ssn`), so no log line carries plaintext identifiers.
 */
export function redactLogValue(key: string, value: unknown): unknown {
  if (key !== '' && SECRET_KEYS.test(key)) return '[redacted]';
  if (typeof value === 'string' || typeof value === 'number') return maskScalar(key, value).value;
  return value;
}

/** The suite's structured logger (Powertools), with identifier redaction built in. */
export const logger = new Logger({
  serviceName: process.env['POWERTOOLS_SERVICE_NAME'] ?? SERVICE_NAME,
  jsonReplacerFn: redactLogValue,
});

/** The suite's metrics emitter (Powertools EMF), one namespace, stage and function dimensions. */
export const metrics = new Metrics({
  namespace: process.env['POWERTOOLS_METRICS_NAMESPACE'] ?? 'GenesysGuestSync',
  serviceName: process.env['POWERTOOLS_SERVICE_NAME'] ?? SERVICE_NAME,
  defaultDimensions: {
    stage: process.env['STAGE'] ?? 'local',
    function: process.env['AWS_LAMBDA_FUNCTION_NAME'] ?? 'unknown',
  },
});
