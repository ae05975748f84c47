/** Middy stacks, the audit of an attempt, problem details and each function's dependencies object. */
export { httpStack } from './http.ts';
export { eventStack, sqsStack, scheduleStack } from './background.ts';
export { dependenciesOnFirstUse } from './dependencies.ts';
export type { AttemptAudit } from './audit.ts';
