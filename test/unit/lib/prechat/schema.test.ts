import { describe, expect, it } from 'vitest';
import { validatePrechatBody } from '#lib/prechat';

describe('POST /prechat/enrich body', () => {
  it.each([
    ['an email', { surveyAnswers: { email: 'jane@example.com' }, sessionToken: 'wm-1' }],
    ['a phone', { surveyAnswers: { phone: '+44 20 7946 0958' }, sessionToken: 'wm-1' }],
    ['everything', { surveyAnswers: { email: 'jane@example.com', phone: '555-123-4567', subject: 'Billing', priority: 'high' }, sessionToken: 'abc.DEF-123_~' }],
  ])('accepts %s', (_case, body) => {
    expect(validatePrechatBody(body)).toEqual({ ok: true, value: body });
  });

  it.each([
    ['neither email nor phone', { surveyAnswers: { subject: 'Hi' }, sessionToken: 'wm-1' }, [{ path: '/surveyAnswers', message: 'must include email or phone' }]],
    ['no session token', { surveyAnswers: { email: 'jane@example.com' } }, [{ path: '/sessionToken', message: 'is required' }]],
    ['an empty session token', { surveyAnswers: { email: 'jane@example.com' }, sessionToken: '' }, [{ path: '/sessionToken', message: 'must NOT have fewer than 1 characters' }]],
    ['no survey', { sessionToken: 'wm-1' }, [{ path: '/surveyAnswers', message: 'is required' }]],
    ['an unknown survey answer', { surveyAnswers: { email: 'jane@example.com', ssn: '123-45-6789' }, sessionToken: 'wm-1' }, [{ path: '/surveyAnswers/ssn', message: 'is not an allowed property' }]],
    ['an invalid email', { surveyAnswers: { email: 'jane' }, sessionToken: 'wm-1' }, [{ path: '/surveyAnswers/email', message: 'must match format "email"' }]],
    ['a subject that is not text', { surveyAnswers: { email: 'jane@example.com', subject: 42 }, sessionToken: 'wm-1' }, [{ path: '/surveyAnswers/subject', message: 'must be string' }]],
    ['a priority with spaces', { surveyAnswers: { email: 'jane@example.com', priority: 'very high' }, sessionToken: 'wm-1' }, [{ path: '/surveyAnswers/priority', message: 'must match pattern "^[A-Za-z0-9_-]{1,32}$"' }]],
    ['an unknown top-level property', { surveyAnswers: { email: 'jane@example.com' }, sessionToken: 'wm-1', queue: 'vip' }, [{ path: '/queue', message: 'is not an allowed property' }]],
  ])('refuses %s', (_case, body, errors) => {
    expect(validatePrechatBody(body)).toEqual({ ok: false, errors });
  });
});

describe('POST /prechat/enrich body: what no hop can carry', () => {
  it.each([
    ['NUL in the subject', 'Billing\u0000', 'U+0000'],
    ['an escape character in the subject', '\u001b[31mred', 'U+001B'],
    ['a lone surrogate in the subject', 'Hi \ud83d', 'U+D83D'],
    ['U+FFFF in the subject', 'Hi\uffff', 'U+FFFF'],
  ])('refuses %s with a 400 naming the answer', (_case, subject, codePoint) => {
    // Act
    const result = validatePrechatBody({ surveyAnswers: { email: 'jane@example.com', subject }, sessionToken: 'wm-1' });

    // Assess
    expect(result).toEqual({ ok: false, errors: [{ path: '/surveyAnswers/subject', message: expect.stringContaining(codePoint) }] });
  });

  it('accepts a subject with line breaks, tabs and emoji', () => {
    // Prepare
    const body = { surveyAnswers: { email: 'jane@example.com', subject: 'Line 1\nLine 2\t🌷' }, sessionToken: 'wm-1' };

    // Assess
    expect(validatePrechatBody(body)).toEqual({ ok: true, value: body });
  });
});
