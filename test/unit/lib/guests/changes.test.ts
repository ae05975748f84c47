import { describe, expect, it } from 'vitest';
import { applyChanges, changedFieldNames, changesFromBody, createGuestFields, minimiseOriginPage, type GuestChanges } from '#lib/guests/changes.ts';
import type { GuestFields } from '#lib/guests/contact.ts';
import { hashIdentifier } from '#lib/identity/hash.ts';

const SALT = 'unit-test-salt';

describe('changesFromBody', () => {
  it('hashes email and phone with the salt and keeps nothing raw', () => {
    // Act
    const { changes, identity } = changesFromBody(
      { consent: { marketing: true, dataProcessing: true }, email: '  Jane.Doe@Example.com ', phone: '+1 (555) 123-4567' },
      SALT,
    );

    // Assess
    expect(changes.identityAttributes).toEqual({
      emailHash: hashIdentifier('email', 'jane.doe@example.com', SALT),
      phoneHash: hashIdentifier('phone', '+15551234567', SALT),
    });
    expect(changes.identityAttributes?.emailHash).toMatch(/^[0-9a-f]{64}$/);
    expect(identity.resolutionMethod).toBe('email');
    expect(JSON.stringify(changes)).not.toMatch(/jane|example|555/i);
  });

  describe.each([
    ['email only', { email: 'a@b.co' }, 'email'],
    ['phone only', { phone: '555-123-4567' }, 'phone'],
    ['neither', {}, 'unknown'],
  ])('resolution method with %s', (_case, identifiers, method) => {
    it(`is ${method}`, () => {
      expect(changesFromBody({ consent: { marketing: false, dataProcessing: true }, ...identifiers }, SALT).identity.resolutionMethod).toBe(method);
    });
  });

  it('keeps ready hashes (lower-cased) and the device fingerprint', () => {
    // Act
    const { changes } = changesFromBody({ identityAttributes: { emailHash: 'AB'.repeat(32), deviceFingerprint: 'fp-1' } }, SALT);

    // Assess
    expect(changes.identityAttributes).toEqual({ emailHash: 'ab'.repeat(32), deviceFingerprint: 'fp-1' });
  });

  it('masks identifiers in attribute values and names the masked keys', () => {
    // Act
    const { changes, maskedKeys } = changesFromBody(
      { attributes: { note: 'call me on 555-123-4567', contact: 'jane@example.com', tier: 'gold', visits: 2 } },
      SALT,
    );

    // Assess
    expect(changes.attributes).toEqual({ note: 'call me on ***-***-****', contact: '****************', tier: 'gold', visits: 2 });
    expect(maskedKeys.sort()).toEqual(['contact', 'note']);
  });

  it('drops the origin page query string and fragment', () => {
    // Act
    const { changes } = changesFromBody({ channelContext: { originPage: 'https://shop.example.com/help/returns?email=jane@example.com#top', campaignId: 'SPRING' } }, SALT);

    // Assess
    expect(changes.channelContext).toEqual({ originPage: 'https://shop.example.com/help/returns', campaignId: 'SPRING' });
  });
});

describe('minimiseOriginPage', () => {
  it.each([
    ['https://example.com', 'https://example.com/'],
    ['https://example.com/a/b?x=1', 'https://example.com/a/b'],
    ['HTTP://Example.com:8080/p#frag', 'http://example.com:8080/p'],
    ['https://exa mple.com/p?q=1', 'https://exa mple.com/p'],
  ])('%s -> %s', (input, expected) => {
    expect(minimiseOriginPage(input)).toBe(expected);
  });
});

