import { describe, expect, it } from 'vitest';
import { ValidationError } from '#lib/errors';
import { containsIdentifier } from '#lib/pii';
import { parseWebhookEvent, webhookJobId } from '#lib/webhook';
import { StaleEventError } from '#lib/webhook/errors.ts';
import { ATTRIBUTES_UPDATED_EVENT, assertFresh, buildWebhookJob } from '#lib/webhook/event.ts';
import type { WebhookEvent } from '#lib/webhook/event.ts';

const SESSION_ID = '3f6c1d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f';
const NOW = Date.parse('2025-01-15T10:30:00.000Z');
const event = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  eventId: 'evt-0001',
  event: ATTRIBUTES_UPDATED_EVENT,
  sessionId: SESSION_ID,
  attributes: { tier: 'gold', visits: 3, vip: true },
  timestamp: '2025-01-15T10:29:30.000Z',
  ...overrides,
});
const bytes = (value: unknown): Buffer => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

describe('parseWebhookEvent', () => {
  describe.each([
    ['an attribute update', event()],
    ['an update without eventId', event({ eventId: undefined })],
    ['an update without attributes', event({ attributes: undefined })],
    ['an update with an offset timestamp', event({ timestamp: '2025-01-15T11:29:30+01:00' })],
    ['another event type without a session', { event: 'conversation.ended', timestamp: '2025-01-15T10:29:30Z' }],
    ['an event with extra fields Genesys added', event({ region: 'eu-west-1', version: 2 })],
  ])('accepts %s', (_case, body) => {
    it('returns the event', () => {
      // Act
      const parsed = parseWebhookEvent(bytes(body));

      // Assess
      expect(parsed).toEqual(JSON.parse(JSON.stringify(body)));
    });
  });

  describe.each([
    ['malformed JSON', '{"event": "guest.session', '/'],
    ['an empty body', '', '/'],
    ['a JSON array', '[]', '/'],
    ['no event', event({ event: undefined }), '/event'],
    ['no timestamp', event({ timestamp: undefined }), '/timestamp'],
    ['a timestamp that is not a date-time', event({ timestamp: 'yesterday' }), '/timestamp'],
    ['an epoch-number timestamp', event({ timestamp: 1736937000000 }), '/timestamp'],
    ['an impossible date', event({ timestamp: '2025-02-30T25:61:00Z' }), '/timestamp'],
    ['an update without a session id', event({ sessionId: undefined }), '/sessionId'],
    ['an update whose session id is not a UUID', event({ sessionId: 'session-1' }), '/sessionId'],
    ['nested attributes', event({ attributes: { address: { city: 'Paris' } } }), '/attributes/address'],
    ['null attribute values', event({ attributes: { tier: null } }), '/attributes/tier'],
  ])('refuses %s', (_case, body, path) => {
    it(`with a 400 naming ${path}`, () => {
      // Act
      const act = () => parseWebhookEvent(bytes(body));

      // Assess
      expect(act).toThrow(ValidationError);
      try {
        act();
      } catch (error) {
        expect((error as ValidationError).errors.map((e) => e.path)).toContain(path);
      }
    });
  });
});

describe('assertFresh', () => {
  describe.each([
    ['30 s old', '2025-01-15T10:29:30.000Z'],
    ['exactly 5 minutes old', '2025-01-15T10:25:00.000Z'],
    ['exactly 5 minutes ahead', '2025-01-15T10:35:00.000Z'],
  ])('an event %s', (_case, timestamp) => {
    it('is fresh', () => {
      // Act
      const act = () => assertFresh(event({ timestamp }) as unknown as WebhookEvent, NOW);

      // Assess
      expect(act).not.toThrow();
    });
  });

  describe.each([
    ['5 minutes and 1 ms old', '2025-01-15T10:24:59.999Z', /past/],
    ['an hour old', '2025-01-15T09:30:00.000Z', /3600 s in the past/],
    ['10 minutes ahead', '2025-01-15T10:40:00.000Z', /600 s in the future/],
  ])('an event %s', (_case, timestamp, message) => {
    it('is refused as stale (400)', () => {
      // Act
      const act = () => assertFresh(event({ timestamp }) as unknown as WebhookEvent, NOW);

      // Assess
      expect(act).toThrow(StaleEventError);
      expect(act).toThrow(message);
    });
  });
});

