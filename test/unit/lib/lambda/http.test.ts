import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ConflictError,
  DependencyError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionRequiredError,
  UnauthorizedError,
  ValidationError,
} from '#lib/errors';
import { configAtColdStart } from '#lib/config';
import { httpStack } from '#lib/lambda';
import { problemType } from '#lib/lambda/problem.ts';
import type { HttpRequest, HttpResult, HttpStackOptions } from '#lib/lambda/http.ts';
import { logger } from '#lib/observability';
import { captureOutput, lambdaContext } from '#test/support/lambda.ts';
import type { CapturedOutput } from '#test/support/lambda.ts';
import { call } from './support.ts';
import type { WrappedHttpHandler } from './support.ts';
import { httpEvent } from '#test/support/factories.ts';

const LAMBDA_REQUEST_ID = lambdaContext().awsRequestId;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Wraps a handler that records what it was given and answers 200 with `answer` (default: echo). */
function recordingStack<TBody = unknown>(
  options: HttpStackOptions<TBody> = {},
  answer?: (request: HttpRequest<TBody>) => HttpResult | Promise<HttpResult>,
) {
  const seen: HttpRequest<TBody>[] = [];
  const handler = httpStack<TBody>(async (request) => {
    seen.push(request);
    return answer ? answer(request) : { statusCode: 200, body: { received: request.body ?? null } };
  }, options) as unknown as WrappedHttpHandler;
  return { handler, seen };
}

/** Wraps a handler that throws `error`. */
const throwingStack = (error: unknown, options: HttpStackOptions<unknown> = {}): WrappedHttpHandler =>
  httpStack(async () => {
    throw error;
  }, options) as unknown as WrappedHttpHandler;

let output: CapturedOutput;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => {
  output.restore();
  vi.unstubAllEnvs();
});

