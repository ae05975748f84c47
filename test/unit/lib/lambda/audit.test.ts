/**
 * The audit of an attempt, as the HTTP stack runs it: one line per attempt that reached the
 * route, whatever its outcome, carrying what the route noted and the status and problem
 * type the caller was answered with.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, NotFoundError, ValidationError } from '#lib/errors';
import { httpStack, type AttemptAudit } from '#lib/lambda';
import type { HttpRequest, HttpResult } from '#lib/lambda/http.ts';
import type { AuditedAttempt } from '#lib/lambda/audit.ts';
import { problemType } from '#lib/lambda/problem.ts';
import { httpEvent } from '#test/support/factories.ts';
import { captureOutput, type CapturedOutput } from '#test/support/lambda.ts';
import { call, type WrappedHttpHandler } from './support.ts';

interface Facts {
  orderId: string;
  items: number;
}

/** An audit that writes every attempt it sees (with its facts) and counts how often it was asked. */
function recordingAudit(overrides: Partial<AttemptAudit<Facts>> = {}) {
  const attempts: AuditedAttempt<Facts>[] = [];
  const audit: AttemptAudit<Facts> = {
    line: (attempt) => ({ auditId: attempt.auditId, status: attempt.status, failed: attempt.failed, problemType: attempt.problemType ?? 'none', ...attempt.facts }),
    count: (attempt) => {
      attempts.push(attempt);
    },
    ...overrides,
  };
  return { audit, attempts };
}

const routeWith = (
  audit: AttemptAudit<Facts>,
  work: (request: HttpRequest<unknown, Facts>) => Promise<HttpResult>,
  options: { maxBodyBytes?: number } = {},
): WrappedHttpHandler => httpStack<unknown, Facts>(work, { ...options, audit }) as unknown as WrappedHttpHandler;

const order = (body: unknown = { items: ['a', 'b'] }, headers: Record<string, string> = {}) =>
  httpEvent({ method: 'POST', path: '/orders', body, headers: { 'x-request-id': 'audit-test-1', ...headers }, claims: { sub: 'client-7' } });

let output: CapturedOutput;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => output.restore());

describe('the audit middleware', () => {
  it('writes one line for a successful attempt, with the facts the route noted and the status it answered', async () => {
    // Prepare
    const { audit, attempts } = recordingAudit();
    const handler = routeWith(audit, async (request) => {
      request.audit.orderId = 'order-1';
      request.audit.items = 2;
      return { statusCode: 201, body: { id: 'order-1' } };
    });
    const event = order();
    const sent = Buffer.byteLength(event.body as string);

    // Act
    const answer = await call(handler, event);

    // Assess
    expect(answer.statusCode).toBe(201);
    expect(output.logged('audit')).toEqual([
      expect.objectContaining({ auditId: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 201, failed: false, problemType: 'none', orderId: 'order-1', items: 2, requestId: 'audit-test-1' }),
    ]);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({
      requestId: 'audit-test-1',
      requestBytes: sent,
      claims: { sub: 'client-7' },
      latencyMs: expect.any(Number),
      endedAt: expect.any(Date),
    });
  });

  describe.each([
    ['a typed error', new NotFoundError('no such order'), 404, 'not-found'],
    ['a validation error', new ValidationError('bad order', [{ path: '/items', message: 'must not be empty' }]), 400, 'validation-error'],
    ['a misconfiguration', new ConfigError('Invalid configuration: ORDERS_TABLE is required', ['ORDERS_TABLE']), 500, 'service-misconfigured'],
    ['an unexpected error', new Error('boom'), 500, 'internal-error'],
  ])('when the route throws %s', (_case, error, status, type) => {
    it(`audits the attempt as failed with the ${status} ${type} problem the caller is answered`, async () => {
      // Prepare
      const { audit, attempts } = recordingAudit();
      const handler = routeWith(audit, async (request) => {
        request.audit.orderId = 'order-2';
        throw error;
      });

      // Act
      const answer = await call(handler, order());

      // Assess
      expect(answer.statusCode).toBe(status);
      expect(answer.json?.['type']).toBe(problemType(type));
      expect(output.logged('audit')).toEqual([
        expect.objectContaining({ status, failed: true, problemType: problemType(type), orderId: 'order-2' }),
      ]);
      expect(attempts.map((attempt) => attempt.error)).toEqual([error]);
    });
  });

  it('audits a body that fails the route schema (the attempt reached the route)', async () => {
    // Prepare
    const { audit } = recordingAudit();
    const handler = httpStack<unknown, Facts>(async () => ({ statusCode: 200 }), {
      audit,
      validateBody: () => ({ ok: false, errors: [{ path: '/items', message: 'is required' }] }),
    }) as unknown as WrappedHttpHandler;

    // Act
    const answer = await call(handler, order({}));

    // Assess
    expect(answer.statusCode).toBe(400);
    expect(output.logged('audit')).toEqual([expect.objectContaining({ status: 400, failed: true, problemType: problemType('validation-error') })]);
  });

  it('does not audit a request refused before the route (a body over the size limit)', async () => {
    // Prepare
    const { audit, attempts } = recordingAudit();
    const handler = routeWith(audit, async () => ({ statusCode: 200 }), { maxBodyBytes: 8 });

    // Act
    const answer = await call(handler, order({ items: ['far', 'too', 'long'] }));

    // Assess
    expect(answer.statusCode).toBe(413);
    expect(output.logged('audit')).toEqual([]);
    expect(attempts).toEqual([]);
  });

  it('writes nothing when the route’s audit has no line for the attempt, and still counts it', async () => {
    // Prepare
    const { audit, attempts } = recordingAudit({ line: () => undefined });
    const handler = routeWith(audit, async () => ({ statusCode: 204 }));

    // Act
    await call(handler, order());

    // Assess
    expect(output.logged('audit')).toEqual([]);
    expect(attempts).toHaveLength(1);
  });

  it('writes the line under the message the route names', async () => {
    // Prepare
    const { audit } = recordingAudit({ message: 'Order audit' });
    const handler = routeWith(audit, async () => ({ statusCode: 200 }));

    // Act
    await call(handler, order());

    // Assess
    expect(output.logged('Order audit')).toHaveLength(1);
    expect(output.logged('audit')).toEqual([]);
  });

  it('never changes the answer when the audit itself fails, and says so in the log', async () => {
    // Prepare
    const { audit } = recordingAudit({
      line: () => {
        throw new Error('audit broke');
      },
    });
    const handler = routeWith(audit, async () => ({ statusCode: 200, body: { ok: true } }));

    // Act
    const answer = await call(handler, order());

    // Assess
    expect(answer).toMatchObject({ statusCode: 200, json: { ok: true } });
    expect(output.logged('Audit of the attempt failed')).toHaveLength(1);
  });

  it('keeps the facts of each attempt apart', async () => {
    // Prepare
    const { audit } = recordingAudit();
    const handler = routeWith(audit, async (request) => {
      const body = request.body as { id: string };
      request.audit.orderId = body.id;
      return { statusCode: 200 };
    });

    // Act
    await Promise.all([call(handler, order({ id: 'first' })), call(handler, order({ id: 'second' }))]);

    // Assess
    expect(output.logged('audit').map((line) => line['orderId']).sort()).toEqual(['first', 'second']);
  });

  it('writes no audit line on a route without an audit', async () => {
    // Prepare
    const handler = httpStack(async () => ({ statusCode: 200 })) as unknown as WrappedHttpHandler;

    // Act
    await call(handler, order());

    // Assess
    expect(output.logged('audit')).toEqual([]);
  });
});
