/** Middy stacks, the audit of an attempt, problem details and each function's dependencies object. */
export { httpStack, resolveRequestId } from './http.ts';
export type { BodyValidator, HttpEvent, HttpRequest, HttpResult, HttpStackOptions } from './http.ts';
export { eventStack, sqsStack, scheduleStack } from './background.ts';
export type { ScheduleEvent } from './background.ts';
export { dependenciesOnFirstUse } from './dependencies.ts';
export { attemptFactsOf, auditAttempt } from './audit.ts';
export type { AttemptAudit, AttemptSource, AuditedAttempt } from './audit.ts';
export { problemType, toProblem } from './problem.ts';
export type { ProblemDocument, ProblemResponse } from './problem.ts';
