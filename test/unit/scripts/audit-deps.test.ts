import { describe, expect, it } from 'vitest';
import { judgeAudit } from '#scripts/audit-deps.ts';

const report = (counts: Record<string, number>, vulnerabilities: Record<string, unknown> = {}) =>
  JSON.stringify({ auditReportVersion: 2, vulnerabilities, metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, ...counts } } });

describe('judgeAudit', () => {
  describe.each<[string, string, string]>([
    ['a report without advisories', report({}), 'clean'],
    ['a report with moderate advisories only', report({ moderate: 2 }), 'clean'],
    ['a report with a high advisory', report({ high: 1 }, { undici: { name: 'undici', severity: 'high' } }), 'findings'],
    ['a report with a critical advisory', report({ critical: 1 }, { jose: { name: 'jose', severity: 'critical' } }), 'findings'],
    ['the registry refusing the bulk endpoint (405)', JSON.stringify({ message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk', statusCode: 405 }), 'unavailable'],
    ['no network', JSON.stringify({ error: { code: 'ENOTFOUND', summary: 'request to https://registry.npmjs.org failed, reason: getaddrinfo ENOTFOUND' } }), 'unavailable'],
    ['no JSON at all', 'npm ERR! something', 'error'],
  ])('for %s', (_case, stdout, kind) => {
    it(`is ${kind}`, () => {
      // Act
      const verdict = judgeAudit(stdout);

      // Assess
      expect(verdict.kind).toBe(kind);
    });
  });

  it('names the high and critical packages only', () => {
    // Prepare
    const stdout = report({ high: 1, critical: 1, low: 1 }, {
      b: { name: 'b', severity: 'critical' },
      a: { name: 'a', severity: 'high' },
      c: { name: 'c', severity: 'low' },
    });

    // Act
    const verdict = judgeAudit(stdout);

    // Assess
    expect(verdict).toEqual({ kind: 'findings', counts: expect.any(Object), packages: [{ name: 'a', severity: 'high' }, { name: 'b', severity: 'critical' }] });
  });
});
