/**
 * docs/genesys/prechat-data-action.json, the Web Services Data Action an admin imports,
 * held against the route it calls so the two cannot drift: its shape is Genesys's custom
 * action export (the SDK's `ActionConfig` / `ActionContractInput` models), its request
 * template (rendered by a Velocity engine) produces bodies `POST /prechat/enrich` accepts,
 * and its translation map and success template turn the route's real answers into output
 * that satisfies its own output contract.
 */
import { readFile } from 'node:fs/promises';
import Ajv from 'ajv';
import type { Models } from 'purecloud-platform-client-v2';
import { render } from 'velocityjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CustomerLookupResult } from '#lib/crm';
import { enrichPrechat, validatePrechatBody } from '#lib/prechat';
import type { PrechatResult } from '#lib/prechat/enrich.ts';
import { prechatSchema } from '#lib/prechat/schema.ts';
import { captureOutput, type CapturedOutput } from '#test/support/lambda.ts';

interface JsonSchema {
  $schema?: string;
  type: string;
  required?: string[];
  properties: Record<string, { type: string; description?: string }>;
  additionalProperties?: boolean;
}

interface DataActionExport {
  name: string;
  integrationType: string;
  actionType: string;
  config: Models.ActionConfig & { request: Required<Pick<Models.RequestConfig, 'requestUrlTemplate' | 'requestType' | 'headers' | 'requestTemplate'>>; response: Required<Pick<Models.ResponseConfig, 'translationMap' | 'translationMapDefaults' | 'successTemplate'>> };
  contract: { input: { inputSchema: JsonSchema }; output: { successSchema: JsonSchema } };
  secure: boolean;
}

const action = JSON.parse(await readFile('docs/genesys/prechat-data-action.json', 'utf8')) as DataActionExport;
const { request, response } = action.config;
const inputSchema = action.contract.input.inputSchema;
const successSchema = action.contract.output.successSchema;

const CONVERSATION = '5c9e2f4a-1b3d-4e6f-8a7b-9c0d1e2f3a4b';
const PARTICIPANT = '7d1f3a5b-2c4e-4f60-9b8a-0d1e2f3a4b5c';

/**
 * Genesys's Velocity context for a custom action: `$input` (the inputs Architect set;
 * an unset one is absent), `$esc.jsonString` (JSON string escaping without the quotes).
 */
const velocity = (template: string, input: Record<string, string>): string =>
  render(template, { input, esc: { jsonString: (value: unknown) => JSON.stringify(String(value)).slice(1, -1) } });

/** The route's own answers, from `enrichPrechat` with the CRM knowing the guest fully, or not at all. */
async function routeAnswer(lookup: CustomerLookupResult): Promise<PrechatResult> {
  return enrichPrechat(
    { conversationId: CONVERSATION, participantId: PARTICIPANT, surveyAnswers: { email: 'jane@example.com' } },
    {
      genesys: { call: async () => ({ status: 202, body: undefined }) },
      lookup: { lookup: async () => lookup },
      identitySalt: async () => 'docs-salt',
      routingQueues: { platinum: 'q-plat', standard: 'q-std' },
      queueUrl: 'http://127.0.0.1:1/000000000000/crm-sync',
      enqueue: async () => ({ messageIds: new Map(), pending: [] }),
    },
  );
}
const FULL: CustomerLookupResult = {
  outcome: 'found',
  fromCache: false,
  customer: { id: 'cust-1', firstName: 'Jane', lastName: 'Doe', loyaltyTier: 'platinum', accountStatus: 'active', loyaltyPoints: 120 },
};
const NONE: CustomerLookupResult = { outcome: 'not_found', fromCache: false };

/**
 * What Genesys does with the route's JSON answer: each translation map entry (a JSONPath;
 * this action uses top-level `$.name` paths only) picks a value, its default stands in when
 * the path finds nothing, and the success template is rendered with each value as JSON.
 */
