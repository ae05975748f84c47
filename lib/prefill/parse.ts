/**
 * JSON parsing of the prefill body inside the handler. The prefill route takes its body
 * raw from the HTTP stack so that even an unparseable request is audited as an attempt;
 * parsing still goes through middy's JSON body parser, so the route answers exactly the
 * 415 / 400 problems every other route does.
 */
import httpJsonBodyParser from '@middy/http-json-body-parser';

const parser = httpJsonBodyParser();

/** The body as JSON; middy's errors (unsupported media type, malformed JSON) propagate as is. */
export async function parseJsonBody(rawBody: Buffer, headers: Record<string, string | undefined>): Promise<unknown> {
  const request = { event: { headers, body: rawBody.length === 0 ? undefined : rawBody.toString('utf8'), isBase64Encoded: false } };
  await parser.before?.(request as never);
  return request.event.body;
}
