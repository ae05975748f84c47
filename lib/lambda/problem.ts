/**
 * RFC 9457 problem details: the one place where errors become HTTP answers.
 */
import { AppError, ConfigError, ValidationError, type FieldError } from '#lib/errors';

/** Problem type URIs are URNs under the suite's name, stable across stages. */
export const problemType = (slug: string): string => `urn:genesys-guest-sync:problem:${slug}`;

/** The problem document the API answers with. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  requestId: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** A problem ready to send: status, headers and the document. */
export interface ProblemResponse {
  statusCode: number;
  headers: Record<string, string>;
  document: ProblemDocument;
}

/** middy's own HTTP errors (body parser, etc.) carry a statusCode and expose flag. */
interface MiddyHttpError {
  statusCode: number;
  message: string;
  cause?: { package?: string };
}

const isMiddyHttpError = (error: unknown): error is MiddyHttpError =>
  typeof error === 'object' && error !== null && typeof (error as MiddyHttpError).statusCode === 'number';

/**
 * Turns any thrown value into a problem. Typed errors keep their status and detail;
 * middy's parser errors become 400/415; anything else is a 500 whose detail only names
 * the request id to quote (never a message or stack trace).
 */
export function toProblem(error: unknown, requestId: string): ProblemResponse & { expected: boolean } {
  if (error instanceof AppError) {
    const document: ProblemDocument = {
      ...error.extensions,
      type: problemType(error.type),
      title: error.title,
      status: error.status,
      detail: error.publicDetail,
      requestId,
    };
    if (error instanceof ValidationError) document.errors = error.errors;
    return { statusCode: error.status, headers: { ...error.headers }, document, expected: error.status < 500 };
  }
  if (isMiddyHttpError(error) && error.cause?.package === '@middy/http-json-body-parser') {
    const unsupported = error.message === 'Unsupported Media Type';
    const status = unsupported ? 415 : 400;
    return {
      statusCode: status,
      headers: {},
      document: {
        type: problemType(unsupported ? 'unsupported-media-type' : 'malformed-json'),
        title: unsupported ? 'Unsupported media type' : 'Malformed JSON body',
        status,
        detail: unsupported
          ? 'The request body must be JSON (Content-Type: application/json).'
          : 'The request body is missing or is not valid JSON.',
        requestId,
        ...(unsupported ? {} : { errors: [{ path: '/', message: 'must be a valid JSON document' }] }),
      },
      expected: true,
    };
  }
  const misconfigured = error instanceof ConfigError;
  return {
    statusCode: 500,
    headers: {},
    document: {
      type: problemType(misconfigured ? 'service-misconfigured' : 'internal-error'),
      title: misconfigured ? 'Service misconfigured' : 'Internal error',
      status: 500,
      detail: `The request could not be completed. Quote request id ${requestId} when reporting this.`,
      requestId,
    },
    expected: false,
  };
}