describe('createGuestFields', () => {
  it('holds consent, hashes, context and attributes only; raw identifiers are gone', () => {
    // Prepare
    const { changes } = changesFromBody({ consent: { marketing: false, dataProcessing: true }, email: 'jane@example.com', attributes: { tier: 'gold' } }, SALT);

    // Act
    const fields = createGuestFields({ marketing: false, dataProcessing: true }, changes);

    // Assess
    expect(Object.keys(fields).sort()).toEqual(['attributes', 'consent', 'identityAttributes']);
    expect(JSON.stringify(fields)).not.toContain('jane');
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an origin page over 200 characters once its query string is gone', { channelContext: { originPage: `https://example.com/${'p'.repeat(190)}?q=1` } }, '/channelContext/originPage'],
    ['attributes whose JSON outgrows the ten long text fields', { attributes: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'.repeat(1000)])) }, '/attributes'],
  ])('refuses %s (400 naming the path): the Genesys schema cannot store it', (_case, body, path) => {
    // Act
    const act = (): unknown => createGuestFields({ marketing: true, dataProcessing: true }, changesFromBody(body, SALT).changes);

    // Assess
    expect(act).toThrow(expect.objectContaining({ status: 400, errors: [expect.objectContaining({ path })] }));
  });

  it('accepts a long origin page whose query string makes it long (only the stored page counts)', () => {
    // Prepare
    const { changes } = changesFromBody({ channelContext: { originPage: `https://example.com/help?${'q'.repeat(1500)}` } }, SALT);

    // Act
    const fields = createGuestFields({ marketing: true, dataProcessing: true }, changes);

    // Assess
    expect(fields.channelContext).toEqual({ originPage: 'https://example.com/help' });
  });
});

describe('changedFieldNames', () => {
  it('names leaves, never values, in a stable order', () => {
    // Act
    const names = changedFieldNames({
      attributes: { tier: 'gold', 'plan.v2': 'x' },
      consent: { marketing: true },
      identityAttributes: { emailHash: 'f'.repeat(64) },
      channelContext: { campaignId: 'X' },
    });

    // Assess
    expect(names).toEqual(['attributes.plan.v2', 'attributes.tier', 'channelContext.campaignId', 'consent.marketing', 'identityAttributes.emailHash']);
  });
});

describe('applyChanges: the caller\'s leaves over the latest guest', () => {
  const latest: GuestFields = {
    consent: { marketing: false, dataProcessing: true },
    identityAttributes: { emailHash: 'e'.repeat(64), phoneHash: 'p'.repeat(64) },
    channelContext: { originPage: 'https://example.com/a', campaignId: 'OLD' },
    attributes: { tier: 'gold', agentNote: 'from another writer' },
  };

  it.each<[string, GuestChanges, Record<string, unknown>]>([
    ['one consent flag keeps the other', { consent: { marketing: true } }, { consent: { marketing: true, dataProcessing: true } }],
    ['a new phone hash keeps the email hash', { identityAttributes: { phoneHash: 'n'.repeat(64) } }, { identityAttributes: { emailHash: 'e'.repeat(64), phoneHash: 'n'.repeat(64) } }],
    ['a campaign keeps the origin page', { channelContext: { campaignId: 'NEW' } }, { channelContext: { originPage: 'https://example.com/a', campaignId: 'NEW' } }],
    ['one attribute keeps the others', { attributes: { tier: 'platinum' } }, { attributes: { tier: 'platinum', agentNote: 'from another writer' } }],
    ['a new attribute is added', { attributes: { visits: 3 } }, { attributes: { tier: 'gold', agentNote: 'from another writer', visits: 3 } }],
    ['groups the caller did not touch keep their latest values', {}, {}],
  ])('%s', (_case, changes, expected) => {
    expect(applyChanges(latest, changes)).toEqual({ ...latest, ...expected });
  });

  it('refuses (400) attributes that fit alone but not merged with the guest\'s others', () => {
    // Prepare
    const half = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`a${i}`, 'v'.repeat(950)]));
    const other = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`b${i}`, 'v'.repeat(950)]));

    // Act
    const act = (): unknown => applyChanges({ ...latest, attributes: half }, { attributes: other });

    // Assess
    expect(act).toThrow(expect.objectContaining({ status: 400, errors: [expect.objectContaining({ path: '/attributes' })] }));
  });

  it('starts from empty groups when the guest has none', () => {
    expect(applyChanges({ identityAttributes: {}, consent: { marketing: false, dataProcessing: false }, attributes: {} }, { consent: { marketing: true }, attributes: { a: 1 } })).toEqual({
      identityAttributes: {},
      consent: { marketing: true, dataProcessing: false },
      attributes: { a: 1 },
    });
  });
});

describe('changesFromBody masks as every route does', () => {
  it('masks identifiers written as JSON numbers (prefill always did; guests did not)', () => {
    // Act
    const { changes, maskedKeys } = changesFromBody({ attributes: { callback: 5551234567, intl: 447911123456, visits: 3, total: 1299 } }, SALT);

    // Assess
    expect(changes.attributes).toEqual({ callback: '***-***-****', intl: '***-***-****', visits: 3, total: 1299 });
    expect(maskedKeys.sort()).toEqual(['callback', 'intl']);
  });

  it('masks values under keys that name an identifier whole, in any case', () => {
    // Act
    const { changes } = changesFromBody({ attributes: { Mobile: '555-1234', SSN: '123456789', Email: 'jane@intranet' } }, SALT);

    // Assess
    expect(changes.attributes).toEqual({ Mobile: '***-***-****', SSN: '***-**-****', Email: '*************' });
  });

  it('masks an identifier in the origin page path', () => {
    // Act
    const { changes } = changesFromBody({ channelContext: { originPage: 'https://shop.example.com/users/jane@example.com/orders' } }, SALT);

    // Assess
    expect(changes.channelContext?.originPage).toBe(`https://shop.example.com/users/${'*'.repeat(16)}/orders`);
  });
});

describe('changesFromBody refuses early what the guest schema cannot hold', () => {
  it('an update of an origin page over 200 characters is a 400 before Genesys or the lease is asked', () => {
    // Act
    const act = (): unknown => changesFromBody({ channelContext: { originPage: `https://example.com/${'p'.repeat(200)}` } }, SALT);

    // Assess
    expect(act).toThrow(expect.objectContaining({ status: 400, errors: [expect.objectContaining({ path: '/channelContext/originPage' })] }));
  });
});
