/**
 * The one metrics emitter every function shares, created at module scope so warm
 * invocations reuse it.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { serviceName } from './service.ts';

/** The suite's metrics emitter (Powertools EMF), one namespace, stage and function dimensions. */
export const metrics = new Metrics({
  namespace: process.env['POWERTOOLS_METRICS_NAMESPACE'] ?? 'GenesysGuestSync',
  serviceName,
  defaultDimensions: {
    stage: process.env['STAGE'] ?? 'local',
    function: process.env['AWS_LAMBDA_FUNCTION_NAME'] ?? 'unknown',
  },
});
