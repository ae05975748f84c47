/**
 * The HTTP middy stack every API Gateway (HTTP API, payload 2.0) function uses: request
 * id in and out, logger and metrics, header normalisation, a size guard, JSON parsing
 * (or raw bytes for signature checks), schema validation, security headers, the audit of
 * an attempt on routes that keep one, and one error handler that answers RFC 9457 problem
 * details.
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import type { MiddlewareObj, Request } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpSecurityHeaders from '@middy/http-security-headers';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { PayloadTooLargeError, ValidationError, type FieldError } from '#lib/errors';
import { logger, metrics } from '#lib/observability';
import { attemptFactsOf, auditAttempt, type AttemptAudit } from './audit.ts';
import { toProblem } from './problem.ts';

/** The API Gateway event as it reaches the stack (the authorizer part may be absent). */
export type HttpEvent = Omit<APIGatewayProxyEventV2WithJWTAuthorizer, 'body' | 'requestContext'> & {
  body?: unknown;
  requestContext: Omit<APIGatewayProxyEventV2WithJWTAuthorizer['requestContext'], 'authorizer'> & {
    authorizer?: APIGatewayProxyEventV2WithJWTAuthorizer['requestContext']['authorizer'];
  };
};

/** What a handler sees: parsed body (or raw bytes), lower-cased headers, ids and claims. */
export interface HttpRequest<TBody = unknown, TFacts extends object = Record<string, unknown>> {
  body: TBody;
  /** The exact request bytes (base64 decoded), for signature checks. */
  rawBody: Buffer;
  headers: Record<string, string | undefined>;
  pathParameters: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  requestId: string;
  /** JWT claims from the HTTP API authorizer, when the route has one. */
  claims: Record<string, unknown>;
  /** What the route notes about this attempt for its audit line (routes with `audit` only). */
  audit: Partial<TFacts>;
  event: HttpEvent;
}

