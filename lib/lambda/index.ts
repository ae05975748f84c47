/** Middy stacks and problem details for every function. */
export { httpStack, resolveRequestId } from './http.ts';
export type { BodyValidator, HttpEvent, HttpRequest, HttpResult, HttpStackOptions } from './http.ts';
export { eventStack, sqsStack, scheduleStack } from './background.ts';
export type { ScheduleEvent } from './background.ts';
export { problemType, toProblem } from './problem.ts';
export type { ProblemDocument, ProblemResponse } from './problem.ts';
