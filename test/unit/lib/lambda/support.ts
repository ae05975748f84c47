/**
 * Helpers for the lambda stack tests: call a wrapped handler the way Lambda does and read
 * its answer the way an HTTP client would.
 */
import middy from '@middy/core';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { AttemptAudit } from '#lib/lambda';
import type { HttpEvent } from '#lib/lambda/http.ts';
import { attemptFactsOf, auditAttempt } from '#lib/lambda/audit.ts';
import { lambdaContext } from '#test/support/lambda.ts';

/** A wrapped HTTP handler as `httpStack` returns it. */
export type WrappedHttpHandler = (event: HttpEvent, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** An HTTP answer: status, headers by lower-cased name, body text and parsed JSON. */
export interface Answer {
  statusCode: number;
  headers: Record<string, string>;
  text: string | undefined;
  json: Record<string, unknown> | undefined;
}

/** Invokes the handler with a fresh context (unless given one) and reads the answer. */
export async function call(handler: WrappedHttpHandler, event: HttpEvent, context: Context = lambdaContext()): Promise<Answer> {
  const result = await handler(event, context);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = String(value);
  }
  const text = result.body;
  let json: Record<string, unknown> | undefined;
  if (text !== undefined) {
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
  }
  return { statusCode: result.statusCode ?? 200, headers, text, json };
}

/**
 * Runs `work` as one attempt under the audit middleware, as the HTTP stack does, so a
 * service's audit line and metrics can be read without HTTP; resolves with what `work`
 * resolves with, or rejects with what it throws.
 */
export async function audited<TFacts extends object, T>(
  audit: AttemptAudit<TFacts>,
  work: (facts: Partial<TFacts>) => Promise<T>,
  options: { status?: number; requestBytes?: number; claims?: Record<string, unknown> } = {},
): Promise<T> {
  let result: { value: T } | undefined;
  const run = middy<object, { statusCode: number }>()
    .use(
      auditAttempt<TFacts, object, { statusCode: number }>(audit, {
        requestId: () => 'audited-request',
        requestBytes: () => options.requestBytes ?? 0,
        claims: () => options.claims ?? {},
      }),
    )
    .handler(async (event) => {
      result = { value: await work(attemptFactsOf<TFacts>(event)) };
      return { statusCode: options.status ?? 200 };
    });
  await run({}, lambdaContext());
  return (result as { value: T }).value;
}