/** What a handler returns: the body is serialised as JSON. */
export interface HttpResult {
  statusCode: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Checks a parsed body; returns the typed value or the failing paths. */
export type BodyValidator<T> = (body: unknown) => { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** Options of the HTTP stack. */
export interface HttpStackOptions<TBody, TFacts extends object = Record<string, unknown>> {
  /** Keep the body as raw bytes only (no JSON parsing), e.g. to verify a signature first. */
  rawBody?: boolean;
  /** Validate the parsed JSON body; failures are a 400 problem listing each path. */
  validateBody?: BodyValidator<TBody>;
  /** Refuse larger bodies with 413 before parsing. Default 256 KiB. */
  maxBodyBytes?: number;
  /** Audit every attempt that reaches the route (one line each, whatever its outcome). */
  audit?: AttemptAudit<TFacts>;
}

type HttpHandler<TBody, TFacts extends object> = (request: HttpRequest<TBody, TFacts>, context: Context) => Promise<HttpResult>;
/** Per-invocation values the middlewares hand to the handler, keyed by the event object. */
const eventInternals = new WeakMap<object, { requestId?: string; rawBody?: Buffer }>();
const internalsOf = (event: object): { requestId?: string; rawBody?: Buffer } => {
  let internals = eventInternals.get(event);
  if (!internals) {
    internals = {};
    eventInternals.set(event, internals);
  }
  return internals;
};

const DEFAULT_MAX_BODY_BYTES = 256 * 1024;
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Media types are case-insensitive (RFC 9110, 8.3.1): `Application/JSON` is JSON. The JSON
 * body parser matches lower case only, so the type and subtype are lower-cased before it
 * runs; parameters (a charset, a boundary) are left as sent.
 */
const mediaTypeNormalizer = (): MiddlewareObj<HttpEvent, APIGatewayProxyStructuredResultV2> => ({
  before: (request) => {
    const headers = request.event.headers;
    const value = headers?.['content-type'];
    if (headers && typeof value === 'string') {
      const semicolon = value.indexOf(';');
      const type = semicolon === -1 ? value : value.slice(0, semicolon);
      headers['content-type'] = type.trim().toLowerCase() + (semicolon === -1 ? '' : value.slice(semicolon));
    }
  },
});

/**
 * Picks the caller's `x-request-id` when it is sane, else the Lambda request id (unique per
 * invocation and present in every log line), else a fresh one.
 */
export function resolveRequestId(event: HttpEvent, context?: Pick<Context, 'awsRequestId'>): string {
  const headers = event.headers ?? {};
  const callerId = headers['x-request-id'] ?? headers['X-Request-Id'];
  if (callerId && REQUEST_ID_PATTERN.test(callerId)) return callerId;
  return context?.awsRequestId || randomUUID();
}

/** Reads the raw body bytes (API Gateway may base64-encode them) and enforces the size limit. */
const rawBodyGuard = (maxBytes: number): MiddlewareObj<HttpEvent, APIGatewayProxyStructuredResultV2> => ({
  before: (request) => {
    const { body, isBase64Encoded } = request.event;
    const raw = typeof body === 'string' ? Buffer.from(body, isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
    if (raw.byteLength > maxBytes) {
      throw new PayloadTooLargeError(`The request body is ${raw.byteLength} bytes; the limit is ${maxBytes} bytes.`);
    }
    internalsOf(request.event).rawBody = raw;
  },
});

/** Sets the request id, logs it with every line, and echoes it on every response. */
const requestIdMiddleware = (): MiddlewareObj<HttpEvent, APIGatewayProxyStructuredResultV2> => {
  const echo = (request: Request<HttpEvent, APIGatewayProxyStructuredResultV2>): void => {
    const { requestId } = internalsOf(request.event);
    if (request.response && requestId) {
      request.response.headers = { ...request.response.headers, 'x-request-id': requestId };
    }
  };
  return {
    before: (request) => {
      const requestId = resolveRequestId(request.event, request.context);
      internalsOf(request.event).requestId = requestId;
      logger.appendKeys({ requestId });
    },
    after: echo,
    onError: echo,
  };
};

/** The one error handler: every failure becomes a problem document; 5xx are logged. */
const problemErrorHandler = (): MiddlewareObj<HttpEvent, APIGatewayProxyStructuredResultV2> => ({
  onError: (request) => {
    const requestId = internalsOf(request.event).requestId ?? randomUUID();
    const problem = toProblem(request.error, requestId);
    if (problem.expected) {
      logger.info('Request refused', { status: problem.statusCode, problemType: problem.document.type });
    } else {
      logger.error('Request failed', { status: problem.statusCode, error: request.error as Error });
    }
    request.response = {
      statusCode: problem.statusCode,
      headers: { ...problem.headers, 'content-type': 'application/problem+json' },
      body: JSON.stringify(problem.document),
    };
  },
});

/** What the audit middleware reads of an HTTP request: the stack's request id and raw bytes. */
const attemptSource = {
  requestId: (event: HttpEvent): string => internalsOf(event).requestId ?? '',
  requestBytes: (event: HttpEvent): number => internalsOf(event).rawBody?.byteLength ?? 0,
  claims: (event: HttpEvent): Record<string, unknown> => event.requestContext?.authorizer?.jwt?.claims ?? {},
};

/**
 * Wraps an HTTP handler in the shared stack. The handler receives a parsed, validated
 * request and returns a status and a body; it never needs to catch errors.
 */
export function httpStack<TBody = unknown, TFacts extends object = Record<string, unknown>>(
  handler: HttpHandler<TBody, TFacts>,
  options: HttpStackOptions<TBody, TFacts> = {},
) {
  const bodyParser = httpJsonBodyParser();
  const parseJsonBody: MiddlewareObj<HttpEvent, APIGatewayProxyStructuredResultV2> = {
    before: async (request) => {
      const method = request.event.requestContext?.http?.method ?? '';
      if (options.rawBody || !METHODS_WITH_BODY.has(method)) {
        request.event.body = undefined;
        return;
      }
      await bodyParser.before?.(request as never);
    },
  };

  const stack = middy<HttpEvent, APIGatewayProxyStructuredResultV2, Error, Context>()
    .use(requestIdMiddleware())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(httpHeaderNormalizer())
    .use(mediaTypeNormalizer())
    .use(httpSecurityHeaders())
    .use(rawBodyGuard(options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES))
    .use(parseJsonBody);
  if (options.audit) stack.use(auditAttempt(options.audit, attemptSource));
  return stack
    .use(problemErrorHandler())
    .handler(async (event, context) => {
      const internals = eventInternals.get(event);
      let body = event.body as TBody;
      if (options.validateBody) {
        const checked = options.validateBody(event.body);
        if (!checked.ok) throw new ValidationError('The request body is invalid.', checked.errors);
        body = checked.value;
      }
      const result = await handler(
        {
          body,
          rawBody: internals?.rawBody ?? Buffer.alloc(0),
          headers: event.headers ?? {},
          pathParameters: event.pathParameters ?? {},
          query: event.queryStringParameters ?? {},
          requestId: internals?.requestId ?? resolveRequestId(event, context),
          claims: event.requestContext.authorizer?.jwt?.claims ?? {},
          audit: attemptFactsOf<TFacts>(event),
          event,
        },
        context,
      );
      return {
        statusCode: result.statusCode,
        headers: {
          ...(result.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...result.headers,
        },
        ...(result.body === undefined ? {} : { body: JSON.stringify(result.body) }),
      };
    });
}
