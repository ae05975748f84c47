import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signPayload } from '#lib/webhook';
import { verifySignature } from '#lib/webhook/signature.ts';

const CURRENT = 'current-signing-secret';
const PREVIOUS = 'previous-signing-secret';
const BODY = Buffer.from('{"event":"guest.session.attributes.updated","sessionId":"3f6c1d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f"}');
const hmac = (secret: string, body: Buffer, encoding: 'base64' | 'hex' | 'base64url') =>
  createHmac('sha256', secret).update(body).digest(encoding);

describe('signPayload', () => {
  it('is sha256= and the base64 HMAC-SHA256 of the raw body (not hex)', () => {
    // Act
    const header = signPayload(CURRENT, BODY);

    // Assess
    expect(header).toBe(`sha256=${hmac(CURRENT, BODY, 'base64')}`);
  });
});

describe('verifySignature', () => {
  describe.each([
    ['the current secret', signPayload(CURRENT, BODY), 'current'],
    ['the previous secret', signPayload(PREVIOUS, BODY), 'previous'],
    ['surrounding whitespace', `  ${signPayload(CURRENT, BODY)} `, 'current'],
    ['unpadded base64', signPayload(CURRENT, BODY).replace(/=+$/, ''), 'current'],
    ['the URL-safe alphabet', `sha256=${hmac(CURRENT, BODY, 'base64url')}`, 'current'],
  ])('a signature made with %s', (_case, header, expected) => {
    it(`matches the ${expected} version`, () => {
      // Act
      const match = verifySignature(header, BODY, [CURRENT, PREVIOUS]);

      // Assess
      expect(match).toBe(expected);
    });
  });

  describe.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['another secret', signPayload('attacker-secret', BODY)],
    ['a hex digest', `sha256=${hmac(CURRENT, BODY, 'hex')}`],
    ['no sha256= prefix', hmac(CURRENT, BODY, 'base64')],
    ['another algorithm prefix', `sha1=${hmac(CURRENT, BODY, 'base64')}`],
    ['a truncated digest', signPayload(CURRENT, BODY).slice(0, 30)],
    ['a digest with one character changed', signPayload(CURRENT, BODY).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))],
    ['a signature of other bytes', signPayload(CURRENT, Buffer.concat([BODY, Buffer.from(' ')]))],
    ['garbage', 'sha256=!!!!'],
  ])('%s', (_case, header) => {
    it('matches nothing', () => {
      // Act
      const match = verifySignature(header, BODY, [CURRENT, PREVIOUS]);

      // Assess
      expect(match).toBeUndefined();
    });
  });

  it('checks the exact bytes: the same JSON re-serialised does not verify', () => {
    // Prepare
    const header = signPayload(CURRENT, BODY);
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(BODY.toString()), null, 1));

    // Act
    const match = verifySignature(header, reserialised, [CURRENT]);

    // Assess
    expect(match).toBeUndefined();
  });

  it('accepts nothing when no secret is known', () => {
    // Act
    const match = verifySignature(signPayload(CURRENT, BODY), BODY, []);

    // Assess
    expect(match).toBeUndefined();
  });
});