describe('a successful request', () => {
  it('answers the handler status with its body as JSON', async () => {
    // Prepare
    const { handler } = recordingStack({}, () => ({ statusCode: 201, body: { id: 'guest-1', tier: 'gold' } }));

    // Act
    const answer = await call(handler, httpEvent({ method: 'POST', path: '/guests', body: { consent: {} } }));

    // Assess
    expect(answer.statusCode).toBe(201);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.json).toEqual({ id: 'guest-1', tier: 'gold' });
  });

  it('hands the handler the parsed body, headers, path, query and JWT claims', async () => {
    // Prepare
    const { handler, seen } = recordingStack();
    const event = httpEvent({
      method: 'PATCH',
      path: '/guests/guest-1',
      body: { attributes: { tier: 'gold' } },
      headers: { 'if-match': '"v1"' },
      pathParameters: { guestId: 'guest-1' },
      query: { expand: 'metrics' },
      claims: { sub: 'user-7', scope: 'guest-sync/write' },
    });

    // Act
    await call(handler, event);

    // Assess
    expect(seen).toHaveLength(1);
    const request = seen[0]!;
    expect(request.body).toEqual({ attributes: { tier: 'gold' } });
    expect(request.headers['if-match']).toBe('"v1"');
    expect(request.pathParameters).toEqual({ guestId: 'guest-1' });
    expect(request.query).toEqual({ expand: 'metrics' });
    expect(request.claims).toEqual({ sub: 'user-7', scope: 'guest-sync/write' });
    expect(request.rawBody.toString('utf8')).toBe('{"attributes":{"tier":"gold"}}');
  });

  it('gives empty claims, path parameters and query when the route has none', async () => {
    // Prepare
    const { handler, seen } = recordingStack();

    // Act
    await call(handler, httpEvent({ method: 'GET', path: '/health' }));

    // Assess
    expect(seen[0]).toMatchObject({ claims: {}, pathParameters: {}, query: {} });
  });

  it('lower-cases header names, so a capitalised Content-Type still parses', async () => {
    // Prepare
    const { handler, seen } = recordingStack();
    const event = httpEvent({ method: 'POST', body: '{"a":1}', headers: { 'content-type': undefined } });
    event.headers = { 'Content-Type': 'application/json; charset=utf-8', 'If-Match': '"v3"' };

    // Act
    const answer = await call(handler, event);

    // Assess
    expect(answer.statusCode).toBe(200);
    expect(seen[0]?.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', 'if-match': '"v3"' });
  });

  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'application/merge-patch+json',
    // Media types are case-insensitive (RFC 9110, 8.3.1).
    'Application/JSON',
    'APPLICATION/JSON; charset=UTF-8',
    'Application/Merge-Patch+JSON',
  ])(
    'accepts a %s body',
    async (contentType) => {
      // Prepare
      const { handler } = recordingStack();

      // Act
      const answer = await call(handler, httpEvent({ method: 'POST', body: '{"ok":true}', headers: { 'content-type': contentType } }));

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(answer.json).toEqual({ received: { ok: true } });
    },
  );

  it('keeps the headers the handler sets (ETag) and lets it choose its content type', async () => {
    // Prepare
    const { handler } = recordingStack({}, () => ({
      statusCode: 200,
      body: { id: 'guest-1' },
      headers: { ETag: '"v2"', 'content-type': 'application/merge-patch+json' },
    }));

    // Act
    const answer = await call(handler, httpEvent({ method: 'GET', path: '/guests/guest-1' }));

    // Assess
    expect(answer.headers['etag']).toBe('"v2"');
    expect(answer.headers['content-type']).toBe('application/merge-patch+json');
  });

  it('sends no body and no content type when the handler returns none', async () => {
    // Prepare
    const { handler } = recordingStack({}, () => ({ statusCode: 204 }));

    // Act
    const answer = await call(handler, httpEvent({ method: 'POST', body: {} }));

    // Assess
    expect(answer.statusCode).toBe(204);
    expect(answer.text).toBeUndefined();
    expect(answer.headers['content-type']).toBeUndefined();
  });

  it('serialises falsy bodies (0, false, null, empty string) rather than dropping them', async () => {
    // Prepare
    const bodies: unknown[] = [0, false, null, ''];
    const answers: (string | undefined)[] = [];

    // Act
    for (const body of bodies) {
      const { handler } = recordingStack({}, () => ({ statusCode: 200, body }));
      answers.push((await call(handler, httpEvent())).text);
    }

    // Assess
    expect(answers).toEqual(['0', 'false', 'null', '""']);
  });

  it('carries the security headers', async () => {
    // Prepare
    const { handler } = recordingStack();

    // Act
    const answer = await call(handler, httpEvent());

    // Assess
    expect(answer.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-permitted-cross-domain-policies': 'none',
    });
    expect(answer.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
    expect(answer.headers['x-powered-by']).toBeUndefined();
  });
});

