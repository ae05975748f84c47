import httpJsonBodyParser from '@middy/http-json-body-parser';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ConflictError,
  DependencyError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionRequiredError,
  UnauthorizedError,
  ValidationError,
} from '#lib/errors';
import { GuestSyncNotQueuedError, GuestUpdateConflictError } from '#lib/guests/errors.ts';
import { EnqueueError } from '#lib/jobs';
import { problemType, toProblem } from '#lib/lambda/problem.ts';
import { PrechatSyncNotQueuedError } from '#lib/prechat/errors.ts';
import { AttributesTooLargeError, SyncNotQueuedError } from '#lib/prefill/errors.ts';
import { SessionStoreError } from '#lib/state';
import { StaleEventError } from '#lib/webhook/errors.ts';
import { DeploymentUnavailableError } from '#lib/widget/errors.ts';

const REQUEST_ID = 'req-problem-1';

/** What middy's JSON body parser really throws for a request with these headers and body. */
async function parserError(headers: Record<string, string>, body: string): Promise<unknown> {
  try {
    await httpJsonBodyParser().before?.({ event: { headers, body } } as never);
  } catch (error) {
    return error;
  }
  throw new Error('expected the body parser to refuse the request');
}

describe('toProblem', () => {
  it('names problem types as stable URNs', () => {
    // Assess
    expect(problemType('not-found')).toBe('urn:genesys-guest-sync:problem:not-found');
  });

  describe('typed errors keep their status, title and message', () => {
    it.each([
      [new ValidationError('bad', [{ path: '/a', message: 'must be a string' }]), 400, 'validation-error', 'Request validation failed'],
      [new UnauthorizedError('bad signature'), 401, 'unauthorized', 'Unauthorized'],
      [new NotFoundError('no such session'), 404, 'not-found', 'Not found'],
      [new ConflictError('still conflicting'), 409, 'conflict', 'Conflict'],
      [new PayloadTooLargeError('10241 bytes'), 413, 'payload-too-large', 'Payload too large'],
      [new PreconditionRequiredError('If-Match is required'), 428, 'precondition-required', 'Precondition required'],
      [new DependencyError('upstream failed'), 502, 'dependency-failure', 'Upstream dependency failed'],
      [new DependencyError('throttled', 503), 503, 'dependency-failure', 'Upstream dependency failed'],
      [new DependencyError('timed out', 504), 504, 'dependency-failure', 'Upstream dependency failed'],
    ])('%s -> %i', (error, status, type, title) => {
      // Act
      const problem = toProblem(error, REQUEST_ID);

      // Assess
      expect(problem.statusCode).toBe(status);
      expect(problem.document).toMatchObject({ type: problemType(type), title, status, detail: error.message, requestId: REQUEST_ID });
      expect(problem.expected).toBe(status < 500);
    });
  });

  it('lists the failing paths of a ValidationError in errors[]', () => {
    // Prepare
    const errors = [
      { path: '/attributes/a', message: 'must not be an object' },
      { path: '/consent/b', message: 'must not be null' },
    ];

    // Act
    const problem = toProblem(new ValidationError('invalid', errors), REQUEST_ID);

    // Assess
    expect(problem.document.errors).toEqual(errors);
  });

  it('adds no errors[] to other problems', () => {
    // Act
    const problem = toProblem(new NotFoundError('gone'), REQUEST_ID);

    // Assess
    expect(problem.document).not.toHaveProperty('errors');
  });

  it.each([
    [0.2, '1'],
    [1, '1'],
    [7.2, '8'],
    [120, '120'],
  ])('sends Retry-After for a dependency asking to wait %s s as %s', (seconds, header) => {
    // Act
    const problem = toProblem(new DependencyError('throttled', 503, { retryAfterSeconds: seconds }), REQUEST_ID);

    // Assess
    expect(problem.headers).toEqual({ 'Retry-After': header });
  });

  it('adds a dependency error extensions, which cannot overwrite the standard members', () => {
    // Prepare
    const error = new DependencyError('upstream failed', 502, {
      extensions: { upstream: 'crm', status: 200, type: 'spoofed', requestId: 'spoofed' },
    });

    // Act
    const problem = toProblem(error, REQUEST_ID);

    // Assess
    expect(problem.document).toEqual({
      upstream: 'crm',
      type: problemType('dependency-failure'),
      title: 'Upstream dependency failed',
      status: 502,
      detail: 'upstream failed',
      requestId: REQUEST_ID,
    });
  });

  it('copies the headers so the error cannot be changed through the answer', () => {
    // Prepare
    const error = new DependencyError('throttled', 503, { retryAfterSeconds: 5 });

    // Act
    const problem = toProblem(error, REQUEST_ID);
    problem.headers['Retry-After'] = '999';

    // Assess
    expect(error.headers['Retry-After']).toBe('5');
  });

  it('answers malformed JSON from the body parser with 400 malformed-json', async () => {
    // Prepare
    const error = await parserError({ 'content-type': 'application/json' }, '{"a":');

    // Act
    const problem = toProblem(error, REQUEST_ID);

    // Assess
    expect(problem).toEqual({
      statusCode: 400,
      headers: {},
      document: {
        type: problemType('malformed-json'),
        title: 'Malformed JSON body',
        status: 400,
        detail: 'The request body is missing or is not valid JSON.',
        requestId: REQUEST_ID,
        errors: [{ path: '/', message: 'must be a valid JSON document' }],
      },
      expected: true,
    });
  });

  it('answers a wrong content type from the body parser with 415', async () => {
    // Prepare
    const error = await parserError({ 'content-type': 'text/csv' }, 'a,b');

    // Act
    const problem = toProblem(error, REQUEST_ID);

    // Assess
    expect(problem.statusCode).toBe(415);
    expect(problem.document).toEqual({
      type: problemType('unsupported-media-type'),
      title: 'Unsupported media type',
      status: 415,
      detail: 'The request body must be JSON (Content-Type: application/json).',
      requestId: REQUEST_ID,
    });
    expect(problem.expected).toBe(true);
  });

  it('does not trust a status code on an error that did not come from the parser', () => {
    // Act
    const problem = toProblem(Object.assign(new Error('some other middleware'), { statusCode: 401 }), REQUEST_ID);

    // Assess
    expect(problem.statusCode).toBe(500);
  });

  it.each([
    ['an Error', new Error('SELECT * FROM guests WHERE email = jane@example.com')],
    ['a string', 'raw failure'],
    ['undefined', undefined],
    ['an object', { message: 'secret', stack: 'at secret.ts:1' }],
  ])('hides %s behind a 500 that only quotes the request id', (_case, error) => {
    // Act
    const problem = toProblem(error, REQUEST_ID);

    // Assess
    expect(problem).toEqual({
      statusCode: 500,
      headers: {},
      document: {
        type: problemType('internal-error'),
        title: 'Internal error',
        status: 500,
        detail: `The request could not be completed. Quote request id ${REQUEST_ID} when reporting this.`,
        requestId: REQUEST_ID,
      },
      expected: false,
    });
  });

  it('reports a ConfigError as service-misconfigured without naming the variables', () => {
    // Act
    const problem = toProblem(new ConfigError('Invalid configuration: CRM_BASE_URL is required', ['CRM_BASE_URL']), REQUEST_ID);

    // Assess
    expect(problem.statusCode).toBe(500);
    expect(problem.document.type).toBe(problemType('service-misconfigured'));
    expect(problem.document.title).toBe('Service misconfigured');
    expect(JSON.stringify(problem.document)).not.toContain('CRM_BASE_URL');
    expect(problem.expected).toBe(false);
  });
});

