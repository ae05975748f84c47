import { describe, expect, it } from 'vitest';
import { validateCreateGuestBody, validateUpdateGuestBody } from '#lib/guests';

const HASH = 'a'.repeat(64);
const consent = { marketing: false, dataProcessing: true };

describe('POST /guests body', () => {
  describe('accepts minimised bodies', () => {
    it.each([
      ['consent only', { consent }],
      ['email and phone', { consent, email: 'jane@example.com', phone: '+1 (555) 123-4567' }],
      ['a channel context', { consent, channelContext: { originPage: 'https://example.com/support?x=1', campaignId: 'WINTER-2024_A' } }],
      ['ready hashes and a device fingerprint', { consent, identityAttributes: { emailHash: HASH, phoneHash: 'F'.repeat(64), deviceFingerprint: 'd'.repeat(128) } }],
      ['flat attributes', { consent, attributes: { source: 'website', visits: 3, vip: true, 'plan.v2': 'x' } }],
    ])('%s', (_case, body) => {
      // Act
      const result = validateCreateGuestBody(body);

      // Assess
      expect(result).toEqual({ ok: true, value: body });
    });
  });

  describe('refuses what data minimisation forbids, naming each failing path', () => {
    it.each([
      ['an unknown top-level property', { consent, name: 'Jane' }, [{ path: '/name', message: 'is not an allowed property' }]],
      ['missing consent', {}, [{ path: '/consent', message: 'is required' }]],
      ['a missing consent flag', { consent: { marketing: true } }, [{ path: '/consent/dataProcessing', message: 'is required' }]],
      ['a consent flag that is not a boolean', { consent: { marketing: 'yes', dataProcessing: true } }, [{ path: '/consent/marketing', message: 'must be boolean' }]],
      ['an unknown consent flag', { consent: { ...consent, profiling: true } }, [{ path: '/consent/profiling', message: 'is not an allowed property' }]],
      ['a raw email inside identityAttributes', { consent, identityAttributes: { email: 'jane@example.com' } }, [{ path: '/identityAttributes/email', message: 'is not an allowed property' }]],
      ['a hash that is not 64 hex', { consent, identityAttributes: { emailHash: 'abc123' } }, [{ path: '/identityAttributes/emailHash', message: 'must match pattern "^[A-Fa-f0-9]{64}$"' }]],
      ['a 65-character hash', { consent, identityAttributes: { phoneHash: `${HASH}a` } }, [{ path: '/identityAttributes/phoneHash', message: 'must match pattern "^[A-Fa-f0-9]{64}$"' }]],
      ['a device fingerprint over 128 characters', { consent, identityAttributes: { deviceFingerprint: 'd'.repeat(129) } }, [{ path: '/identityAttributes/deviceFingerprint', message: 'must NOT have more than 128 characters' }]],
      ['an origin page that is not a URI', { consent, channelContext: { originPage: 'not a uri' } }, [{ path: '/channelContext/originPage', message: 'must match pattern "^[Hh][Tt][Tt][Pp][Ss]?://"' }, { path: '/channelContext/originPage', message: 'must match format "uri"' }]],
      ['an origin page that is not http(s)', { consent, channelContext: { originPage: 'mailto:jane@example.com' } }, [{ path: '/channelContext/originPage', message: 'must match pattern "^[Hh][Tt][Tt][Pp][Ss]?://"' }]],
      ['a lower-case campaign id', { consent, channelContext: { campaignId: 'winter' } }, [{ path: '/channelContext/campaignId', message: 'must match pattern "^[A-Z0-9_-]+$"' }]],
      ['an unknown channel context field', { consent, channelContext: { referrer: 'x' } }, [{ path: '/channelContext/referrer', message: 'is not an allowed property' }]],
      ['an invalid email', { consent, email: 'jane-at-example' }, [{ path: '/email', message: 'must match format "email"' }]],
      ['a phone with letters', { consent, phone: '555-CALL-NOW' }, [{ path: '/phone', message: expect.stringContaining('must match pattern') }]],
      ['a nested attribute', { consent, attributes: { profile: { tier: 'gold' } } }, [{ path: '/attributes/profile', message: 'must be string,number,boolean' }]],
      ['a null attribute', { consent, attributes: { tier: null } }, [{ path: '/attributes/tier', message: 'must be string,number,boolean' }]],
      ['an attribute name with a space', { consent, attributes: { 'loyalty tier': 'gold' } }, [{ path: '/attributes/loyalty tier', message: 'name must match pattern "^[A-Za-z][A-Za-z0-9_.-]{0,63}$"' }]],
      ['an email and its ready hash together', { consent, email: 'jane@example.com', identityAttributes: { emailHash: HASH } }, [{ path: '/identityAttributes/emailHash', message: 'must not be sent together with email' }]],
      ['a body that is not an object', ['consent'], [{ path: '/', message: 'must be object' }]],
    ])('%s', (_case, body, errors) => {
      // Act
      const result = validateCreateGuestBody(body);

      // Assess
      expect(result).toEqual({ ok: false, errors });
    });
  });

  it('lists every failing path at once', () => {
    // Act
    const result = validateCreateGuestBody({ extra: 1, consent: { marketing: 1 }, channelContext: { campaignId: 'x' } });

    // Assess
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors.map((e) => e.path).sort()).toEqual([
      '/channelContext/campaignId',
      '/consent/dataProcessing',
      '/consent/marketing',
      '/extra',
    ]);
  });

  it('never repeats an identifier in an error, even in a property name', () => {
    // Act
    const result = validateCreateGuestBody({ consent, attributes: { 'jane@example.com': 'x' }, 'jane@example.com': true });

    // Assess
    expect(JSON.stringify(result)).not.toContain('jane@example.com');
  });

  it('allows at most 100 attributes', () => {
    // Prepare
    const attributes = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`a${i}`, i]));

    // Act
    const result = validateCreateGuestBody({ consent, attributes });

    // Assess
    expect(result).toEqual({ ok: false, errors: [{ path: '/attributes', message: 'must NOT have more than 100 properties' }] });
  });
});