describe('the request id', () => {
  it('echoes the caller x-request-id and hands it to the handler', async () => {
    // Prepare
    const { handler, seen } = recordingStack();

    // Act
    const answer = await call(handler, httpEvent({ headers: { 'x-request-id': 'checkout-42.retry:1' } }));

    // Assess
    expect(answer.headers['x-request-id']).toBe('checkout-42.retry:1');
    expect(seen[0]?.requestId).toBe('checkout-42.retry:1');
  });

  it('accepts a caller id of 128 characters', async () => {
    // Prepare
    const { handler } = recordingStack();
    const id = 'a'.repeat(128);

    // Act
    const answer = await call(handler, httpEvent({ headers: { 'x-request-id': id } }));

    // Assess
    expect(answer.headers['x-request-id']).toBe(id);
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['too long', 'a'.repeat(129)],
    ['holding spaces', 'my request id'],
    ['holding a header injection', 'abc\r\nset-cookie: session=1'],
    ['holding markup', '<script>alert(1)</script>'],
    ['holding non-ASCII', 'réquest-1'],
  ])('falls back to the Lambda request id when the caller id is %s', async (_case, callerId) => {
    // Prepare
    const { handler, seen } = recordingStack();

    // Act
    const answer = await call(handler, httpEvent({ headers: { 'x-request-id': callerId } }));

    // Assess
    expect(answer.headers['x-request-id']).toBe(LAMBDA_REQUEST_ID);
    expect(seen[0]?.requestId).toBe(LAMBDA_REQUEST_ID);
  });

  it('falls back to a fresh UUID when there is no Lambda request id either', async () => {
    // Prepare
    const { handler } = recordingStack();

    // Act
    const answer = await call(handler, httpEvent(), lambdaContext({ awsRequestId: '' }));

    // Assess
    expect(answer.headers['x-request-id']).toMatch(UUID);
  });

  it('is echoed on error answers and quoted in the problem', async () => {
    // Prepare
    const handler = throwingStack(new NotFoundError('The session is unknown or has expired.'));

    // Act
    const answer = await call(handler, httpEvent({ headers: { 'x-request-id': 'trace-404' } }));

    // Assess
    expect(answer.headers['x-request-id']).toBe('trace-404');
    expect(answer.json?.['requestId']).toBe('trace-404');
  });

  it('is echoed on answers refused before the handler runs', async () => {
    // Prepare
    const { handler } = recordingStack();

    // Act
    const answer = await call(handler, httpEvent({ method: 'POST', body: '{', headers: { 'x-request-id': 'trace-400' } }));

    // Assess
    expect(answer.statusCode).toBe(400);
    expect(answer.headers['x-request-id']).toBe('trace-400');
  });
});

describe('JSON bodies', () => {
  it.each(['{', '{"attributes":', 'not json', "{'single':'quotes'}", '{"a":1,}', ''])(
    'refuses the malformed body %j with a 400 problem',
    async (body) => {
      // Prepare
      const { handler, seen } = recordingStack();

      // Act
      const answer = await call(
        handler,
        httpEvent({ method: 'POST', path: '/guests', body, headers: { 'x-request-id': 'req-bad-json' } }),
      );

      // Assess
      expect(answer.statusCode).toBe(400);
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(answer.json).toEqual({
        type: problemType('malformed-json'),
        title: 'Malformed JSON body',
        status: 400,
        detail: 'The request body is missing or is not valid JSON.',
        requestId: 'req-bad-json',
        errors: [{ path: '/', message: 'must be a valid JSON document' }],
      });
      expect(seen).toHaveLength(0);
    },
  );

  it.each(['POST', 'PUT', 'PATCH'])('refuses a %s without a body with a 400 problem', async (method) => {
    // Prepare
    const { handler, seen } = recordingStack();

    // Act
    const answer = await call(handler, httpEvent({ method, headers: { 'content-type': 'application/json' } }));

    // Assess
    expect(answer.statusCode).toBe(400);
    expect(answer.json?.['type']).toBe(problemType('malformed-json'));
    expect(seen).toHaveLength(0);
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['form data', 'application/x-www-form-urlencoded'],
    ['XML', 'application/xml'],
    ['no content type', undefined],
  ])('refuses a body sent as %s with a 415 problem', async (_case, contentType) => {
    // Prepare
    const { handler, seen } = recordingStack();

    // Act
    const answer = await call(
      handler,
      httpEvent({ method: 'POST', body: '{"a":1}', headers: { 'content-type': contentType, 'x-request-id': 'req-415' } }),
    );

    // Assess
    expect(answer.statusCode).toBe(415);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.json).toEqual({
      type: problemType('unsupported-media-type'),
      title: 'Unsupported media type',
      status: 415,
      detail: 'The request body must be JSON (Content-Type: application/json).',
      requestId: 'req-415',
    });
    expect(seen).toHaveLength(0);
  });

  it('parses a base64-encoded JSON body', async () => {
    // Prepare
    const { handler, seen } = recordingStack();
    const body = Buffer.from(JSON.stringify({ name: 'Zoë', tier: 'gold' }), 'utf8').toString('base64');

    // Act
    const answer = await call(handler, httpEvent({ method: 'POST', body, isBase64Encoded: true }));

    // Assess
    expect(answer.statusCode).toBe(200);
    expect(seen[0]?.body).toEqual({ name: 'Zoë', tier: 'gold' });
    expect(seen[0]?.rawBody.toString('utf8')).toBe('{"name":"Zoë","tier":"gold"}');
  });

  it.each(['GET', 'DELETE', 'HEAD'])('ignores whatever body a %s carries', async (method) => {
    // Prepare
    const { handler, seen } = recordingStack();

    // Act
    const answer = await call(handler, httpEvent({ method, body: '{not json', headers: { 'content-type': 'text/plain' } }));

    // Assess
    expect(answer.statusCode).toBe(200);
    expect(seen[0]?.body).toBeUndefined();
  });
});