describe('each typed error a service throws -> its problem', () => {
  const conversationId = 'c0c0c0c0-0000-4000-8000-000000000001';
  const cases: Array<[string, Error, { statusCode: number; headers: Record<string, string>; document: Record<string, unknown> }]> = [
    [
      'AttributesTooLargeError (prefill)',
      new AttributesTooLargeError(10_300, 10_240),
      {
        statusCode: 413,
        headers: {},
        document: {
          byteSize: 10_300,
          maxBytes: 10_240,
          type: problemType('payload-too-large'),
          title: 'Payload too large',
          status: 413,
          detail: 'The processed attributes serialise to 10300 bytes; Genesys accepts at most 10240 bytes. Nothing was sent.',
        },
      },
    ],
    [
      'SyncNotQueuedError (prefill)',
      new SyncNotQueuedError('s-1', 'prefill-1', 'pending'),
      {
        statusCode: 502,
        headers: {},
        document: {
          sessionId: 's-1',
          syncJobId: 'prefill-1',
          attributesPrepared: true,
          attributesApplied: false,
          syncQueued: false,
          type: problemType('sync-not-queued'),
          title: 'Attributes prepared, CRM sync not queued',
          status: 502,
          detail:
            'The attributes of session s-1 were prepared, but CRM sync job prefill-1 could not be queued. ' +
            'The job was logged for replay; sending the same request again prepares the same attributes and queues the same job.',
        },
      },
    ],
    [
      'SessionStoreError (state table unavailable)',
      new SessionStoreError('s-1', new Error('unavailable')),
      {
        statusCode: 503,
        headers: { 'Retry-After': '1' },
        document: {
          sessionId: 's-1',
          type: problemType('dependency-failure'),
          title: 'Upstream dependency failed',
          status: 503,
          detail: 'The prepared session s-1 could not be stored (the state table is unavailable). Retry the request.',
        },
      },
    ],
    [
      'GuestSyncNotQueuedError after the queue refused the job',
      new GuestSyncNotQueuedError('g-1', 'guest-1', new EnqueueError(['guest-1'])),
      {
        statusCode: 502,
        headers: {},
        document: {
          guestId: 'g-1',
          syncJobId: 'guest-1',
          guestWritten: true,
          type: problemType('dependency-failure'),
          title: 'Upstream dependency failed',
          status: 502,
          detail: '1 CRM sync job(s) could not be queued.',
        },
      },
    ],
    [
      'GuestSyncNotQueuedError after an unexpected failure',
      new GuestSyncNotQueuedError('g-1', 'guest-1', new Error('socket hang up')),
      {
        statusCode: 502,
        headers: {},
        document: {
          guestId: 'g-1',
          syncJobId: 'guest-1',
          guestWritten: true,
          type: problemType('dependency-failure'),
          title: 'Upstream dependency failed',
          status: 502,
          detail: 'The CRM sync job could not be queued.',
        },
      },
    ],
    [
      'GuestUpdateConflictError while another request holds the guest',
      new GuestUpdateConflictError('g-1', 'busy', 1, ['attributes.tier']),
      {
        statusCode: 409,
        headers: {},
        document: {
          guestId: 'g-1',
          attempts: 1,
          conflictingFields: ['attributes.tier'],
          type: problemType('conflict'),
          title: 'Conflict',
          status: 409,
          detail: 'Guest g-1 is being updated by another request; the update of attributes.tier was not applied. Try again.',
        },
      },
    ],
    [
      'GuestUpdateConflictError after every attempt was taken over',
      new GuestUpdateConflictError('g-1', 'taken-over', 3, ['attributes.tier', 'consent.marketing']),
      {
        statusCode: 409,
        headers: {},
        document: {
          guestId: 'g-1',
          attempts: 3,
          conflictingFields: ['attributes.tier', 'consent.marketing'],
          type: problemType('conflict'),
          title: 'Conflict',
          status: 409,
          detail:
            'Guest g-1 was taken over by another writer during each of 3 attempts; the update of attributes.tier, consent.marketing was not applied. Read the guest and try again.',
        },
      },
    ],
    [
      'PrechatSyncNotQueuedError',
      new PrechatSyncNotQueuedError(conversationId, 'q-gold', 'prechat-1', new EnqueueError(['prechat-1'])),
      {
        statusCode: 502,
        headers: {},
        document: {
          conversationId,
          routingQueueId: 'q-gold',
          attributesApplied: true,
          syncJobId: 'prechat-1',
          type: problemType('dependency-failure'),
          title: 'Upstream dependency failed',
          status: 502,
          detail: '1 CRM sync job(s) could not be queued.',
        },
      },
    ],
    [
      'StaleEventError (webhook)',
      new StaleEventError('The event timestamp is 600 s in the past; at most 300 s either way is accepted.'),
      {
        statusCode: 400,
        headers: {},
        document: {
          type: problemType('stale-event'),
          title: 'Event timestamp out of range',
          status: 400,
          detail: 'The event timestamp is 600 s in the past; at most 300 s either way is accepted.',
        },
      },
    ],
    [
      'EnqueueError (webhook)',
      new EnqueueError(['webhook-1', 'webhook-2']),
      {
        statusCode: 502,
        headers: {},
        document: {
          type: problemType('dependency-failure'),
          title: 'Upstream dependency failed',
          status: 502,
          detail: '2 CRM sync job(s) could not be queued.',
        },
      },
    ],
    [
      'DeploymentUnavailableError (widget)',
      new DeploymentUnavailableError('dep-1', 'Inactive'),
      {
        statusCode: 503,
        headers: {},
        document: {
          deploymentId: 'dep-1',
          deploymentStatus: 'Inactive',
          type: problemType('deployment-unavailable'),
          title: 'Messenger deployment unavailable',
          status: 503,
          detail: 'Web deployment dep-1 is Inactive, not Active; the Messenger cannot be served until it is active again.',
        },
      },
    ],
  ];

  it.each(cases)('%s', (_name, error, expected) => {
    // Act
    const problem = toProblem(error, REQUEST_ID);

    // Assess
    expect(problem).toEqual({ ...expected, document: { ...expected.document, requestId: REQUEST_ID }, expected: expected.statusCode < 500 });
  });
});
