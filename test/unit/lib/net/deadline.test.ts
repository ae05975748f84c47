/**
 * The hard deadlines of outbound calls: `awsCall` around AWS SDK calls (a real client
 * against a loopback server that never answers, and a stubbed client) and `withDeadline`
 * around anything else. Each rejects at its deadline whatever the call does, aborts what
 * is in flight, and leaves no timer behind once the call has settled.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { awsCall, awsRequestHandler, withDeadline } from '#lib/net';
import type { AwsAbortSignal } from '#lib/net/aws.ts';
import { DeadlineExceededError } from '#lib/net/errors.ts';
import { startStalledServer, type ScriptedServer } from '#test/support/scripted-server.ts';

/** A loopback server that reads each request and never answers; counts connections closed by the client. */
let server: ScriptedServer;
let endpoint: string;

beforeAll(async () => {
  server = await startStalledServer();
  endpoint = server.url;
});
afterAll(() => server.close());
afterEach(() => {
  vi.useRealTimers();
});

const getItem = new GetItemCommand({ TableName: 'state', Key: { pk: { S: 'session#1' } } });

describe('awsCall', () => {
  it('gives up on an endpoint that never answers at its deadline, and closes the connection it held', async () => {
    // Prepare: the client's own request timeout is far longer than the deadline
    const client = new DynamoDBClient({
      endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      requestHandler: awsRequestHandler(60_000),
      maxAttempts: 1,
    });
    const heldBefore = server.requests.length;
    const closedBefore = server.closedConnections();

    // Act
    const outcome = await awsCall(300, (options) => client.send(getItem, options)).catch((error: unknown) => error);

    // Assess: a TimeoutError of the deadline, and the stalled request aborted (its socket closed)
    expect(server.requests).toHaveLength(heldBefore + 1);
    expect(outcome).toBeInstanceOf(DeadlineExceededError);
    expect(outcome).toMatchObject({ name: 'TimeoutError', timeoutMs: 300 });
    const waitUntil = Date.now() + 5_000;
    while (server.closedConnections() === closedBefore && Date.now() < waitUntil) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(server.closedConnections()).toBe(closedBefore + 1);
    client.destroy();
  });

  it('answers with what a stubbed client answers, plain values included', async () => {
    // Prepare
    const dynamo = mockClient(DynamoDBClient);
    dynamo.on(GetItemCommand).callsFake(() => ({ Item: { pk: { S: 'session#1' } } }));
    const client = new DynamoDBClient({ region: 'eu-west-1' });

    // Act
    const result = await awsCall(1_000, (options) => client.send(getItem, options));

    // Assess
    expect(result.Item).toEqual({ pk: { S: 'session#1' } });
    dynamo.restore();
  });

  it('rejects at the deadline even when the call ignores its signal, and aborts the attempt in flight once', async () => {
    // Prepare
    vi.useFakeTimers();
    let signal: AwsAbortSignal | undefined;
    const onabort = vi.fn();

    // Act
    const outcome = awsCall(250.2, (options) => {
      signal = options.abortSignal;
      signal.onabort = onabort;
      return new Promise<never>(() => undefined);
    }).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(250);
    const early = signal?.aborted;
    await vi.advanceTimersByTimeAsync(1);

    // Assess
    expect(early).toBe(false);
    const error = await outcome;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error).toMatchObject({ timeoutMs: 251 });
    expect(signal).toMatchObject({ aborted: true, reason: error });
    expect(onabort).toHaveBeenCalledTimes(1);
  });

  it('leaves no timer and aborts nothing once the call has answered or failed', async () => {
    // Prepare
    vi.useFakeTimers();
    const signals: AwsAbortSignal[] = [];
    const onabort = vi.fn();
    const capture = (options: { abortSignal: AwsAbortSignal }): AwsAbortSignal => {
      options.abortSignal.onabort = onabort;
      signals.push(options.abortSignal);
      return options.abortSignal;
    };

    // Act
    const answered = await awsCall(1_000, async (options) => (capture(options), 'answer'));
    const failed = await awsCall(1_000, async (options) => {
      capture(options);
      throw new Error('refused');
    }).catch((error: unknown) => error);
    const thrown = await awsCall(1_000, (options) => {
      capture(options);
      throw new Error('thrown before any request');
    }).catch((error: unknown) => error);
    const timersLeft = vi.getTimerCount();
    await vi.advanceTimersByTimeAsync(5_000);

    // Assess
    expect(answered).toBe('answer');
    expect(failed).toMatchObject({ message: 'refused' });
    expect(thrown).toMatchObject({ message: 'thrown before any request' });
    expect(timersLeft).toBe(0);
    expect(onabort).not.toHaveBeenCalled();
    expect(signals.map((signal) => signal.aborted)).toEqual([false, false, false]);
  });
});

describe('withDeadline', () => {
  it('rejects at the deadline even when the call ignores its signal, and aborts that signal with the error', async () => {
    // Prepare
    vi.useFakeTimers();
    let signal: AbortSignal | undefined;

    // Act
    const outcome = withDeadline(100, (s) => {
      signal = s;
      return new Promise<never>(() => undefined);
    }).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(100);

    // Assess
    const error = await outcome;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe(error);
  });

  it('aborts the call when the outer signal aborts first', async () => {
    // Prepare
    const outer = new AbortController();
    let signal: AbortSignal | undefined;

    // Act
    const outcome = withDeadline(60_000, (s) => {
      signal = s;
      return new Promise<never>((_, reject) => s.addEventListener('abort', () => reject(s.reason)));
    }, outer.signal).catch((error: unknown) => error);
    outer.abort(new Error('caller gave up'));

    // Assess
    expect(await outcome).toMatchObject({ message: 'caller gave up' });
    expect(signal?.aborted).toBe(true);
  });

  it("rejects with the caller's own error at the deadline, and still aborts the signal with the deadline's", async () => {
    // Prepare
    vi.useFakeTimers();
    let signal: AbortSignal | undefined;
    const own = new Error('the CRM did not answer in time');

    // Act
    const outcome = withDeadline(100, (s) => {
      signal = s;
      return new Promise<never>(() => undefined);
    }, { expired: () => own }).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(100);

    // Assess
    expect(await outcome).toBe(own);
    expect(signal?.reason).toBeInstanceOf(DeadlineExceededError);
  });

  it('answers with the result, turns a synchronous throw into a rejection, and leaves no timer', async () => {
    // Prepare
    vi.useFakeTimers();

    // Act
    const answered = await withDeadline(1_000, async () => 42);
    const thrown = await withDeadline(1_000, () => {
      throw new Error('bad input');
    }).catch((error: unknown) => error);

    // Assess
    expect(answered).toBe(42);
    expect(thrown).toMatchObject({ message: 'bad input' });
    expect(vi.getTimerCount()).toBe(0);
  });
});