describe('the rawBody option', () => {
  it('hands the exact bytes to the handler and parses nothing', async () => {
    // Prepare
    const { handler, seen } = recordingStack({ rawBody: true });
    const body = '{ "event" : "guest.session.attributes.updated",\n  "sessionId":"s-1" }';

    // Act
    const answer = await call(handler, httpEvent({ method: 'POST', path: '/webhooks/genesys', body }));

    // Assess
    expect(answer.statusCode).toBe(200);
    expect(seen[0]?.body).toBeUndefined();
    expect(seen[0]?.rawBody.equals(Buffer.from(body, 'utf8'))).toBe(true);
  });

  it('decodes a base64 body to its exact bytes', async () => {
    // Prepare
    const { handler, seen } = recordingStack({ rawBody: true });
    const bytes = Buffer.from([0x7b, 0x22, 0xc3, 0xa9, 0x22, 0x3a, 0x31, 0x7d, 0x0a, 0xff]);

    // Act
    await call(handler, httpEvent({ method: 'POST', body: bytes.toString('base64'), isBase64Encoded: true }));

    // Assess
    expect(seen[0]?.rawBody.equals(bytes)).toBe(true);
  });

  it('accepts a body that is not JSON, whatever its content type', async () => {
    // Prepare
    const { handler, seen } = recordingStack({ rawBody: true });

    // Act
    const answer = await call(handler, httpEvent({ method: 'POST', body: 'a=1&b=2', headers: { 'content-type': 'text/plain' } }));

    // Assess
    expect(answer.statusCode).toBe(200);
    expect(seen[0]?.rawBody.toString('utf8')).toBe('a=1&b=2');
  });

  it('gives an empty buffer when there is no body', async () => {
    // Prepare
    const { handler, seen } = recordingStack({ rawBody: true });

    // Act
    await call(handler, httpEvent({ method: 'POST' }));

    // Assess
    expect(seen[0]?.rawBody.byteLength).toBe(0);
  });
});