describe('webhookJobId', () => {
  it('is the same for a redelivery with the same eventId, whatever else differs', () => {
    // Act
    const first = webhookJobId(event() as unknown as WebhookEvent);
    const redelivered = webhookJobId(event({ timestamp: '2025-01-15T10:29:45.000Z' }) as unknown as WebhookEvent);

    // Assess
    expect(redelivered).toBe(first);
  });

  it('without eventId, is a hash of the body: same content, same id, whatever the key order', () => {
    // Prepare
    const a = event({ eventId: undefined });
    const reordered = Object.fromEntries(Object.entries(a).reverse());

    // Act
    const ids = [a, reordered].map((body) => webhookJobId(JSON.parse(JSON.stringify(body)) as WebhookEvent));

    // Assess
    expect(ids[0]).toMatch(/^webhook-[0-9a-f]{32}$/);
    expect(ids[1]).toBe(ids[0]);
  });

  it('without eventId, differs when the content differs', () => {
    // Act
    const a = webhookJobId(event({ eventId: undefined }) as unknown as WebhookEvent);
    const b = webhookJobId(event({ eventId: undefined, attributes: { tier: 'silver' } }) as unknown as WebhookEvent);

    // Assess
    expect(b).not.toBe(a);
  });
});

describe('buildWebhookJob', () => {
  it('makes a webhook job for the session, stamped with the event time', () => {
    // Act
    const job = buildWebhookJob(event({ sessionId: SESSION_ID.toUpperCase() }) as unknown as WebhookEvent, new Date(NOW));

    // Assess
    expect(job).toEqual({
      v: 1,
      kind: 'crm.upsert',
      jobId: webhookJobId(event() as unknown as WebhookEvent),
      source: 'webhook',
      enqueuedAt: '2025-01-15T10:30:00.000Z',
      record: {
        externalId: SESSION_ID,
        attributes: { tier: 'gold', visits: 3, vip: true },
        lastInteraction: '2025-01-15T10:29:30.000Z',
        sourceUpdatedAt: '2025-01-15T10:29:30.000Z',
      },
    });
  });

  it('masks identifiers in attributes and leaves out the identity keys', () => {
    // Prepare
    const body = event({
      attributes: { email: 'jane@example.com', phone: '+14155552671', note: 'call 555-123-4567', ssn: '123-45-6789', callback: 5551234567 },
    });

    // Act
    const job = buildWebhookJob(body as unknown as WebhookEvent);

    // Assess
    expect(job.record.attributes).toEqual({ note: 'call ***-***-****', ssn: '***-**-****', callback: '***-***-****' });
    expect(containsIdentifier(JSON.stringify(job))).toBe(false);
  });
});

describe('parseWebhookEvent refuses attributes no hop can carry', () => {
  it.each([
    ['NUL in a value', { note: 'a\u0000b' }, '/attributes/note', 'U+0000'],
    ['U+FFFE in a value', { note: '\ufffe' }, '/attributes/note', 'U+FFFE'],
    ['a lone surrogate in a value', { note: 'x\udfff' }, '/attributes/note', 'U+DFFF'],
    ['a control character in a key', { tier: 'gold', 'a\u0001': 'x' }, '/attributes/1', '2nd key'],
    ['a key holding a phone number', { tier: 'gold', 'tel.555.123.4567': 'x' }, '/attributes/1', '2nd key'],
    ['a key holding an email', { 'jane@example.com': 'x' }, '/attributes/0', '1st key'],
    ['keys equal but for case', { Email: 'a@b.co', email: 'c@d.co' }, '/attributes/email', '/attributes/Email'],
  ])('%s: 400 at the right path, never repeating the key', (_case, attributes, path, text) => {
    // Prepare: the body as a relay sends it (JSON escapes the characters)
    const raw = bytes(event({ attributes }));

    // Act
    let caught: unknown;
    try {
      parseWebhookEvent(raw);
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).errors).toEqual([{ path, message: expect.stringContaining(text) }]);
    expect(JSON.stringify((caught as ValidationError).errors)).not.toMatch(/555|jane/);
  });
});

describe('buildWebhookJob masks as every route does', () => {
  it('leaves out identity keys in any case and masks values under identifier keys whole', () => {
    // Prepare
    const body = event({ attributes: { Email: 'jane@example.com', PHONE: '+14155552671', Mobile: '555-1234', ssn: '123456789', intl: 447911123456 } });

    // Act
    const job = buildWebhookJob(body as unknown as WebhookEvent);

    // Assess
    expect(job.record.attributes).toEqual({ Mobile: '***-***-****', ssn: '***-**-****', intl: '***-***-****' });
  });
});
