/**
 * The one logger every function shares, created at module scope so warm invocations
 * reuse it.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { maskScalar } from '#lib/pii';
import { serviceName } from './service.ts';

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
  serviceName,
  jsonReplacerFn: redactLogValue,
});
