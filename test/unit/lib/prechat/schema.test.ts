import { describe, expect, it } from 'vitest';
import { validatePrechatBody } from '#lib/prechat';

const CONVERSATION = '0b7a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
const PARTICIPANT = '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const ids = { conversationId: CONVERSATION, participantId: PARTICIPANT };

describe('POST /prechat/enrich body', () => {
  it.each([
    ['an email', { ...ids, surveyAnswers: { email: 'jane@example.com' } }],
    ['a phone', { ...ids, surveyAnswers: { phone: '+44 20 7946 0958' } }],
    ['everything', { ...ids, surveyAnswers: { email: 'jane@example.com', phone: '555-123-4567', subject: 'Billing', priority: 'high' } }],
  ])('accepts %s', (_case, body) => {
    expect(validatePrechatBody(body)).toEqual({ ok: true, value: body });
  });

  it('answers the ids lower-cased (Genesys ids are lower-case UUIDs)', () => {
    // Act
    const result = validatePrechatBody({ conversationId: CONVERSATION.toUpperCase(), participantId: PARTICIPANT.toUpperCase(), surveyAnswers: { email: 'jane@example.com' } });

    // Assess
    expect(result).toEqual({ ok: true, value: { ...ids, surveyAnswers: { email: 'jane@example.com' } } });
  });

  it('counts an empty answer as not given (a Data Action renders an unset input as "")', () => {
    // Act
    const result = validatePrechatBody({ ...ids, surveyAnswers: { email: '', phone: '555-123-4567', subject: '', priority: '' } });

    // Assess
    expect(result).toEqual({ ok: true, value: { ...ids, surveyAnswers: { phone: '555-123-4567' } } });
  });

  it.each([
    ['neither email nor phone', { ...ids, surveyAnswers: { subject: 'Hi' } }, [{ path: '/surveyAnswers', message: 'must include email or phone' }]],
    ['an empty email and an empty phone', { ...ids, surveyAnswers: { email: '', phone: '' } }, [{ path: '/surveyAnswers', message: 'must include email or phone' }]],
    ['no conversation id', { participantId: PARTICIPANT, surveyAnswers: { email: 'jane@example.com' } }, [{ path: '/conversationId', message: 'is required' }]],
    ['no participant id', { conversationId: CONVERSATION, surveyAnswers: { email: 'jane@example.com' } }, [{ path: '/participantId', message: 'is required' }]],
    ['a conversation id that is not a UUID', { ...ids, conversationId: 'conv-1', surveyAnswers: { email: 'jane@example.com' } }, [{ path: '/conversationId', message: 'must be a UUID' }]],
    ['a participant id that is a URN', { ...ids, participantId: `urn:uuid:${PARTICIPANT}`, surveyAnswers: { email: 'jane@example.com' } }, [{ path: '/participantId', message: 'must NOT have more than 36 characters' }]],
    ['a participant id that is a path', { ...ids, participantId: '../../../../users/me', surveyAnswers: { email: 'jane@example.com' } }, [{ path: '/participantId', message: 'must be a UUID' }]],
    ['an id that is not text', { ...ids, conversationId: 42, surveyAnswers: { email: 'jane@example.com' } }, [{ path: '/conversationId', message: 'must be string' }]],
    ['no survey', { ...ids }, [{ path: '/surveyAnswers', message: 'is required' }]],
    ['an unknown survey answer', { ...ids, surveyAnswers: { email: 'jane@example.com', ssn: '123-45-6789' } }, [{ path: '/surveyAnswers/ssn', message: 'is not an allowed property' }]],
    ['an invalid email', { ...ids, surveyAnswers: { email: 'jane' } }, [{ path: '/surveyAnswers/email', message: 'must match format "email"' }]],
    ['a subject that is not text', { ...ids, surveyAnswers: { email: 'jane@example.com', subject: 42 } }, [{ path: '/surveyAnswers/subject', message: 'must be string' }]],
    ['a priority with spaces', { ...ids, surveyAnswers: { email: 'jane@example.com', priority: 'very high' } }, [{ path: '/surveyAnswers/priority', message: 'must match pattern "^[A-Za-z0-9_-]{1,32}$"' }]],
    ['an unknown top-level property (the old session token)', { ...ids, surveyAnswers: { email: 'jane@example.com' }, sessionToken: 'wm-1' }, [{ path: '/sessionToken', message: 'is not an allowed property' }]],
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
    const result = validatePrechatBody({ ...ids, surveyAnswers: { email: 'jane@example.com', subject } });

    // Assess
    expect(result).toEqual({ ok: false, errors: [{ path: '/surveyAnswers/subject', message: expect.stringContaining(codePoint) }] });
  });

  it('accepts a subject with line breaks, tabs and emoji', () => {
    // Prepare
    const body = { ...ids, surveyAnswers: { email: 'jane@example.com', subject: 'Line 1\nLine 2\t🌷' } };

    // Assess
    expect(validatePrechatBody(body)).toEqual({ ok: true, value: body });
  });
});
