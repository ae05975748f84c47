/**
 * The demo's request runner: sends one HTTP request to the local stack, bounded in time,
 * and keeps what a person needs to judge it (method, path, expected and actual status).
 */

/** One request the demo made and how it went. */
export interface DemoStep {
  /** What the step shows, in plain words. */
  title: string;
  method: string;
  /** The path without the host (ids shortened by the printer, not here). */
  path: string;
  expected: number;
  actual: number | 'no answer';
  ok: boolean;
  /** Why a step is not ok beyond its status (a wrong body), or the network error. */
  note?: string;
  /** The parsed JSON body, if any. */
  body?: unknown;
  headers?: Headers;
}

/** What `send` needs for one request. */
export interface DemoRequest {
  title: string;
  method: 'GET' | 'POST' | 'PATCH';
  base: string;
  path: string;
  expected: number;
  headers?: Record<string, string>;
  /** A string is sent as is (a signed webhook body must be the exact bytes); anything else as JSON. */
  body?: unknown;
  timeoutMs?: number;
}

/** Sends one request; never throws (a network failure is a step with `actual: 'no answer'`). */
export async function send(request: DemoRequest): Promise<DemoStep> {
  const base = { title: request.title, method: request.method, path: request.path, expected: request.expected };
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  let body: string | undefined;
  if (request.body !== undefined) {
    body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
    headers['content-type'] ??= 'application/json';
  }
  try {
    const response = await fetch(`${request.base}${request.path}`, {
      method: request.method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(request.timeoutMs ?? 15_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    const ok = response.status === request.expected;
    const problem = !ok && parsed && typeof parsed === 'object' ? (parsed as { title?: string; detail?: string }) : undefined;
    // Not a problem document (serverless-offline's own answers, e.g. a Lambda timeout): show its start.
    const unexplained = !ok && !problem?.title && !problem?.detail && text !== '' ? text.replace(/\s+/g, ' ').slice(0, 120) : undefined;
    return {
      ...base,
      actual: response.status,
      ok,
      body: parsed,
      headers: response.headers,
      ...(problem?.title || problem?.detail ? { note: [problem.title, problem.detail].filter(Boolean).join(': ') } : {}),
      ...(unexplained ? { note: `answered: ${unexplained}` } : {}),
    };
  } catch (error) {
    return { ...base, actual: 'no answer', ok: false, note: error instanceof Error ? error.message : String(error) };
  }
}

/** Marks a step failed because its body is not what the README documents. */
export function failStep(step: DemoStep, note: string): void {
  step.ok = false;
  step.note = step.note ? `${step.note}; ${note}` : note;
}

/** POSTs JSON to a sandbox or control route; throws when it is refused (the demo cannot go on meaningfully). */
export async function control(url: string, body?: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${new URL(url).pathname} answered ${response.status}: ${text.slice(0, 200)}`);
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

/** GETs JSON from a sandbox or control route. */
export async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`GET ${new URL(url).pathname} answered ${response.status}`);
  return (await response.json()) as T;
}