describe('PATCH /guests/{guestId} body', () => {
  it.each([
    ['one consent flag', { consent: { marketing: true } }],
    ['one attribute', { attributes: { tier: 'gold' } }],
    ['a new phone', { phone: '555-123-4567' }],
  ])('accepts %s', (_case, body) => {
    expect(validateUpdateGuestBody(body)).toEqual({ ok: true, value: body });
  });

  it.each([
    ['an empty body', {}, [{ path: '/', message: 'must NOT have fewer than 1 properties' }]],
    ['an empty consent', { consent: {} }, [{ path: '/consent', message: 'must NOT have fewer than 1 properties' }]],
    ['an unknown property', { id: 'x' }, [{ path: '/id', message: 'is not an allowed property' }]],
    ['a phone and its ready hash', { phone: '555-123-4567', identityAttributes: { phoneHash: HASH } }, [{ path: '/identityAttributes/phoneHash', message: 'must not be sent together with phone' }]],
  ])('refuses %s', (_case, body, errors) => {
    expect(validateUpdateGuestBody(body)).toEqual({ ok: false, errors });
  });
});

describe.each([
  ['POST /guests', validateCreateGuestBody, { consent: { marketing: false, dataProcessing: true } }],
  ['PATCH /guests/{guestId}', validateUpdateGuestBody, {}],
])('%s refuses what no hop can carry', (_route, validate, base) => {
  it.each([
    ['NUL in an attribute value', { attributes: { note: 'a\u0000b' } }, '/attributes/note', 'U+0000'],
    ['a lone surrogate in an attribute value', { attributes: { note: 'x\ud800' } }, '/attributes/note', 'U+D800'],
    ['U+FFFF in the device fingerprint', { identityAttributes: { deviceFingerprint: 'fp\uffff' } }, '/identityAttributes/deviceFingerprint', 'U+FFFF'],
    // The URI format refuses it first; the free-text check would too.
    ['a C1 control in the origin page', { channelContext: { originPage: 'https://example.com/a\u0085b' } }, '/channelContext/originPage', ''],
    ['a key holding a phone number', { attributes: { tier: 'gold', 'tel.555.123.4567': 'x' } }, '/attributes/1', '2nd key'],
    ['a key holding an SSN', { attributes: { 'id-123-45-6789': 'x' } }, '/attributes/0', '1st key'],
    ['keys equal but for case', { attributes: { Tier: 'gold', tier: 'silver' } }, '/attributes/tier', '/attributes/Tier'],
  ])('%s, with a 400 at the right path', (_case, extra, path, text) => {
    // Act
    const result = validate({ ...base, ...extra });

    // Assess
    expect(result).toEqual({ ok: false, errors: [{ path, message: expect.stringContaining(text) }] });
    expect(JSON.stringify(result)).not.toMatch(/555|6789/);
  });
});