describe('the body size limit', () => {
  it('refuses a larger body with 413 before parsing it', async () => {
    // Prepare
    const { handler, seen } = recordingStack({ maxBodyBytes: 16 });

    // Act: the body is both too large and malformed; the size wins.
    const answer = await call(handler, httpEvent({ method: 'POST', body: '{"attributes": {"broken"', headers: { 'x-request-id': 'req-413' } }));

    // Assess
    expect(answer.statusCode).toBe(413);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.json).toEqual({
      type: problemType('payload-too-large'),
      title: 'Payload too large',
      status: 413,
      detail: 'The request body is 24 bytes; the limit is 16 bytes.',
      requestId: 'req-413',
    });
    expect(seen).toHaveLength(0);
  });

  it('accepts a body of exactly the limit', async () => {
    // Prepare
    const body = '{"k":"12345678"}';
    const { handler } = recordingStack({ maxBodyBytes: Buffer.byteLength(body) });

    // Act
    const answer = await call(handler, httpEvent({ method: 'POST', body }));

    // Assess
    expect(answer.statusCode).toBe(200);
  });

  it('counts UTF-8 bytes, not characters', async () => {
    // Prepare: 14 characters, 20 bytes.
    const { handler } = recordingStack({ maxBodyBytes: 16 });

    // Act
    const answer = await call(handler, httpEvent({ method: 'POST', body: '{"n":"éééééé"}' }));

    // Assess
    expect(answer.statusCode).toBe(413);
    expect(answer.json?.['detail']).toBe('The request body is 20 bytes; the limit is 16 bytes.');
  });

  it('counts a base64 body by its decoded bytes', async () => {
    // Prepare: 16 bytes once decoded, 24 characters of base64.
    const { handler } = recordingStack({ maxBodyBytes: 16 });
    const body = Buffer.from('{"k":"12345678"}').toString('base64');

    // Act
    const answer = await call(handler, httpEvent({ method: 'POST', body, isBase64Encoded: true }));

    // Assess
    expect(answer.statusCode).toBe(200);
  });

  it('applies to raw bodies too', async () => {
    // Prepare
    const { handler, seen } = recordingStack({ rawBody: true, maxBodyBytes: 4 });

    // Act
    const answer = await call(handler, httpEvent({ method: 'POST', body: 'abcde' }));

    // Assess
    expect(answer.statusCode).toBe(413);
    expect(seen).toHaveLength(0);
  });

  it('defaults to 256 KiB', async () => {
    // Prepare
    const { handler } = recordingStack();
    const fits = JSON.stringify({ pad: 'x'.repeat(256 * 1024 - 10) });
    const tooBig = JSON.stringify({ pad: 'x'.repeat(256 * 1024 - 9) });

    // Act
    const fitsAnswer = await call(handler, httpEvent({ method: 'POST', body: fits }));
    const tooBigAnswer = await call(handler, httpEvent({ method: 'POST', body: tooBig }));

    // Assess
    expect(Buffer.byteLength(fits)).toBe(256 * 1024);
    expect(fitsAnswer.statusCode).toBe(200);
    expect(tooBigAnswer.statusCode).toBe(413);
  });
});

describe('body validation', () => {
  interface Prefill {
    attributes: Record<string, string>;
  }
  const validatePrefill: NonNullable<HttpStackOptions<Prefill>['validateBody']> = (body) => {
    const value = body as Partial<Prefill> | null;
    const errors = [];
    if (typeof value?.attributes !== 'object' || value.attributes === null) {
      errors.push({ path: '/attributes', message: 'must be an object' });
    } else {
      for (const [key, v] of Object.entries(value.attributes)) {
        if (typeof v !== 'string') errors.push({ path: `/attributes/${key}`, message: 'must be a string' });
      }
    }
    return errors.length > 0 ? { ok: false, errors } : { ok: true, value: { attributes: value!.attributes! } };
  };

  it('refuses an invalid body with a 400 problem listing every failing path', async () => {
    // Prepare
    const { handler, seen } = recordingStack<Prefill>({ validateBody: validatePrefill });
    const body = { attributes: { tier: 'gold', points: 5, nested: { a: 1 } } };

    // Act
    const answer = await call(handler, httpEvent({ method: 'POST', body, headers: { 'x-request-id': 'req-invalid' } }));

    // Assess
    expect(answer.statusCode).toBe(400);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.json).toEqual({
      type: problemType('validation-error'),
      title: 'Request validation failed',
      status: 400,
      detail: 'The request body is invalid.',
      requestId: 'req-invalid',
      errors: [
        { path: '/attributes/points', message: 'must be a string' },
        { path: '/attributes/nested', message: 'must be a string' },
      ],
    });
    expect(seen).toHaveLength(0);
  });

  it('hands the handler the validated value', async () => {
    // Prepare
    const { handler, seen } = recordingStack<Prefill>({
      validateBody: (body) => ({ ok: true, value: { attributes: { normalised: JSON.stringify(body) } } }),
    });

    // Act
    await call(handler, httpEvent({ method: 'POST', body: { attributes: { a: 'b' } } }));

    // Assess
    expect(seen[0]?.body).toEqual({ attributes: { normalised: '{"attributes":{"a":"b"}}' } });
  });

  it('is not reached when the body is not JSON', async () => {
    // Prepare
    const validateBody = vi.fn(validatePrefill);
    const { handler } = recordingStack<Prefill>({ validateBody });

    // Act
    const answer = await call(handler, httpEvent({ method: 'POST', body: '{oops' }));

    // Assess
    expect(answer.statusCode).toBe(400);
    expect(answer.json?.['type']).toBe(problemType('malformed-json'));
    expect(validateBody).not.toHaveBeenCalled();
  });
});

