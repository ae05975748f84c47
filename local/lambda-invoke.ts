/**
 * Invokes a function of the local stack through serverless-offline's Lambda endpoint
 * (the AWS Lambda Invoke API), so the worker and scheduled functions run exactly the
 * bundles the HTTP routes run.
 */

/** A function invocation outcome: the handler's result, or the error it raised. */
export interface InvokeResult<T> {
  ok: boolean;
  payload: T | undefined;
  error?: string;
}

/** Calls `POST /2015-03-31/functions/{name}/invocations` on the local Lambda endpoint. */
export async function invokeLocalFunction<T = unknown>(lambdaEndpoint: string, functionName: string, event: unknown): Promise<InvokeResult<T>> {
  const response = await fetch(`${lambdaEndpoint}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-amz-invocation-type': 'RequestResponse' },
    body: JSON.stringify(event),
  });
  const text = await response.text();
  let payload: unknown;
  try {
    payload = text === '' ? undefined : JSON.parse(text);
  } catch {
    payload = text;
  }
  const functionError = response.headers.get('x-amz-function-error');
  if (!response.ok || functionError) {
    const message = typeof payload === 'object' && payload !== null && 'errorMessage' in payload ? String((payload as { errorMessage: unknown }).errorMessage) : text;
    return { ok: false, payload: undefined, error: `${functionName} failed (${functionError ?? response.status}): ${message}` };
  }
  return { ok: true, payload: payload as T };
}
