/**
 * PII corpus: identifiers (emails including unicode ones, phone numbers in national, E.164
 * and grouped forms, SSNs) go through every route and the CRM sync worker; then what the
 * suite itself writes is scanned for them in plain text:
 * - every line the functions logged (the stack's serverless-offline output file),
 * - every message on the CRM sync queue (read with the worker paused) and in the DLQ,
 * - every error body a route answered,
 * - the EMF metrics file and a fresh metrics report (the scheduled function, fired),
 * - what Genesys and the CRM stored (the sandboxes' state, without their request logs).
 * Not scanned: what the routes send to the CRM by contract (the CRM lookup takes email and
 * phone; the widget configuration answers its own caller's claims), and success bodies,
 * which hold hashes and masked values by contract.
 *
 * Issue 10's formats go through every route as free text and as JSON numbers, under
 * identifier keys in any case (`Email`, `Mobile`, `ssn`), and as keys (refused with 400).
 *
 * The corpus is random per run, so lines an earlier run appended to the log cannot match.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ChangeMessageVisibilityBatchCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signPayload } from '#lib/webhook';
import { mintLocalToken } from '#local/tokens.ts';
import { localSqsClient } from '#local/sqs.ts';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { localDynamoDbClient } from '#local/dynamodb.ts';
import { dlqMessages } from '#test/support/invariant.ts';
import { crmState, genesysState, machineToken, purge, queueDepth, resetSandboxes, setWorkerPaused, stack, until } from '#test/support/stack.ts';

const digits = (count: number): string => Array.from({ length: count }, () => String(randomInt(10))).join('');
const tag = digits(6);
const line = digits(4);

/** The corpus: every identifier, in the form a caller sends it. */
const corpus = {
  emails: [`jane.${tag}@example.com`, `Zoë.Müller${tag}@exämple.de`, `用户${tag}@例子.公司`, `o'brien+${tag}@mail.example.co.uk`],
  phones: [`+1415555${line}`, `(415) 555-${line}`, `415.555.${line}`, `+44 20 7946 ${line}`, `020 7946 ${line}`, `+1 (212) 555-${line}`],
  ssns: [`${randomInt(100, 665)}-${digits(2).replace(/^00$/, '12')}-${line.replace(/^0000$/, '1234')}`],
};
/** Issue 10's formats, used in free text, numbers and keys (not as the guests' own `email` / `phone` fields). */
const area = `${randomInt(2, 10)}${digits(2)}`;
const exchange = digits(3);
const fullWidth = (text: string): string => text.replace(/\d/g, (d) => String.fromCodePoint(0xff10 + Number(d)));
const issue10 = {
  emails: [`user${tag}@localhost`, `user${tag}@[192.0.2.${randomInt(1, 255)}]`, `user${tag}@xn--bcher-kva.de`, `user${tag}@bücher.de`, `"jane ${tag}"@example.com`],
  phones: [
    `+44 (0)20 7946 ${line}`,
    `0044 20 7946 ${line}`,
    `(+33) 6 12 ${tag.slice(0, 2)} ${line.slice(0, 2)} ${line.slice(2)}`,
    `1${area}${exchange}${line}`,
    `447911${tag}`,
    `call_${area}${exchange}${line}`,
    fullWidth(`${area}${exchange}${line}`),
  ],
  ssns: [`${randomInt(100, 665)}.${randomInt(10, 100)}.${line}`],
  /** Nine bare digits: an SSN only under a key that names one. */
  bareSsn: `${randomInt(100, 665)}${randomInt(10, 100)}${line}`,
  /** A phone number written as a JSON number. */
  numberPhone: Number(`${area}${exchange}${line}`),
};
/** A conversation a guest's first message started (the Messenger simulator), as pre-chat's Data Action names it. */
async function liveConversation(): Promise<{ conversationId: string; participantId: string }> {
  const response = await fetch(`${stack().genesysUrl}/__sandbox/messenger/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const started = (await response.json()) as { conversationId: string; customerParticipantId: string };
  return { conversationId: started.conversationId, participantId: started.customerParticipantId };
}
const identifiers = [...corpus.emails, ...corpus.phones, ...corpus.ssns, ...issue10.emails, ...issue10.phones, ...issue10.ssns, issue10.bareSsn];

/**
 * The plain-text forms to look for: each identifier as sent (emails case-insensitively),
 * and the bare digits of phones and SSNs (a value logged without its separators).
 */
const asciiDigits = (value: string): string => value.replace(/[\uff10-\uff19]/g, (d) => String((d.codePointAt(0) as number) - 0xff10)).replace(/\D/g, '');
const needles = (): string[] => [
  ...identifiers.map((value) => value.toLowerCase()),
  ...[...corpus.phones, ...corpus.ssns, ...issue10.phones, ...issue10.ssns].map(asciiDigits),
  // The national part alone (a number logged without its country code or trunk prefix).
  ...issue10.phones.map((value) => asciiDigits(value).slice(-9)),
];
const leaksIn = (where: string, text: string): string[] => {
  const lower = text.toLowerCase();
  return needles()
    .filter((needle) => lower.includes(needle))
    .map((needle) => `${where}: ${needle}`);
};

/**
 * The function output in the serverless-offline log: without the emulator's own request
 * lines ("POST /sessions/<path> (λ: prefill)", "Running JWT Authorization function for
 * post /sessions/<path>"), which echo the raw request path as API Gateway access logs would.
 */
const functionLines = (log: string): string =>
  log
    .split('\n')
    .filter((line) => !/^(Running JWT Authorization function for \w+ \/|(GET|POST|PUT|PATCH|DELETE|OPTIONS|HEAD) \/\S* \(λ: )/.test(line.replace(/\x1b\[[0-9;]*m/g, '').trim()))
    .join('\n');

let writeToken: string;
let webhookSecret: string;
const errorBodies: string[] = [];
/** The prefilled sessions (the first one's job is dead-lettered). */
const sessions: string[] = [];
const queueBodies: string[] = [];

const call = async (path: string, init: { method?: string; token?: string | undefined; body?: string; headers?: Record<string, string> }): Promise<number> => {
  const response = await fetch(`${stack().apiUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await response.text();
  if (response.status >= 400) errorBodies.push(`${init.method ?? 'GET'} ${path.replace(/\/[^/]*@[^/]*/, '/<id>')} ${response.status}: ${text}`);
  return response.status;
};

const json = (value: unknown): string => JSON.stringify(value);

/** Every message on the CRM sync queue, read once and made visible again. */
async function queueMessages(): Promise<Message[]> {
  const client = localSqsClient(stack().sqsEndpoint);
  const all: Message[] = [];
  try {
    for (;;) {
      const { Messages } = await client.send(
        new ReceiveMessageCommand({ QueueUrl: stack().queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 30, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
      );
      if (!Messages?.length) break;
      all.push(...Messages);
    }
    for (let i = 0; i < all.length; i += 10) {
      await client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: stack().queueUrl,
          Entries: all.slice(i, i + 10).map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
        }),
      );
    }
    return all;
  } finally {
    client.destroy();
  }
}

/** What each route is sent, and what it answered (statuses, to show the corpus went through). */
const statuses: Record<string, number[]> = {};
const record = (route: string, status: number): void => {
  (statuses[route] ??= []).push(status);
};

beforeAll(async () => {
  writeToken = await machineToken('guest-sync/write');
  const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const secrets = new SecretsManagerClient({ region: 'us-east-1', endpoint: stack().secretsEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  webhookSecret = (JSON.parse((await secrets.send(new GetSecretValueCommand({ SecretId: stack().secretIds.webhook }))).SecretString ?? '{}') as { signingSecret: string }).signingSecret;
  secrets.destroy();
  await resetSandboxes();
  await purge('dlq');
  // The worker paused (its batching window waited out), so the queue can be read whole.
  await setWorkerPaused(true);
  await new Promise((done) => setTimeout(done, 6_500));
  await purge('queue');

  // Prefill: identifiers as identity values, in free text, under other keys; and refusals.
  for (const [i, email] of corpus.emails.entries()) {
    const phone = corpus.phones[i % corpus.phones.length] as string;
    const ssn = corpus.ssns[0] as string;
    const sessionId = randomUUID();
    sessions.push(sessionId);
    const body = { attributes: { email, phone, note: `call ${phone} or write to ${email}; ssn ${ssn}`, contact: email, ssn }, consent: { marketing: 'yes' } };
    record('prefill', await call(`/sessions/${sessionId}/prefill`, { method: 'POST', token: writeToken, body: json(body) }));
    record('prefill (nested value)', await call(`/sessions/${randomUUID()}/prefill`, { method: 'POST', token: writeToken, body: json({ attributes: { email: { value: email }, phone } }) }));
    record('prefill (non-UUID path)', await call(`/sessions/${encodeURIComponent(email)}/prefill`, { method: 'POST', token: writeToken, body: json({ attributes: { email } }) }));
  }
  for (const phone of corpus.phones) {
    record('prefill', await call(`/sessions/${randomUUID()}/prefill`, { method: 'POST', token: writeToken, body: json({ attributes: { phone, mobile: phone } }) }));
  }

  // Webhook: identifiers in the attributes, accepted and refused (stale timestamp, bad signature).
  for (const [i, email] of corpus.emails.entries()) {
    const event = {
      eventId: randomUUID(),
      event: 'guest.session.attributes.updated',
      sessionId: randomUUID(),
      attributes: { email, phone: corpus.phones[i % corpus.phones.length], note: `ssn ${corpus.ssns[0]}` },
      timestamp: new Date(Date.now() - 1_000).toISOString(),
    };
    const text = json(event);
    const headers = { 'x-hub-signature-256': signPayload(webhookSecret, Buffer.from(text)) };
    record('webhook', await call('/webhooks/genesys', { method: 'POST', body: text, headers }));
    const stale = json({ ...event, timestamp: new Date(Date.now() - 60 * 60_000).toISOString() });
    record('webhook (stale)', await call('/webhooks/genesys', { method: 'POST', body: stale, headers: { 'x-hub-signature-256': signPayload(webhookSecret, Buffer.from(stale)) } }));
    record('webhook (bad signature)', await call('/webhooks/genesys', { method: 'POST', body: text, headers: { 'x-hub-signature-256': signPayload('wrong', Buffer.from(text)) } }));
  }

  // Guests: created with identifiers, patched, and refused (raw identifiers where hashes belong).
  for (const [i, email] of corpus.emails.entries()) {
    const phone = corpus.phones[i % corpus.phones.length] as string;
    const response = await fetch(`${stack().apiUrl}/guests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${writeToken}`, 'content-type': 'application/json' },
      body: json({ email, phone, consent: { marketing: false, dataProcessing: true }, attributes: { note: `reach me at ${email} / ${phone}`, ssn: corpus.ssns[0] } }),
    });
    record('guests create', response.status);
    const created = (await response.json()) as { id?: string };
    const etag = response.headers.get('etag') ?? '"1"';
    if (response.status >= 400) errorBodies.push(`POST /guests ${response.status}: ${json(created)}`);
    if (created.id) {
      record('guests patch', await call(`/guests/${created.id}`, { method: 'PATCH', token: writeToken, headers: { 'if-match': etag }, body: json({ email, attributes: { note: `now ${phone}` } }) }));
      record('guests patch (no If-Match)', await call(`/guests/${created.id}`, { method: 'PATCH', token: writeToken, body: json({ phone }) }));
    }
    record('guests create (raw identity)', await call('/guests', { method: 'POST', token: writeToken, body: json({ consent: { marketing: false, dataProcessing: true }, identityAttributes: { email, emailHash: phone } }) }));
    record('guests get (non-UUID)', await call(`/guests/${encodeURIComponent(email)}`, { token: writeToken }));
  }

  // Pre-chat: the survey's identifiers, and a refusal.
  for (const [i, email] of corpus.emails.entries()) {
    const phone = corpus.phones[i % corpus.phones.length] as string;
    record('prechat', await call('/prechat/enrich', { method: 'POST', token: writeToken, body: json({ ...(await liveConversation()), surveyAnswers: { email, phone, subject: `ssn ${corpus.ssns[0]}` } }) }));
    record('prechat (bad body)', await call('/prechat/enrich', { method: 'POST', token: writeToken, body: json({ ...(await liveConversation()), surveyAnswers: { email: [email], phone: { n: phone } } }) }));
  }

  // Widget configuration: identifiers in the caller's claims.
  for (const [i, email] of corpus.emails.entries()) {
    const token = await mintLocalToken({ sub: `usr_${tag}_${i}`, audience: 'widget', email, phoneNumber: corpus.phones[i % corpus.phones.length] as string, name: 'Jane Doe', tier: 'gold' });
    record('widget config', await call('/widget/config', { token }));
  }

  // Issue 10's formats on every route: in free text, as JSON numbers, under identifier keys in any case.
  const leadEmail = corpus.emails[0] as string;
  for (const [i, phone] of issue10.phones.entries()) {
    const email = issue10.emails[i % issue10.emails.length] as string;
    const ssn = issue10.ssns[0] as string;
    const note = `call ${phone}, mail ${email}, ssn ${ssn}`;
    const free = { note, Email: leadEmail, Mobile: phone, ssn: issue10.bareSsn, callback: issue10.numberPhone };
    record('prefill (issue 10)', await call(`/sessions/${randomUUID()}/prefill`, { method: 'POST', token: writeToken, body: json({ attributes: { ...free, PHONE: corpus.phones[0] } }) }));
    const event = json({ eventId: randomUUID(), event: 'guest.session.attributes.updated', sessionId: randomUUID(), attributes: free, timestamp: new Date(Date.now() - 1_000).toISOString() });
    record('webhook (issue 10)', await call('/webhooks/genesys', { method: 'POST', body: event, headers: { 'x-hub-signature-256': signPayload(webhookSecret, Buffer.from(event)) } }));
    const guest = await fetch(`${stack().apiUrl}/guests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${writeToken}`, 'content-type': 'application/json' },
      body: json({ consent: { marketing: false, dataProcessing: true }, attributes: { note, Mobile: phone, ssn: issue10.bareSsn, callback: issue10.numberPhone } }),
    });
    record('guests create (issue 10)', guest.status);
    const created = (await guest.json()) as { id?: string };
    if (created.id) {
      const etag = guest.headers.get('etag') ?? '"1"';
      record('guests patch (issue 10)', await call(`/guests/${created.id}`, { method: 'PATCH', token: writeToken, headers: { 'if-match': etag }, body: json({ attributes: { note: `now ${phone}`, EMAIL: email, callback: issue10.numberPhone } }) }));
    }
    record('prechat (issue 10)', await call('/prechat/enrich', { method: 'POST', token: writeToken, body: json({ ...(await liveConversation()), surveyAnswers: { email: leadEmail, subject: note.slice(0, 200) } }) }));
  }
  // Refused: keys holding identifiers, and characters no hop can store next to identifiers.
  const dotted = `${area}.${exchange}.${line}`;
  const refusals: Array<[string, string, Record<string, unknown>, Record<string, string>?]> = [
    ['prefill', `/sessions/${randomUUID()}/prefill`, { attributes: { tier: 'gold', [`tel.${dotted}`]: 'x' } }],
    ['prefill', `/sessions/${randomUUID()}/prefill`, { attributes: { tier: 'gold', [leadEmail]: 'x' } }],
    ['prefill', `/sessions/${randomUUID()}/prefill`, { attributes: { note: `${leadEmail}\u0000` } }],
    ['guests', '/guests', { consent: { marketing: false, dataProcessing: true }, attributes: { [`ssn-${issue10.ssns[0]?.replace(/\./g, '-')}`]: 'x' } }],
    ['guests', '/guests', { consent: { marketing: false, dataProcessing: true }, attributes: { note: `${issue10.phones[0]}\ufffe` } }],
    ['prechat', '/prechat/enrich', { ...(await liveConversation()), surveyAnswers: { email: leadEmail, subject: `${issue10.phones[1]}\u0007` } }],
  ];
  for (const [route, path, body] of refusals) {
    record(`${route} (refused, issue 10)`, await call(path, { method: 'POST', token: writeToken, body: json(body) }));
  }
  for (const attributes of [{ tier: 'gold', [`tel.${dotted}`]: 'x' }, { [leadEmail]: 'x' }, { note: `${leadEmail}\u0000` }]) {
    const event = json({ eventId: randomUUID(), event: 'guest.session.attributes.updated', sessionId: randomUUID(), attributes, timestamp: new Date(Date.now() - 1_000).toISOString() });
    record('webhook (refused, issue 10)', await call('/webhooks/genesys', { method: 'POST', body: event, headers: { 'x-hub-signature-256': signPayload(webhookSecret, Buffer.from(event)) } }));
  }

  queueBodies.push(...(await queueMessages()).map((m) => json({ body: m.Body, attributes: m.MessageAttributes })));

  // The worker: one prefill job's record is refused by the CRM, so the DLQ holds a letter.
  await fetch(`${stack().crmUrl}/__sandbox/record-failures`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: json({ rules: [{ externalId: sessions[0], code: 'VALIDATION_ERROR', message: 'rejected by the PII corpus test' }] }),
  });
  await setWorkerPaused(false);
  await until(async () => (await queueDepth('queue')) === 0, 60_000, 'the CRM sync queue to drain');
}, 240_000);