describe('typed errors thrown by the handler', () => {
  it.each([
    {
      error: new ValidationError('sessionId must be a UUID.', [{ path: '/sessionId', message: 'must be a UUID' }]),
      status: 400,
      type: 'validation-error',
      title: 'Request validation failed',
      extra: { errors: [{ path: '/sessionId', message: 'must be a UUID' }] },
    },
    { error: new UnauthorizedError('The signature does not match.'), status: 401, type: 'unauthorized', title: 'Unauthorized', extra: {} },
    { error: new NotFoundError('The session is unknown or has expired.'), status: 404, type: 'not-found', title: 'Not found', extra: {} },
    { error: new ConflictError('The guest kept changing.'), status: 409, type: 'conflict', title: 'Conflict', extra: {} },
    {
      error: new PayloadTooLargeError('The attributes are 10241 bytes; the limit is 10240.'),
      status: 413,
      type: 'payload-too-large',
      title: 'Payload too large',
      extra: {},
    },
    {
      error: new PreconditionRequiredError('If-Match is required.'),
      status: 428,
      type: 'precondition-required',
      title: 'Precondition required',
      extra: {},
    },
    {
      error: new DependencyError('Genesys did not answer in time.', 504),
      status: 504,
      type: 'dependency-failure',
      title: 'Upstream dependency failed',
      extra: {},
    },
    {
      error: new DependencyError('Genesys failed.', undefined, { extensions: { upstream: 'genesys' } }),
      status: 502,
      type: 'dependency-failure',
      title: 'Upstream dependency failed',
      extra: { upstream: 'genesys' },
    },
  ])('$error.name ($status) becomes its problem', async ({ error, status, type, title, extra }) => {
    // Prepare
    const handler = throwingStack(error);

    // Act
    const answer = await call(handler, httpEvent({ method: 'GET', headers: { 'x-request-id': 'req-typed' } }));

    // Assess
    expect(answer.statusCode).toBe(status);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.json).toEqual({
      type: problemType(type),
      title,
      status,
      detail: error.message,
      requestId: 'req-typed',
      ...extra,
    });
    expect(answer.text).not.toContain('    at ');
  });

  it('a throttled dependency answers 503 with Retry-After', async () => {
    // Prepare
    const handler = throwingStack(new DependencyError('Genesys is throttling.', 503, { retryAfterSeconds: 7.2 }));

    // Act
    const answer = await call(handler, httpEvent());

    // Assess
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['retry-after']).toBe('8');
    expect(answer.json?.['type']).toBe(problemType('dependency-failure'));
  });

  it('error answers carry the security headers too', async () => {
    // Prepare
    const handler = throwingStack(new NotFoundError('gone'));

    // Act
    const answer = await call(handler, httpEvent());

    // Assess
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.headers['strict-transport-security']).toMatch(/^max-age=/);
  });
});

