/** The service name the logs, the metrics and the report's CloudWatch queries agree on. */
export const serviceName = process.env['POWERTOOLS_SERVICE_NAME'] ?? 'genesys-guest-sync';