afterAll(async () => {
  await resetSandboxes();
  await purge('dlq');
});

describe('the PII corpus through every route and the worker', () => {
  it('reached every route, and the worker synced and dead-lettered its jobs', async () => {
    // Assess: the corpus was accepted where the contract accepts it, so the scan means something
    expect([...new Set(statuses['prefill'])]).toEqual([200]);
    expect([...new Set(statuses['webhook'])]).toEqual([202]);
    // Guests and pre-chat validate `email` as an ASCII address (ajv-formats): the two unicode
    // addresses of the corpus (the 2nd and 3rd) are refused there with 400, and scanned as refusals.
    expect(statuses['guests create']).toEqual([201, 400, 400, 201]);
    expect(statuses['prechat']).toEqual([200, 400, 400, 200]);
    expect([...new Set(statuses['guests patch'])]).toEqual([200]);
    expect([...new Set(statuses['widget config'])]).toEqual([200]);
    for (const refused of ['prefill (nested value)', 'prefill (non-UUID path)', 'webhook (stale)', 'webhook (bad signature)', 'guests patch (no If-Match)', 'guests create (raw identity)', 'guests get (non-UUID)', 'prechat (bad body)']) {
      expect(statuses[refused]?.filter((s) => s < 400 || s >= 500), refused).toEqual([]);
    }
    for (const route of ['prefill (issue 10)', 'webhook (issue 10)', 'guests create (issue 10)', 'guests patch (issue 10)', 'prechat (issue 10)']) {
      expect([...new Set(statuses[route])], route).toEqual([route.startsWith('webhook') ? 202 : route.startsWith('guests create') ? 201 : 200]);
    }
    for (const route of ['prefill (refused, issue 10)', 'guests (refused, issue 10)', 'prechat (refused, issue 10)', 'webhook (refused, issue 10)']) {
      expect([...new Set(statuses[route])], route).toEqual([400]);
    }
    expect(queueBodies.length).toBeGreaterThanOrEqual(corpus.emails.length * 3 + corpus.phones.length + issue10.phones.length * 5);
    expect((await dlqMessages()).length).toBe(1);
  });

  it('left no identifier in plain text in the function logs', async () => {
    // Prepare
    const log = functionLines(await readFile(inject('offlineLog'), 'utf8'));

    // Assess
    expect(log).toContain(sessions[0]);
    expect(leaksIn('log', log)).toEqual([]);
  });

  it('left no identifier in plain text on the queue or in the DLQ', async () => {
    // Prepare
    const dlq = (await dlqMessages()).map((m) => json({ body: m.Body, attributes: m.MessageAttributes }));

    // Assess
    expect(queueBodies.flatMap((body) => leaksIn('queue', body))).toEqual([]);
    expect(dlq.flatMap((body) => leaksIn('dlq', body))).toEqual([]);
  });

  it('left no identifier in plain text in what Genesys and the CRM stored', async () => {
    // Prepare: the sandboxes' state without their request logs (the CRM lookup's query carries email and phone by contract)
    const { requests: _genesysRequests, ...genesys } = await genesysState();
    const { requests: _crmRequests, ...crm } = await crmState();

    // Assess
    expect(Object.keys((genesys as { externalContacts?: object }).externalContacts ?? {}).length).toBeGreaterThan(0);
    expect(leaksIn('genesys', json(genesys))).toEqual([]);
    expect(leaksIn('crm', json(crm))).toEqual([]);
  });

  it('left no identifier in plain text in the state table (prepared sessions, links, leases, outbox)', async () => {
    // Prepare: every item of the state table
    const client = localDynamoDbClient(stack().dynamodbEndpoint);
    const items: Array<Record<string, unknown>> = [];
    try {
      let start: Record<string, any> | undefined;
      do {
        const page = await client.send(new ScanCommand({ TableName: stack().stateTableName, ...(start ? { ExclusiveStartKey: start } : {}) }));
        items.push(...(page.Items ?? []).map((item) => unmarshall(item)));
        start = page.LastEvaluatedKey;
      } while (start);
    } finally {
      client.destroy();
    }

    // Assess: the corpus's prefills are there (masked), and nothing leaks
    expect(items.filter((item) => String(item['pk']).startsWith('session#')).length).toBeGreaterThan(0);
    expect(leaksIn('state table', json(items))).toEqual([]);
  });

  it('answered no error body with an identifier in plain text', () => {
    // Assess
    expect(errorBodies.length).toBeGreaterThan(0);
    expect(errorBodies.flatMap((body) => leaksIn('error body', body))).toEqual([]);
  });

  it('put no identifier in plain text in the metrics or in a fresh report', async () => {
    // Act
    const response = await fetch(`${stack().controlUrl}/__local/schedules/metricsReport`, { method: 'POST' });
    const report = await response.text();
    const emf = await readFile(stack().metricsFile, 'utf8');

    // Assess
    expect(response.status).toBe(200);
    expect(leaksIn('report', report)).toEqual([]);
    expect(leaksIn('metrics', emf)).toEqual([]);
  });
});