describe('unexpected failures', () => {
  it('an Error becomes a 500 problem quoting the request id, without its message or stack', async () => {
    // Prepare
    const error = new Error('connect ECONNREFUSED 10.0.0.12:5432 for jane.doe@enterprise.com');
    const handler = throwingStack(error);

    // Act
    const answer = await call(handler, httpEvent({ method: 'POST', body: {}, headers: { 'x-request-id': 'req-500' } }));

    // Assess
    expect(answer.statusCode).toBe(500);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.json).toEqual({
      type: problemType('internal-error'),
      title: 'Internal error',
      status: 500,
      detail: 'The request could not be completed. Quote request id req-500 when reporting this.',
      requestId: 'req-500',
    });
    expect(answer.text).not.toContain('ECONNREFUSED');
    expect(answer.text).not.toContain('jane.doe');
    expect(answer.text).not.toContain(error.stack!.split('\n')[1]!.trim());
    expect(answer.text).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it.each([
    ['a string', 'kaboom'],
    ['undefined', undefined],
    ['null', null],
    ['an object with a status code', { statusCode: 418, message: 'teapot' }],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'id')")],
  ])('throwing %s also becomes a 500 problem', async (_case, thrown) => {
    // Prepare
    const handler = throwingStack(thrown);

    // Act
    const answer = await call(handler, httpEvent());

    // Assess
    expect(answer.statusCode).toBe(500);
    expect(answer.json?.['type']).toBe(problemType('internal-error'));
    expect(answer.text).not.toContain('teapot');
    expect(answer.text).not.toContain('reading');
  });

  it('a misconfigured function answers 500 service-misconfigured without naming its settings', async () => {
    // Prepare
    const config = configAtColdStart(['crm'], { env: { CRM_CREDENTIALS_SECRET_ID: 'crm', CRM_BASE_URL: 'crm.internal' } });
    const handler = httpStack(async () => ({ statusCode: 200, body: { url: config().crm.baseUrl } })) as unknown as WrappedHttpHandler;

    // Act
    const answer = await call(handler, httpEvent({ headers: { 'x-request-id': 'req-config' } }));

    // Assess
    expect(answer.statusCode).toBe(500);
    expect(answer.json).toEqual({
      type: problemType('service-misconfigured'),
      title: 'Service misconfigured',
      status: 500,
      detail: 'The request could not be completed. Quote request id req-config when reporting this.',
      requestId: 'req-config',
    });
    expect(answer.text).not.toContain('CRM_BASE_URL');
    expect(answer.text).not.toContain('crm.internal');
  });
});

describe('the handler never throws', () => {
  const scenarios: { name: string; handler: () => WrappedHttpHandler; event: () => ReturnType<typeof httpEvent>; status: number }[] = [
    { name: 'malformed JSON', handler: () => recordingStack().handler, event: () => httpEvent({ method: 'POST', body: '{' }), status: 400 },
    { name: 'missing body', handler: () => recordingStack().handler, event: () => httpEvent({ method: 'POST', headers: { 'content-type': 'application/json' } }), status: 400 },
    {
      name: 'wrong content type',
      handler: () => recordingStack().handler,
      event: () => httpEvent({ method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } }),
      status: 415,
    },
    { name: 'body too large', handler: () => recordingStack({ maxBodyBytes: 1 }).handler, event: () => httpEvent({ method: 'POST', body: '{}' }), status: 413 },
    {
      name: 'validation failure',
      handler: () => recordingStack({ validateBody: () => ({ ok: false, errors: [{ path: '/', message: 'no' }] }) }).handler,
      event: () => httpEvent({ method: 'POST', body: {} }),
      status: 400,
    },
    { name: 'a throwing validator', handler: () => recordingStack({ validateBody: () => { throw new Error('validator bug'); } }).handler, event: () => httpEvent({ method: 'POST', body: {} }), status: 500 },
    { name: 'a typed error', handler: () => throwingStack(new PreconditionRequiredError('If-Match is required.')), event: () => httpEvent({ method: 'PATCH', body: {} }), status: 428 },
    { name: 'a Retry-After error', handler: () => throwingStack(new DependencyError('slow down', 503, { retryAfterSeconds: 2 })), event: () => httpEvent(), status: 503 },
    { name: 'an unexpected error', handler: () => throwingStack(new Error('bug')), event: () => httpEvent(), status: 500 },
    { name: 'a thrown string', handler: () => throwingStack('bug'), event: () => httpEvent(), status: 500 },
    {
      name: 'a handler result that cannot be serialised',
      handler: () => recordingStack({}, () => ({ statusCode: 200, body: { big: 1n } })).handler,
      event: () => httpEvent(),
      status: 500,
    },
  ];

  it.each(scenarios)('$name resolves to a $status problem answer', async ({ handler, event, status }) => {
    // Act
    const result = handler()(event(), lambdaContext());

    // Assess
    await expect(result).resolves.toMatchObject({ statusCode: status, headers: { 'content-type': 'application/problem+json' } });
  });
});