function translate(answer: Record<string, unknown>): unknown {
  const values: Record<string, string> = {};
  for (const [name, path] of Object.entries(response.translationMap)) {
    const key = /^\$\.([A-Za-z][A-Za-z0-9]*)$/.exec(path)?.[1];
    if (key === undefined) throw new Error(`translation map ${name}: ${path} is not a top-level JSONPath`);
    if (Object.hasOwn(answer, key)) values[name] = JSON.stringify(answer[key]);
    else if (Object.hasOwn(response.translationMapDefaults, name)) values[name] = response.translationMapDefaults[name]!;
    else throw new Error(`translation map ${name}: ${path} found nothing and has no default`);
  }
  return JSON.parse(render(response.successTemplate, values));
}

let output: CapturedOutput;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => output.restore());

const withoutMeta = ({ $schema: _meta, ...schema }: JsonSchema): Omit<JsonSchema, '$schema'> => schema;

describe('docs/genesys/prechat-data-action.json: the export format', () => {
  it('is a Web Services Data Action custom action', () => {
    expect(action).toMatchObject({ integrationType: 'custom-rest-actions', actionType: 'custom', secure: false });
    expect(action.name).toMatch(/\S/);
    expect(Object.keys(action).sort()).toEqual(['actionType', 'config', 'contract', 'integrationType', 'name', 'secure']);
  });

  it('fills only fields of the SDK models ActionConfig, RequestConfig and ResponseConfig', () => {
    // Prepare: each list is checked against the SDK model by the type checker.
    const configKeys: Array<keyof Models.ActionConfig> = ['timeoutSeconds', 'request', 'response'];
    const requestKeys: Array<keyof Models.RequestConfig> = ['requestUrlTemplate', 'requestType', 'headers', 'requestTemplate'];
    const responseKeys: Array<keyof Models.ResponseConfig> = ['translationMap', 'translationMapDefaults', 'successTemplate'];

    // Assess
    expect(Object.keys(action.config).sort()).toEqual([...configKeys].sort());
    expect(Object.keys(request).sort()).toEqual([...requestKeys].sort());
    expect(Object.keys(response).sort()).toEqual([...responseKeys].sort());
    expect(Object.keys(action.contract.input)).toEqual(['inputSchema']);
    expect(Object.keys(action.contract.output)).toEqual(['successSchema']);
  });

  it('waits longer than the function may run, so the flow always gets the route its answer', async () => {
    // Prepare
    const block = /\n {2}prechatEnrich:\n([\s\S]*?)\n {2}\S/.exec(await readFile('serverless.yml', 'utf8'))?.[1] ?? '';
    const lambdaTimeout = Number(/\n {4}timeout: (\d+)/.exec(block)?.[1]);

    // Assess
    expect(lambdaTimeout).toBeGreaterThan(0);
    expect(action.config.timeoutSeconds).toBeGreaterThan(lambdaTimeout);
    expect(action.config.timeoutSeconds).toBeLessThanOrEqual(60);
  });
});

