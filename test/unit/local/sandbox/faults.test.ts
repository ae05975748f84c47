import { describe, expect, it } from 'vitest';
import { FaultEngine, FaultRuleError, parseFaultRules } from '#local/sandbox/index.ts';

const target = (operation: string, path = '/api/v2/x', method = 'GET') => ({ operation, path, method });

describe('FaultEngine', () => {
  it('hands out rules in order and moves on once one is used up', () => {
    // Prepare
    const engine = new FaultEngine();
    const [first, second] = engine.add([
      { operation: 'getExternalcontactsContact', status: 500, times: 1 },
      { operation: 'getExternalcontactsContact', status: 503, times: 1 },
    ]);

    // Act
    const taken = [engine.take(target('getExternalcontactsContact'))?.id, engine.take(target('getExternalcontactsContact'))?.id, engine.take(target('getExternalcontactsContact'))];

    // Assess
    expect(taken).toEqual([first?.id, second?.id, undefined]);
  });

  it('skips the first matches with afterCount and ignores other operations', () => {
    // Prepare
    const engine = new FaultEngine();
    engine.add([{ operation: 'token', status: 500, afterCount: 2, times: 1 }]);

    // Act
    const other = engine.take(target('getExternalcontactsContact'));
    const results = [1, 2, 3, 4].map(() => engine.take(target('token'))?.status);

    // Assess
    expect(other).toBeUndefined();
    expect(results).toEqual([undefined, undefined, 500, undefined]);
    expect(engine.list()[0]).toMatchObject({ matched: 3, applied: 1 });
  });

  it('matches method case-insensitively and paths by prefix or by a ^regex', () => {
    // Prepare
    const engine = new FaultEngine();
    engine.add([
      { method: 'put', path: '/api/v2/externalcontacts/', status: 502 },
      { path: '^/customers$', status: 504 },
    ]);

    // Act
    const prefix = engine.take(target('putExternalcontactsContact', '/api/v2/externalcontacts/contacts/x', 'PUT'));
    const wrongMethod = engine.take(target('getExternalcontactsContact', '/api/v2/externalcontacts/contacts/x', 'GET'));
    const regex = engine.take(target('lookupCustomers', '/customers'));
    const regexMiss = engine.take(target('lookupCustomers', '/customers/1'));

    // Assess
    expect(prefix?.status).toBe(502);
    expect(wrongMethod).toBeUndefined();
    expect(regex?.status).toBe(504);
    expect(regexMiss).toBeUndefined();
  });

  it.each([
    ['an unknown field', { rules: [{ status: 500, tmes: 1 }] }],
    ['no effect', { rules: [{ operation: 'token' }] }],
    ['a bad regex', { rules: [{ path: '^(', status: 500 }] }],
    ['a zero times', { rules: [{ status: 500, times: 0 }] }],
    ['no rules array', { rule: [] }],
  ])('rejects %s', (_case, body) => {
    // Act
    const parse = () => parseFaultRules(body);

    // Assess
    expect(parse).toThrow(FaultRuleError);
  });
});