describe('what the stack logs', () => {
  it('logs a refused request at info with its status, problem type and request id', async () => {
    // Prepare
    const handler = throwingStack(new NotFoundError('The session is unknown.'));

    // Act
    await call(handler, httpEvent({ headers: { 'x-request-id': 'req-log-404' } }));

    // Assess
    const [entry] = output.logged('Request refused');
    expect(entry).toMatchObject({
      level: 'INFO',
      status: 404,
      problemType: problemType('not-found'),
      requestId: 'req-log-404',
      function_request_id: LAMBDA_REQUEST_ID,
    });
  });

  it('logs an unexpected failure at error with the error, identifiers masked', async () => {
    // Prepare
    const handler = throwingStack(new Error('lookup failed for jane.doe@enterprise.com / 555-123-4567'));

    // Act
    await call(handler, httpEvent({ headers: { 'x-request-id': 'req-log-500' } }));

    // Assess
    const [entry] = output.logged('Request failed');
    expect(entry).toMatchObject({ level: 'ERROR', status: 500, requestId: 'req-log-500' });
    expect((entry?.['error'] as { message: string }).message).toBe(`lookup failed for ${'*'.repeat(23)} / ***-***-****`);
    expect(output.text()).not.toContain('jane.doe@enterprise.com');
    expect(output.text()).not.toContain('555-123-4567');
  });

  it('never writes the identifiers or credentials a handler logs', async () => {
    // Prepare
    const handler = httpStack(async (request) => {
      logger.info('Prefill received', {
        email: 'jane.doe@enterprise.com',
        contact: { phone: '(555) 123-4567', notes: 'SSN 123-45-6789 on file' },
        headers: request.headers,
        body: request.body,
      });
      logger.warn('Caller said: reach me at +44 20 7946 0958');
      return { statusCode: 200, body: { ok: true } };
    }) as unknown as WrappedHttpHandler;
    const event = httpEvent({
      method: 'POST',
      body: { attributes: { email: 'john.roe@example.org', phone: '555.987.6543' } },
      headers: { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl', cookie: 'session=abc123' },
    });

    // Act
    const answer = await call(handler, event);

    // Assess
    expect(answer.statusCode).toBe(200);
    const text = output.text();
    expect(output.logged('Prefill received')).toHaveLength(1);
    for (const secret of [
      'jane.doe@enterprise.com',
      '(555) 123-4567',
      '123-45-6789',
      '+44 20 7946 0958',
      'john.roe@example.org',
      '555.987.6543',
      'eyJhbGciOiJIUzI1NiJ9',
      'c2lnbmF0dXJl',
      'session=abc123',
    ]) {
      expect(text).not.toContain(secret);
    }
    const [entry] = output.logged('Prefill received');
    expect(entry?.['headers']).toMatchObject({ authorization: '[redacted]', cookie: '[redacted]' });
  });
});
