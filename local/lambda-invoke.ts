/**
 * Invokes a function of the local stack through serverless-offline's Lambda endpoint
 * (the AWS Lambda Invoke API), so the worker and scheduled functions run exactly the
 * bundles the HTTP routes run; and serves the functions' own Lambda API calls (the
 * event source mappings, and invocations) on the stack's control endpoint.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A function invocation outcome: the handler's result, or the error it raised. */
export interface InvokeResult<T> {
  ok: boolean;
  payload: T | undefined;
  error?: string;
  /** Set when the function itself failed (`X-Amz-Function-Error`), as opposed to the invocation. */
  functionError?: string;
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
    return {
      ok: false,
      payload: undefined,
      error: `${functionName} failed (${functionError ?? response.status}): ${message}`,
      ...(functionError ? { functionError } : {}),
    };
  }
  return { ok: true, payload: payload as T };
}

/** One local event source mapping as the Lambda API shows it. */
export interface LocalMapping {
  uuid: string;
  functionName: string;
  queueArn: string;
  batchSize: number;
  maximumBatchingWindowSeconds: number;
  reportBatchItemFailures: boolean;
  source: { pause(): void; resume(): void; paused(): boolean };
}

/** What the local Lambda API serves: the event source mappings, and invocations forwarded to serverless-offline. */
export interface LocalLambdaApi {
  lambdaEndpoint: string;
  mappings(): LocalMapping[];
  log(line: string): void;
}

const MAPPING_PATH = /^\/2015-03-31\/event-source-mappings\/([^/]+)\/?$/;
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;

/** The mapping as `GetEventSourceMapping` answers it (the fields the suite and an operator read). */
function mappingConfiguration(mapping: LocalMapping, lastModified: number): Record<string, unknown> {
  return {
    UUID: mapping.uuid,
    State: mapping.source.paused() ? 'Disabled' : 'Enabled',
    StateTransitionReason: 'USER_INITIATED',
    EventSourceArn: mapping.queueArn,
    FunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${mapping.functionName}`,
    BatchSize: mapping.batchSize,
    MaximumBatchingWindowInSeconds: mapping.maximumBatchingWindowSeconds,
    FunctionResponseTypes: mapping.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
    LastModified: lastModified,
  };
}

const lastModified = new Map<string, number>();

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  res.writeHead(status, { 'content-type': 'application/json', ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
  res.end(JSON.stringify(body));
}

/** A function name from the Invoke path: a plain name, or the name inside a function ARN. */
const functionNameOf = (raw: string): string => {
  const decoded = decodeURIComponent(raw);
  return /:function:([^:]+)/.exec(decoded)?.[1] ?? decoded;
};

/**
 * Serves the Lambda REST-JSON API calls the suite makes (what `@aws-sdk/client-lambda`
 * sends when `AWS_ENDPOINT_URL_LAMBDA` names the stack's control endpoint):
 * `GetEventSourceMapping` and `UpdateEventSourceMapping` (`Enabled` pauses or resumes the
 * local event source), and `Invoke`, forwarded to serverless-offline. An asynchronous
 * invocation (`X-Amz-Invocation-Type: Event`) is answered 202 at once and run in the
 * background, retried twice on failure, as Lambda does; serverless-offline's own Event
 * handling is not used because it leaves a failing handler's rejection unhandled.
 * Resolves false for any other path.
 */
export function handleLambdaApi(req: IncomingMessage, res: ServerResponse, api: LocalLambdaApi): boolean {
  const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
  const mappingMatch = MAPPING_PATH.exec(path);
  if (mappingMatch && (req.method === 'GET' || req.method === 'PUT')) {
    const uuid = decodeURIComponent(mappingMatch[1] ?? '');
    const mapping = api.mappings().find((m) => m.uuid === uuid);
    if (!mapping) {
      sendJson(res, 404, { Type: 'User', message: `The resource you requested does not exist. (Service: Lambda, UUID ${uuid})` }, 'ResourceNotFoundException');
      return true;
    }
    if (req.method === 'GET') {
      sendJson(res, 200, mappingConfiguration(mapping, lastModified.get(uuid) ?? 0));
      return true;
    }
    void readBody(req).then((raw) => {
      let update: { Enabled?: unknown };
      try {
        update = JSON.parse(raw.toString('utf8') || '{}') as { Enabled?: unknown };
      } catch {
        return sendJson(res, 400, { Type: 'User', message: 'The request body is not JSON' }, 'InvalidParameterValueException');
      }
      if (typeof update.Enabled === 'boolean' && update.Enabled === mapping.source.paused()) {
        if (update.Enabled) mapping.source.resume();
        else mapping.source.pause();
        lastModified.set(uuid, Math.floor(Date.now() / 1000));
        api.log(`[event source ${uuid}] ${update.Enabled ? 'enabled' : 'disabled'} (UpdateEventSourceMapping)`);
      }
      sendJson(res, 202, mappingConfiguration(mapping, lastModified.get(uuid) ?? 0));
    });
    return true;
  }
  const invokeMatch = INVOKE_PATH.exec(path);
  if (invokeMatch && req.method === 'POST') {
    const functionName = functionNameOf(invokeMatch[1] ?? '');
    const invocationType = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    void readBody(req).then(async (raw) => {
      let event: unknown;
      try {
        event = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
      } catch {
        return sendJson(res, 400, { Type: 'User', message: 'The payload is not JSON' }, 'InvalidRequestContentException');
      }
      if (invocationType === 'Event') {
        res.writeHead(202);
        res.end();
        for (let attempt = 1; attempt <= 3; attempt += 1) {
          const result = await invokeLocalFunction(api.lambdaEndpoint, functionName, event).catch((error: unknown) => ({ ok: false, error: String(error) }) as InvokeResult<unknown>);
          if (result.ok) return;
          api.log(`[${functionName}] asynchronous invocation failed (attempt ${attempt} of 3): ${result.error}`);
          if (attempt < 3) await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt));
        }
        return;
      }
      try {
        const forwarded = await fetch(`${api.lambdaEndpoint}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-amz-invocation-type': invocationType },
          body: raw,
        });
        const headers: Record<string, string> = {};
        for (const name of ['content-type', 'x-amz-function-error', 'x-amzn-errortype']) {
          const value = forwarded.headers.get(name);
          if (value) headers[name] = value;
        }
        res.writeHead(forwarded.status, headers);
        res.end(Buffer.from(await forwarded.arrayBuffer()));
      } catch (error) {
        sendJson(res, 502, { Type: 'Service', message: `serverless-offline did not answer: ${String(error)}` }, 'ServiceException');
      }
    });
    return true;
  }
  return false;
}