describe('docs/genesys/prechat-data-action.json: the request matches the route', () => {
  it('POSTs JSON over https to the path serverless.yml gives the function, with the integration token', async () => {
    // Prepare
    const block = /\n {2}prechatEnrich:\n([\s\S]*?)\n {2}\S/.exec(await readFile('serverless.yml', 'utf8'))?.[1] ?? '';

    // Assess
    expect(block).toContain('method: POST');
    expect(block).toContain('path: /prechat/enrich');
    expect(request.requestType).toBe('POST');
    expect(new URL(request.requestUrlTemplate)).toMatchObject({ protocol: 'https:', pathname: '/prechat/enrich' });
    expect(request.headers).toEqual({ Authorization: 'Bearer ${authResponse.access_token}', 'Content-Type': 'application/json', Accept: 'application/json' });
  });

  it('declares one input per field of the route body, required where the route requires it', () => {
    // Prepare
    const survey = prechatSchema['properties'].surveyAnswers;
    const routeFields = ['conversationId', 'participantId', ...Object.keys(survey.properties)];

    // Assess
    expect(Object.keys(inputSchema.properties).sort()).toEqual([...routeFields].sort());
    expect(inputSchema.required?.sort()).toEqual((prechatSchema['required'] as string[]).filter((name) => name !== 'surveyAnswers').sort());
    for (const property of Object.values(inputSchema.properties)) expect(property.type).toBe('string');
    expect(inputSchema.type).toBe('object');
  });

  it('uses no input it does not declare', () => {
    // Act
    const used = new Set([...`${request.requestTemplate}${request.requestUrlTemplate}`.matchAll(/\$!?\{?input\.([A-Za-z0-9_]+)/g)].map((m) => m[1]));

    // Assess
    expect([...used].sort()).toEqual(Object.keys(inputSchema.properties).sort());
  });

  it.each<[string, Record<string, string>, Record<string, string>]>([
    ['every answer', { email: 'jane@example.com', phone: '+44 20 7946 0958', subject: 'Refund', priority: 'high' }, { email: 'jane@example.com', phone: '+44 20 7946 0958', subject: 'Refund', priority: 'high' }],
    ['only an email (the other inputs left unset)', { email: 'jane@example.com' }, { email: 'jane@example.com' }],
    ['only a phone', { phone: '555-123-4567' }, { phone: '555-123-4567' }],
    ['a subject with quotes, a backslash and a line break', { email: 'jane@example.com', subject: 'My "order" \\ 42\nplease' }, { email: 'jane@example.com', subject: 'My "order" \\ 42\nplease' }],
  ])('renders a body the route accepts as is, for %s', (_case, answers, expected) => {
    // Act
    const body = JSON.parse(velocity(request.requestTemplate, { conversationId: CONVERSATION, participantId: PARTICIPANT, ...answers })) as unknown;

    // Assess
    expect(validatePrechatBody(body)).toEqual({ ok: true, value: { conversationId: CONVERSATION, participantId: PARTICIPANT, surveyAnswers: expected } });
  });

  it('renders a body the route refuses with 400 when the flow sets neither email nor phone', () => {
    // Act
    const body = JSON.parse(velocity(request.requestTemplate, { conversationId: CONVERSATION, participantId: PARTICIPANT, subject: 'Hello' })) as unknown;

    // Assess
    expect(validatePrechatBody(body)).toEqual({ ok: false, errors: [{ path: '/surveyAnswers', message: 'must include email or phone' }] });
  });
});

describe('docs/genesys/prechat-data-action.json: the output matches the route', () => {
  it('declares exactly the fields of the 200 body, required where the route always answers them', async () => {
    // Prepare
    const full = await routeAnswer(FULL);
    const bare = await routeAnswer(NONE);

    // Assess
    expect(Object.keys(successSchema.properties).sort()).toEqual(Object.keys(full).sort());
    expect(successSchema.required?.sort()).toEqual(Object.keys(bare).sort());
    for (const [name, value] of Object.entries(full)) expect([name, successSchema.properties[name]?.type]).toEqual([name, typeof value]);
  });

  it('maps every output field from the field of the same name, with a default for each optional one', () => {
    // Prepare
    const optional = Object.keys(successSchema.properties).filter((name) => !successSchema.required?.includes(name));

    // Assess
    expect(response.translationMap).toEqual(Object.fromEntries(Object.keys(successSchema.properties).map((name) => [name, `$.${name}`])));
    expect(Object.keys(response.translationMapDefaults).sort()).toEqual(optional.sort());
  });

  it.each([
    ['a customer the CRM knows', FULL],
    ['a guest the CRM does not know', NONE],
  ])('turns the answer for %s into output its contract accepts', async (_case, lookup) => {
    // Prepare
    const answer = await routeAnswer(lookup);
    const validate = new Ajv({ strict: false }).compile(withoutMeta(successSchema));

    // Act
    const output = translate(answer as unknown as Record<string, unknown>) as Record<string, unknown>;

    // Assess
    expect(validate(output)).toBe(true);
    expect(output).toMatchObject({ ...answer });
  });

  it('gives Architect "" and 0 rather than nothing for what the CRM did not know', async () => {
    // Act
    const output = translate((await routeAnswer(NONE)) as unknown as Record<string, unknown>);

    // Assess
    expect(output).toEqual({
      status: 'enriched',
      enriched: false,
      conversationId: CONVERSATION,
      routingQueue: 'standard',
      routingQueueId: 'q-std',
      loyaltyTier: 'standard',
      accountStatus: 'active',
      customerId: '',
      firstName: '',
      lastName: '',
      loyaltyPoints: 0,
    });
  });
});
